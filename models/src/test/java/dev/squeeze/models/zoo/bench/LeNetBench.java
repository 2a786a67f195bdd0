package dev.squeeze.models.zoo.bench;

import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.DatasetRegistry;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.data.Normalization;
import dev.squeeze.models.data.TrainValSplit;
import dev.squeeze.models.zoo.BuildSettings;
import dev.squeeze.models.zoo.LeNet5;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Training-speed benchmark of lenet-5 on real Fashion-MNIST (the 54,000-image training part of a 10%
 * validation split, normalised, batch 60, Adam): times {@code steps} {@code fit(batch)} calls after
 * {@code warmup} untimed ones and extrapolates to an epoch of 900 steps; {@code steps=900} times a whole
 * epoch. Not a unit test: run by hand (command in BENCHMARKS.md). Set {@code OMP_NUM_THREADS}.
 *
 * <pre>
 * args: [conv=native|dl4j] [format=NCHW|NHWC] [ws=ENABLED|NONE] [cache=NONE|HOST|DEVICE]
 *       [steps=100] [warmup=20] [data=/usr/share/datasets/fashion-mnist]
 * </pre>
 */
public final class LeNetBench {
    public static void main(String[] args) {
        String conv = arg(args, "conv", "native");
        CNN2DFormat format = CNN2DFormat.valueOf(arg(args, "format", "NCHW"));
        WorkspaceMode ws = WorkspaceMode.valueOf(arg(args, "ws", "ENABLED"));
        CacheMode cache = CacheMode.valueOf(arg(args, "cache", "NONE"));
        int steps = Integer.parseInt(arg(args, "steps", "100"));
        int warmup = Integer.parseInt(arg(args, "warmup", "20"));
        Path data = Path.of(arg(args, "data", "/usr/share/datasets/fashion-mnist"));
        int batch = 60;

        LabeledData all = DatasetLoader.read(DatasetRegistry.get(DatasetRegistry.FASHION_MNIST), data).train();
        TrainValSplit split = TrainValSplit.carve(all, TrainValSplit.DEFAULT_VALIDATION_FRACTION, 42);
        LabeledData train = Normalization.global(split.train()).apply(split.train());
        List<DataSet> batches = new ArrayList<>();
        for (int from = 0; from + batch <= train.size(); from += batch) batches.add(train.toDataSet(null, from, from + batch));

        var options = new LeNet5.Options(conv.equals("native"), format, ws, cache);
        var settings = new BuildSettings(42, 1e-3, new long[]{1, 28, 28}, 10);
        MultiLayerNetwork net = new MultiLayerNetwork(new LeNet5().configuration(settings, options));
        net.init();

        int b = 0;
        for (int i = 0; i < warmup; i++) net.fit(batches.get(b++ % batches.size()));
        var threadBean = java.lang.management.ManagementFactory.getThreadMXBean();
        long c0 = threadBean.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) net.fit(batches.get(b++ % batches.size()));
        double ms = (System.nanoTime() - t0) / 1e6 / steps;
        // with one OpenMP thread the native ops run on this thread: its CPU time is the work without the
        // waiting that other processes on a shared machine add to the wall time
        double cpuMs = (threadBean.getCurrentThreadCpuTime() - c0) / 1e6 / steps;
        System.out.printf("RESULT conv=%s format=%s ws=%s cache=%s OMP_NUM_THREADS=%s steps=%d (of %d per epoch): "
                        + "%.2f ms/step, %.1f s/epoch (main-thread CPU %.2f ms/step), last score %.4f%n",
                conv, format, ws, cache, System.getenv("OMP_NUM_THREADS"), steps, batches.size(), ms,
                ms * batches.size() / 1000, cpuMs, net.score());
    }

    private static String arg(String[] args, String key, String def) {
        for (String a : args) if (a.startsWith(key + "=")) return a.substring(key.length() + 1);
        return def;
    }
}
