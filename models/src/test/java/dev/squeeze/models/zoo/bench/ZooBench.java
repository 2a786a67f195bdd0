package dev.squeeze.models.zoo.bench;

import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.DatasetRegistry;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.data.Normalization;
import dev.squeeze.models.data.TrainValSplit;
import dev.squeeze.models.zoo.BuildSettings;
import dev.squeeze.models.zoo.ModelZoo;
import dev.squeeze.models.zoo.Network;
import dev.squeeze.models.zoo.ResNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Training-speed benchmark of any zoo model on real Fashion-MNIST (the 54,000-image training part of a 10% validation
 * split, normalised, Adam): times {@code steps} {@code fit(batch)} calls after {@code warmup} untimed ones and
 * extrapolates to an epoch. Reports wall time and this thread's CPU time per step (with one OpenMP thread the native
 * ops run on it, so CPU time is the work without the waiting other processes add). Run by hand; set
 * {@code OMP_NUM_THREADS}.
 *
 * <pre>
 * args: [model=resnet-8] [batch=60] [steps=50] [warmup=10] [data=/usr/share/datasets/fashion-mnist]
 *       [bn=native|dl4j]   (resnet models: the zoo's native batch norm, or DL4J's own to measure against)
 * </pre>
 */
public final class ZooBench {
    public static void main(String[] args) {
        String model = arg(args, "model", "resnet-8");
        int batch = Integer.parseInt(arg(args, "batch", "60"));
        int steps = Integer.parseInt(arg(args, "steps", "50"));
        int warmup = Integer.parseInt(arg(args, "warmup", "10"));
        Path data = Path.of(arg(args, "data", "/usr/share/datasets/fashion-mnist"));
        boolean nativeBn = switch (arg(args, "bn", "native")) {
            case "native" -> true;
            case "dl4j" -> false;
            default -> throw new IllegalArgumentException("bn must be native or dl4j");
        };

        LabeledData all = DatasetLoader.read(DatasetRegistry.get(DatasetRegistry.FASHION_MNIST), data).train();
        TrainValSplit split = TrainValSplit.carve(all, TrainValSplit.DEFAULT_VALIDATION_FRACTION, 42);
        LabeledData train = Normalization.global(split.train()).apply(split.train());
        List<DataSet> batches = new ArrayList<>();
        for (int from = 0; from + batch <= train.size(); from += batch) batches.add(train.toDataSet(null, from, from + batch));

        BuildSettings settings = new BuildSettings(42, 1e-3, new long[]{1, 28, 28}, 10);
        Network net;
        if (ModelZoo.get(model) instanceof ResNet resNet) {
            ComputationGraph graph = new ComputationGraph(resNet.configuration(settings, nativeBn));
            graph.init();
            net = Network.of(graph);
        } else if (!nativeBn) {
            throw new IllegalArgumentException("bn=dl4j applies to the resnet models");
        } else {
            net = ModelZoo.get(model).build(settings);
        }
        int b = 0;
        for (int i = 0; i < warmup; i++) net.fit(batches.get(b++ % batches.size()));
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long c0 = threads.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) net.fit(batches.get(b++ % batches.size()));
        double ms = (System.nanoTime() - t0) / 1e6 / steps;
        double cpuMs = (threads.getCurrentThreadCpuTime() - c0) / 1e6 / steps;
        System.out.printf("RESULT model=%s bn=%s batch=%d OMP_NUM_THREADS=%s steps=%d (of %d per epoch): %.2f ms/step, "
                        + "%.1f s/epoch (main-thread CPU %.2f ms/step, %.1f s/epoch), last score %.4f%n",
                model, nativeBn ? "native" : "dl4j", batch, System.getenv("OMP_NUM_THREADS"), steps, batches.size(), ms, ms * batches.size() / 1000,
                cpuMs, cpuMs * batches.size() / 1000, net.score());
    }

    private static String arg(String[] args, String key, String def) {
        for (String a : args) if (a.startsWith(key + "=")) return a.substring(key.length() + 1);
        return def;
    }
}
