package dev.squeeze.serve.bench;

import dev.squeeze.serve.runtime.HostTensor;
import dev.squeeze.serve.runtime.LoadedModel;
import dev.squeeze.serve.runtime.ModelConfig;
import dev.squeeze.serve.runtime.TensorSpec;
import dev.squeeze.serve.runtime.TensorType;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * Why two in-process measurements of one file disagreed 3-9x (issue 18): the ways of calling one ONNX Runtime session
 * that {@code OnnxBench} (removed), {@link ModelBenchmark} before and after issue 18 and the server use, measured in
 * one JVM, interleaved (the order reversed every other round), on Fashion-MNIST test images, with the minor page
 * faults and garbage collections during each. Prints Markdown: medians over the rounds.
 * <pre>
 * ./mvnw -B -o -q -pl serve -am test-compile
 * java -cp "$(ls cli/target/dist/current/lib/onnxruntime-*.jar):serve/target/classes:serve/target/test-classes" \
 *   dev.squeeze.serve.bench.InProcessVariants MODEL.onnx [BATCHES=1,256] [ROUNDS=9] [WINDOW_MS=500]
 * </pre>
 * A timing program, not a test: it asserts nothing and runs only when called.
 */
public final class InProcessVariants {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    private static final String IMAGES = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";

    private InProcessVariants() {
    }

    /** One way of making a call. */
    private interface Call {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int[] batches = Arrays.stream((args.length > 1 ? args[1] : "1,256").split(",")).mapToInt(Integer::parseInt).toArray();
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 9;
        long windowMs = args.length > 3 ? Long.parseLong(args[3]) : 500;
        byte[] pixels;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(Path.of(IMAGES)))) {
            pixels = in.readAllBytes();
        }
        System.out.println("| batch | call | p50 µs (rounds' min-max) | p99 µs | samples/s | minor page faults per call | GCs |");
        System.out.println("|---:|---|---:|---:|---:|---:|---:|");
        try (LoadedModel model = LoadedModel.load("m", 1, file, new ModelConfig(1, 0, 1));
             OrtSession twoThreads = session(file, 2)) {
            TensorSpec input = model.spec().inputs().get(0);
            String probabilities = model.spec().outputs().stream().map(TensorSpec::name)
                    .filter(n -> n.equals("probabilities")).findFirst().orElse(model.spec().outputs().get(0).name());
            for (int batch : batches) {
                long[] shape = input.shape().clone();
                shape[0] = batch;
                int perRow = Math.toIntExact(HostTensor.elementCount(Arrays.copyOfRange(shape, 1, shape.length)));
                float[] x = new float[perRow * batch];
                for (int i = 0; i < x.length; i++) x[i] = pixels[16 + i % (10_000 * 784)] & 0xff;
                HostTensor host = new HostTensor(input.name(), TensorType.FP32, shape, x);
                OnnxTensor prebuilt = host.toOnnx(ENV);
                Map<String, OnnxTensor> feed = Map.of(input.name(), prebuilt);
                ModelBenchmark.Caller reference = new ModelBenchmark.Caller(model.session(), List.of(host));
                OrtSession one = model.session();

                Map<String, Call> calls = new LinkedHashMap<>();
                calls.put("session.run alone, input tensor made once (ModelBenchmark before issue 18)",
                        () -> one.run(feed).close());
                calls.put("new tensor over FloatBuffer.wrap(float[]), run for one output, getValue() as float[][] "
                        + "(OnnxBench's OnnxRuntimeModel.run)", () -> onnxBench(one, input.name(), x, shape, probabilities));
                calls.put("the same at 2 intra-op threads (OnnxBench's second row)",
                        () -> onnxBench(twoThreads, input.name(), x, shape, probabilities));
                calls.put("new tensor over FloatBuffer.wrap(float[]), run, every output read (LoadedModel.run, the "
                        + "server's call)", () -> model.run(List.of(host), Set.of()));
                calls.put("tensor over the caller's reused direct buffer, run, every output read (ModelBenchmark "
                        + "since issue 18: the reference)", reference::call);
                measure(batch, calls, rounds, windowMs);
                prebuilt.close();
            }
        }
    }

    private static void onnxBench(OrtSession session, String input, float[] x, long[] shape, String output) throws Exception {
        try (OnnxTensor t = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), shape);
             OrtSession.Result r = session.run(Map.of(input, t), Set.of(output))) {
            if (!(r.get(0).getValue() instanceof float[][])) throw new IllegalStateException("not a matrix");
        }
    }

    private static OrtSession session(Path file, int threads) throws Exception {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            o.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            return ENV.createSession(file.toString(), o);
        }
    }

    private static void measure(int batch, Map<String, Call> calls, int rounds, long windowMs) throws Exception {
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        for (String k : calls.keySet()) results.put(k, new ArrayList<>());
        for (int r = 0; r < rounds; r++) {
            List<String> order = new ArrayList<>(calls.keySet());
            if (r % 2 == 1) Collections.reverse(order);
            for (String k : order) {
                Call c = calls.get(k);
                long warm = System.nanoTime() + 200_000_000L;
                while (System.nanoTime() < warm) c.run();
                long faults = minorFaults();
                long gcs = collections();
                long[] nanos = new long[1 << 16];
                int n = 0;
                long start = System.nanoTime();
                long now = start;
                while (now - start < windowMs * 1_000_000L) {
                    long t = System.nanoTime();
                    c.run();
                    now = System.nanoTime();
                    if (n == nanos.length) nanos = Arrays.copyOf(nanos, n * 2);
                    nanos[n++] = now - t;
                }
                long[] sorted = Arrays.copyOf(nanos, n);
                Arrays.sort(sorted);
                results.get(k).add(new double[]{sorted[n / 2] / 1e3, sorted[(int) Math.ceil(0.99 * n) - 1] / 1e3,
                        n * (double) batch / ((now - start) / 1e9), (minorFaults() - faults) / (double) n, collections() - gcs});
            }
        }
        for (Map.Entry<String, List<double[]>> e : results.entrySet()) {
            List<double[]> v = e.getValue();
            System.out.printf(Locale.ROOT, "| %d | %s | %.1f (%.1f-%.1f) | %.1f | %,.0f | %.2f | %.0f |%n", batch, e.getKey(),
                    median(v, 0), min(v, 0), max(v, 0), median(v, 1), median(v, 2), median(v, 3), v.stream().mapToDouble(d -> d[4]).sum());
        }
    }

    private static double median(List<double[]> rows, int column) {
        double[] s = rows.stream().mapToDouble(d -> d[column]).sorted().toArray();
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double min(List<double[]> rows, int column) {
        return rows.stream().mapToDouble(d -> d[column]).min().orElse(Double.NaN);
    }

    private static double max(List<double[]> rows, int column) {
        return rows.stream().mapToDouble(d -> d[column]).max().orElse(Double.NaN);
    }

    /** This process's minor page faults so far (Linux: field 10 of /proc/self/stat), -1 elsewhere. */
    private static long minorFaults() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[7]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static long collections() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) n += Math.max(0, gc.getCollectionCount());
        return n;
    }
}
