package dev.squeeze.serve.bench;

import dev.squeeze.core.ExportProvenance;
import dev.squeeze.core.Sha256;
import dev.squeeze.serve.runtime.BadRequestException;
import dev.squeeze.serve.runtime.HostTensor;
import dev.squeeze.serve.runtime.LoadedModel;
import dev.squeeze.serve.runtime.ModelConfig;
import dev.squeeze.serve.runtime.ModelSpec;
import dev.squeeze.serve.runtime.RawTensors;
import dev.squeeze.serve.runtime.TensorSpec;
import dev.squeeze.serve.runtime.TensorType;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.core.PackedEntries;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

/**
 * The same measurement for every model variant, in-process (like Triton's perf_analyzer, without the network): file
 * size raw and deflated, parameters and non-zero parameters, latency percentiles at batch 1, throughput at batch 32 and
 * 256, resident memory, and accuracy on a test set through ONNX Runtime; for a model without accuracy that was quantized
 * from a float ONNX file with inputs, its {@link Fidelity} to that file instead.
 *
 * <p>Methodology, per batch size: a warm-up ({@link BenchmarkOptions#warmup()}, excluded), then measurement windows of
 * at least {@link BenchmarkOptions#window()} and {@link BenchmarkOptions#minRunsPerWindow()} calls each, repeated until
 * the last {@value #STABLE_WINDOWS} windows' throughputs each lie within {@link BenchmarkOptions#stabilityPercent()} of
 * their mean ({@link #isStable}), or until {@link BenchmarkOptions#maxWindows()}; then {@code stable=false}. Reported:
 * the median over those last windows of each window's value, and their minimum and maximum as the spread.
 *
 * <p>A timed call is what a Java program embedding ONNX Runtime does per request, the in-process reference the server
 * is compared with: the input arrays copied into the caller's direct buffers (allocated once) and tensors made over
 * them, {@code session.run} for all outputs, every output read back into a Java array, the tensors and results closed.
 * One session per model (optimization level ALL and the intra-op threads of {@link LoadedModel#load}, as the server
 * loads it, inter-op 1), closed afterwards. Batch 1, 32 and 256 are called by one thread; batch 1 also by each
 * {@link BenchmarkOptions#callers()} level of threads at once on the same session, each thread calling again as soon
 * as its call returns (throughput counts every thread's calls; latency percentiles are over all of them).
 *
 * <p>Input data: the test set's first rows when it fits the model (a single FP32 input whose non-batch dimensions are
 * the examples' shape), so accuracy and timing see the same data; otherwise zeros of every declared input type, with a
 * free first dimension set to the batch size and any other free dimension to 1. When the first input dimension is
 * fixed, only that batch size is measured and the batch-32 and -256 results are null.
 *
 * <p>Memory is read from Linux's {@code /proc/self/status}: process-level and approximate (the JVM heap, the garbage
 * collector and other threads move it too), null elsewhere.
 *
 * <p>Stopping: interrupting the measuring thread ends the measurement with a {@link CancellationException} once its
 * caller threads have finished their calls in progress and its session is closed; so whoever stops a server can wait for the thread
 * instead of letting the JVM exit under a call in progress (which crashes inside ONNX Runtime).
 */
public final class ModelBenchmark {
    /** How many final windows must agree for a measurement to be stable. */
    public static final int STABLE_WINDOWS = 3;
    /** Batch sizes measured for throughput. */
    public static final int SMALL_BATCH = 32;
    public static final int LARGE_BATCH = 256;
    /** Rows per ONNX Runtime call when measuring accuracy. */
    public static final int ACCURACY_BATCH = 256;

    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    /**
     * Operators whose inputs at these indices are quantization scales or zero points, not weights: per-tensor ones are
     * scalars anyway, per-channel ones are vectors as long as an output dimension.
     */
    private static final Map<String, Set<Integer>> QUANTIZATION_PARAMETERS = Map.of(
            "QuantizeLinear", Set.of(1, 2),
            "DequantizeLinear", Set.of(1, 2),
            "QLinearConv", Set.of(1, 2, 4, 5, 6, 7),
            "QLinearMatMul", Set.of(1, 2, 4, 5, 6, 7),
            "QLinearAdd", Set.of(1, 2, 4, 5, 6, 7),
            "QGemm", Set.of(1, 2, 4, 5, 7, 8),
            "MatMulInteger", Set.of(2, 3),
            "ConvInteger", Set.of(2, 3));

    private ModelBenchmark() {
    }

    /**
     * Measures one model file.
     *
     * @param name           what to call it in the result (e.g. its variant)
     * @param testSetOrNull  labeled rows for accuracy and as input data; null to feed zeros. Whenever accuracy cannot
     *                       be measured through ONNX Runtime (no test set, one that does not fit the input, no output
     *                       with a class per column), it is taken from the model's export metadata, if it has any
     * @throws BadRequestException  when the file is not ONNX or ONNX Runtime cannot load it
     * @throws dev.squeeze.core.BadInputException when {@code options} break a setting's range
     * @throws UncheckedIOException when the file cannot be read
     * @throws IllegalStateException when a call fails in ONNX Runtime
     * @throws CancellationException when the thread was interrupted (its interrupt status stays set)
     */
    public static BenchmarkResult measure(String name, Path onnxFile, BenchmarkOptions options, LabeledRows testSetOrNull) {
        return measure(name, onnxFile, options, testSetOrNull, Map.of());
    }

    /**
     * {@link #measure(String, Path, BenchmarkOptions, LabeledRows)} of a model measured in a set: when it has no
     * accuracy, its {@link Fidelity} comes from the quantization figures in its provenance or, for a float model that
     * other files of the set were quantized from, from {@code floatReferences}.
     *
     * @param floatReferences {@link Fidelity#references} of the set's files, by the float file's SHA-256
     */
    public static BenchmarkResult measure(String name, Path onnxFile, BenchmarkOptions options, LabeledRows testSetOrNull,
                                          Map<String, Fidelity> floatReferences) {
        BenchmarkOptions.SETTINGS.check(options);   // a program's options get the user's refusal, not a broken measurement
        String timestamp = Instant.now().toString();
        long fileBytes;
        long zippedBytes;
        BenchmarkParameters params;
        String sha256;
        try {
            byte[] bytes = Files.readAllBytes(onnxFile);
            fileBytes = bytes.length;
            sha256 = Sha256.hex(bytes);
            zippedBytes = deflatedSize(bytes);
            params = countParameters(bytes, onnxFile.toAbsolutePath().getParent());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new BadRequestException(name + ": " + onnxFile.getFileName() + " is not an ONNX model: " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + onnxFile + ": " + e.getMessage(), e);
        }

        checkStop(name);
        Long rssBefore = procStatusBytes("VmRSS");
        try (LoadedModel model = LoadedModel.load(name, 1, onnxFile,
                new ModelConfig(1, 0, options.threads()))) {
            ModelSpec spec = model.spec();
            OrtSession session = model.session();
            LabeledRows data = testSetOrNull != null && fits(spec, testSetOrNull) ? testSetOrNull : null;
            int fixedBatch = fixedBatch(spec);

            int smallest = fixedBatch > 0 ? fixedBatch : 1;
            BenchmarkPhase batch1 = phase(session, spec, data, smallest, 1, options);
            List<BenchmarkPhase> concurrent = new ArrayList<>();
            for (int callers : options.callers()) {
                if (callers > 1) concurrent.add(phase(session, spec, data, smallest, callers, options));
            }
            BenchmarkPhase batch32 = fixedBatch > 0 ? null : phase(session, spec, data, SMALL_BATCH, 1, options);
            BenchmarkPhase batch256 = fixedBatch > 0 ? null : phase(session, spec, data, LARGE_BATCH, 1, options);

            Double accuracy = null;
            Integer accuracyExamples = null;
            String accuracySource = null;
            if (data != null) {
                accuracy = accuracy(session, spec, data, fixedBatch > 0 ? fixedBatch : ACCURACY_BATCH);
                if (accuracy != null) {
                    accuracyExamples = data.size();
                    accuracySource = "onnxruntime on " + data.size() + " examples";
                }
            }
            if (accuracy == null) {
                ExportProvenance.AccuracyAtExport exported = exportAccuracy(model.metadata());
                if (exported != null) {
                    accuracy = exported.testAccuracy();
                    accuracyExamples = exported.examples();
                    accuracySource = "export metadata";
                }
            }
            Fidelity fidelity = null;
            if (accuracy == null) {
                fidelity = Fidelity.of(ExportProvenance.read(model.metadata()).orElse(null));
                if (fidelity == null) fidelity = floatReferences.get(sha256);
            }

            Long rssAfter = procStatusBytes("VmRSS");
            Long peak = procStatusBytes("VmHWM");
            boolean stable = batch1.stable() && concurrent.stream().allMatch(BenchmarkPhase::stable)
                    && (batch32 == null || batch32.stable()) && (batch256 == null || batch256.stable());
            return new BenchmarkResult(name, onnxFile.toString(), timestamp, ENV.getVersion(), options.threads(),
                    options.warmup().toMillis(), options.window().toMillis(), options.minRunsPerWindow(),
                    options.maxWindows(), options.stabilityPercent(),
                    fileBytes, zippedBytes, params.parameters(), params.nonZeroParameters(),
                    describe(spec.inputs()), data != null ? "test set" : "zeros",
                    batch1.latencyP50Micros(), batch1.latencyP90Micros(), batch1.latencyP99Micros(),
                    batch32 == null ? null : batch32.throughputSamplesPerSecond(),
                    batch32 == null ? null : batch32.latencyP50Micros(),
                    batch256 == null ? null : batch256.throughputSamplesPerSecond(),
                    batch256 == null ? null : batch256.latencyP50Micros(),
                    stable, batch1, concurrent, batch32, batch256,
                    rssBefore, rssAfter, rssBefore == null || rssAfter == null ? null : rssAfter - rssBefore, peak,
                    accuracy, accuracyExamples, accuracySource, sha256, fidelity);
        } catch (OrtException e) {
            throw new IllegalStateException(name + ": ONNX Runtime failed: " + e.getMessage(), e);
        }
    }

    // ---- statistics -------------------------------------------------------------------------------------------

    /** The median (the mean of the two middle values for an even count); the array is not changed. */
    public static double median(double[] values) {
        if (values.length == 0) throw new IllegalArgumentException("median of no values");
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /**
     * Whether the last {@value #STABLE_WINDOWS} per-window values each lie within {@code stabilityPercent} percent of
     * their mean; false with fewer values.
     */
    public static boolean isStable(double[] perWindow, double stabilityPercent) {
        if (perWindow.length < STABLE_WINDOWS) return false;
        double[] last = Arrays.copyOfRange(perWindow, perWindow.length - STABLE_WINDOWS, perWindow.length);
        double mean = Arrays.stream(last).average().orElseThrow();
        if (!(mean > 0) || !Double.isFinite(mean)) return false;
        for (double v : last) {
            if (Math.abs(v - mean) > mean * stabilityPercent / 100) return false;
        }
        return true;
    }

    /** The nearest-rank percentile ({@code q} in (0, 1]) of sorted values. */
    static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) throw new IllegalArgumentException("percentile of no values");
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
    }

    // ---- timing -----------------------------------------------------------------------------------------------

    /**
     * Measures calls of {@code batch} examples made by {@code callers} threads at once on the one session, each calling
     * again as soon as its call returns (see the class comment for what a call is). The calling thread keeps time and
     * waits for the callers to finish their calls in progress before it returns or throws.
     *
     * @throws CancellationException when the calling thread is interrupted (its interrupt status stays set)
     * @throws IllegalStateException when a call fails in ONNX Runtime
     */
    private static BenchmarkPhase phase(OrtSession session, ModelSpec spec, LabeledRows data, int batch, int callers,
                                        BenchmarkOptions options) {
        checkStop(null);
        List<Caller> all = new ArrayList<>();
        // Each caller starts at its own row, so callers do not all send the same example.
        for (int i = 0; i < callers; i++) all.add(new Caller(session, inputs(spec, data, i, batch)));
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        List<Long> bounds = new ArrayList<>();
        List<Double> throughputs = new ArrayList<>();
        boolean stable = false;
        boolean interrupted = false;
        long runs = 0;
        try {
            for (int i = 0; i < callers; i++) {
                Caller c = all.get(i);
                Thread t = new Thread(() -> c.loop(stop), "squeeze-bench-caller-" + (i + 1));
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
            // Warm-up: its length, and at least one call by every caller.
            long warmupEnd = System.nanoTime() + options.warmup().toNanos();
            boolean failed = false;
            while (!failed && (System.nanoTime() < warmupEnd || all.stream().anyMatch(c -> c.calls() == 0))) {
                failed = !waitFor(all, warmupEnd);
            }
            long windowNanos = options.window().toNanos();
            long done = total(all);
            bounds.add(System.nanoTime());
            for (int w = 0; w < options.maxWindows() && !stable && !failed; w++) {
                long start = bounds.get(bounds.size() - 1);
                long before = done;
                while (!failed && (System.nanoTime() - start < windowNanos || total(all) - before < options.minRunsPerWindow())) {
                    failed = !waitFor(all, start + windowNanos);
                }
                // The count first: every call it includes ended before the window's end is read.
                done = total(all);
                long end = System.nanoTime();
                bounds.add(end);
                runs += done - before;
                throughputs.add((done - before) * (double) batch / ((end - start) / 1e9));
                stable = isStable(throughputs.stream().mapToDouble(Double::doubleValue).toArray(), options.stabilityPercent());
            }
        } catch (InterruptedException e) {
            interrupted = true;
        } finally {
            stop.set(true);
            // Never return (and let the session close) under a call in progress.
            for (Thread t : threads) {
                while (t.isAlive()) {
                    try {
                        t.join();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            throw new CancellationException("benchmark stopped: interrupted");
        }
        for (Caller c : all) {
            if (c.failure != null) {
                throw new IllegalStateException("ONNX Runtime failed: " + c.failure.getMessage(), c.failure);
            }
        }

        // Latencies of the calls that ended in each window, from every caller.
        List<double[]> latencies = new ArrayList<>();
        for (int w = 0; w + 1 < bounds.size(); w++) {
            double[] micros = Caller.latenciesMicros(all, bounds.get(w), bounds.get(w + 1));
            Arrays.sort(micros);
            latencies.add(micros);
        }
        int from = Math.max(0, throughputs.size() - STABLE_WINDOWS);
        double[] tp = throughputs.subList(from, throughputs.size()).stream().mapToDouble(Double::doubleValue).toArray();
        // A call counted in one window may have ended just before its start: a window can lack latencies, never all.
        List<double[]> last = latencies.subList(from, latencies.size()).stream().filter(l -> l.length > 0).toList();
        if (last.isEmpty()) last = latencies.stream().filter(l -> l.length > 0).toList();
        double[] p50 = last.stream().mapToDouble(l -> percentile(l, 0.50)).toArray();
        double[] p90 = last.stream().mapToDouble(l -> percentile(l, 0.90)).toArray();
        double[] p99 = last.stream().mapToDouble(l -> percentile(l, 0.99)).toArray();
        return new BenchmarkPhase(batch, callers, throughputs.size(), stable, runs, throughputs,
                median(tp), Arrays.stream(tp).min().orElseThrow(), Arrays.stream(tp).max().orElseThrow(),
                median(p50), median(p90), median(p99),
                Arrays.stream(p50).min().orElseThrow(), Arrays.stream(p50).max().orElseThrow());
    }

    /** Calls made so far by all callers. */
    private static long total(List<Caller> callers) {
        long n = 0;
        for (Caller c : callers) n += c.calls();
        return n;
    }

    /** Sleeps until {@code until}, at most 1 ms (50 µs when it has passed); false when a caller has failed. */
    private static boolean waitFor(List<Caller> callers, long until) throws InterruptedException {
        for (Caller c : callers) {
            if (c.failure != null) return false;
        }
        long nanos = Math.min(until - System.nanoTime(), 1_000_000L);
        TimeUnit.NANOSECONDS.sleep(nanos > 0 ? nanos : 50_000L);
        return true;
    }

    /**
     * One caller thread of a phase: its inputs as Java arrays, and what a Java program embedding ONNX Runtime does
     * per request with them. A call copies each input into the caller's own direct buffer (allocated once, native
     * byte order) and makes the input tensor over it, which ONNX Runtime reads in place; runs the session for all
     * outputs; and reads every output back into a Java array ({@link HostTensor#fromOnnx}). BYTES inputs, which have
     * no raw form ONNX Runtime takes, are made with {@link HostTensor#toOnnx(OrtEnvironment)}. The server's
     * {@link dev.squeeze.serve.runtime.LoadedModel#run} makes its input tensors the same way. A tensor made over a new heap buffer per
     * call instead ({@code OnnxTensor.createTensor(env, FloatBuffer.wrap(array), shape)}) makes ONNX Runtime copy it
     * into a new direct buffer, whose native memory returns only when the garbage collector runs: fresh pages, page
     * faults, and calls up to 20 times slower at batch 256 (BENCHMARKS.md, issue 18).
     */
    static final class Caller {
        private final OrtSession session;
        private final List<HostTensor> inputs;
        private final ByteBuffer[] buffers;
        private final AtomicLong calls = new AtomicLong();
        private long[] ends = new long[1024];
        private long[] nanos = new long[1024];
        private int recorded;
        private long elementsRead;
        private volatile Throwable failure;

        Caller(OrtSession session, List<HostTensor> inputs) {
            this.session = session;
            this.inputs = inputs;
            this.buffers = new ByteBuffer[inputs.size()];
            boolean little = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;   // raw tensor bytes are little-endian
            for (int i = 0; i < buffers.length; i++) {
                HostTensor t = inputs.get(i);
                if (little && t.type() != TensorType.BYTES) {
                    buffers[i] = ByteBuffer.allocateDirect(RawTensors.encodedBytes(t)).order(ByteOrder.LITTLE_ENDIAN);
                }
            }
        }

        long calls() {
            return calls.get();
        }

        /** Calls until {@code stop}, recording when each call ended and how long it took; stops on a failure. */
        void loop(AtomicBoolean stop) {
            try {
                while (!stop.get()) {
                    long t0 = System.nanoTime();
                    for (HostTensor out : call()) elementsRead += Array.getLength(out.data());
                    long t1 = System.nanoTime();
                    if (recorded == ends.length) {
                        ends = Arrays.copyOf(ends, recorded * 2);
                        nanos = Arrays.copyOf(nanos, recorded * 2);
                    }
                    ends[recorded] = t1;
                    nanos[recorded] = t1 - t0;
                    recorded++;
                    calls.set(recorded);
                }
            } catch (OrtException | RuntimeException | OutOfMemoryError e) {
                failure = e;
            }
        }

        /** One request: input tensors made, the session run, every output read into a Java array. */
        List<HostTensor> call() throws OrtException {
            Map<String, OnnxTensor> feed = new HashMap<>();
            try {
                for (int i = 0; i < buffers.length; i++) {
                    HostTensor t = inputs.get(i);
                    ByteBuffer b = buffers[i];
                    feed.put(t.name(), b == null ? t.toOnnx(ENV) : t.toOnnx(ENV, b));
                }
                List<HostTensor> outputs = new ArrayList<>();
                try (OrtSession.Result result = session.run(feed)) {
                    for (Map.Entry<String, OnnxValue> e : result) {
                        outputs.add(HostTensor.fromOnnx(e.getKey(), (OnnxTensor) e.getValue()));
                    }
                }
                return outputs;
            } finally {
                feed.values().forEach(OnnxTensor::close);
            }
        }

        /** The latencies, in microseconds, of every caller's calls that ended in {@code (from, to]}; read after join. */
        static double[] latenciesMicros(List<Caller> callers, long from, long to) {
            int n = 0;
            for (Caller c : callers) {
                for (int i = 0; i < c.recorded; i++) if (c.ends[i] > from && c.ends[i] <= to) n++;
            }
            double[] out = new double[n];
            int at = 0;
            for (Caller c : callers) {
                for (int i = 0; i < c.recorded; i++) if (c.ends[i] > from && c.ends[i] <= to) out[at++] = c.nanos[i] / 1e3;
            }
            return out;
        }
    }

    /** Ends the measurement when the thread was interrupted; checked before every ONNX Runtime call. */
    private static void checkStop(String name) {
        if (Thread.currentThread().isInterrupted()) {
            throw new CancellationException("benchmark" + (name == null ? "" : " of " + name) + " stopped: interrupted");
        }
    }

    // ---- input data -------------------------------------------------------------------------------------------

    /** Whether the rows can feed the model: one FP32 input whose dimensions after the first match the examples'. */
    static boolean fits(ModelSpec spec, LabeledRows rows) {
        if (spec.inputs().size() != 1 || rows.size() == 0) return false;
        TensorSpec in = spec.inputs().get(0);
        long[] example = rows.exampleShape();
        if (in.type() != TensorType.FP32 || in.shape().length != example.length + 1) return false;
        for (int i = 0; i < example.length; i++) {
            long d = in.shape()[i + 1];
            if (d != -1 && d != example[i]) return false;
        }
        return true;
    }

    /** The first dimension when some input's is fixed (or it has none, counting as 1); 0 when all are free. */
    static int fixedBatch(ModelSpec spec) {
        for (TensorSpec in : spec.inputs()) {
            if (in.shape().length == 0) return 1;
            if (in.shape()[0] != -1) return (int) Math.max(1, in.shape()[0]);
        }
        return 0;
    }

    /** Inputs for {@code batch} rows: test rows {@code from, from + 1, ...} (wrapping around), or zeros. */
    private static List<HostTensor> inputs(ModelSpec spec, LabeledRows data, int from, int batch) {
        List<HostTensor> out = new ArrayList<>();
        if (data != null) {
            TensorSpec in = spec.inputs().get(0);
            long[] example = data.exampleShape();
            int perRow = Math.toIntExact(HostTensor.elementCount(example));
            float[] values = new float[Math.multiplyExact(perRow, batch)];
            for (int r = 0; r < batch; r++) {
                System.arraycopy(data.features(), ((from + r) % data.size()) * perRow, values, r * perRow, perRow);
            }
            long[] shape = new long[example.length + 1];
            shape[0] = batch;
            System.arraycopy(example, 0, shape, 1, example.length);
            out.add(new HostTensor(in.name(), in.type(), shape, values));
            return out;
        }
        for (TensorSpec in : spec.inputs()) {
            long[] shape = in.shape().clone();
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] == -1) shape[i] = i == 0 ? batch : 1;
            }
            int n = Math.toIntExact(HostTensor.elementCount(shape));
            Object zeros = Array.newInstance(in.type().arrayClass().getComponentType(), n);
            if (zeros instanceof String[] s) Arrays.fill(s, "");
            out.add(new HostTensor(in.name(), in.type(), shape, zeros));
        }
        return out;
    }

    private static String describe(List<TensorSpec> inputs) {
        return String.join(", ", inputs.stream().map(TensorSpec::toString).toList());
    }

    // ---- accuracy ---------------------------------------------------------------------------------------------

    /**
     * The output scored for accuracy: FP32 or FP64 with a last dimension that can hold every label (free, or at least
     * the largest label + 1, and at least 2); the one named {@code probabilities} if it qualifies, else the first that
     * does.
     */
    static TensorSpec classOutput(ModelSpec spec, LabeledRows rows) {
        int classes = Arrays.stream(rows.labels()).max().orElse(0) + 1;
        TensorSpec first = null;
        for (TensorSpec o : spec.outputs()) {
            if (o.type() != TensorType.FP32 && o.type() != TensorType.FP64) continue;
            if (o.shape().length == 0) continue;
            long last = o.shape()[o.shape().length - 1];
            if (last != -1 && (last < 2 || last < classes)) continue;
            if (o.name().equals("probabilities")) return o;
            if (first == null) first = o;
        }
        return first;
    }

    /** Share of rows whose argmax matches the label, run in chunks of {@code chunk}; null when no output fits. */
    private static Double accuracy(OrtSession session, ModelSpec spec, LabeledRows rows, int chunk) throws OrtException {
        TensorSpec output = classOutput(spec, rows);
        if (output == null || Arrays.stream(rows.labels()).anyMatch(l -> l < 0)) return null;
        boolean fixed = fixedBatch(spec) > 0;
        int correct = 0;
        for (int from = 0; from < rows.size(); from += chunk) {
            int scored = Math.min(chunk, rows.size() - from);
            int batch = fixed ? chunk : scored;
            checkStop(null);
            Map<String, OnnxTensor> feed = new HashMap<>();
            try {
                for (HostTensor t : inputs(spec, rows, from, batch)) feed.put(t.name(), t.toOnnx(ENV));
                try (OrtSession.Result result = session.run(feed, Set.of(output.name()))) {
                    OnnxValue value = result.get(0);
                    HostTensor out = HostTensor.fromOnnx(output.name(), (OnnxTensor) value);
                    long[] shape = out.shape();
                    if (shape.length == 0) return null;
                    int classes = (int) shape[shape.length - 1];
                    if (classes < 2 || Array.getLength(out.data()) != (long) classes * batch) return null;
                    for (int r = 0; r < scored; r++) {
                        int label = rows.labels()[from + r];
                        if (label < classes && argmax(out.data(), r * classes, classes) == label) correct++;
                    }
                }
            } finally {
                feed.values().forEach(OnnxTensor::close);
            }
        }
        return correct / (double) rows.size();
    }

    private static int argmax(Object data, int offset, int n) {
        int best = 0;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            double v = data instanceof float[] f ? f[offset + i] : ((double[]) data)[offset + i];
            if (v > max) {
                max = v;
                best = i;
            }
        }
        return best;
    }

    /** The accuracy a Squeeze export recorded in its provenance, or null (another ONNX file, or none recorded). */
    static ExportProvenance.AccuracyAtExport exportAccuracy(Map<String, String> metadata) {
        return ExportProvenance.read(metadata).map(ExportProvenance::accuracyAtExport)
                .filter(acc -> acc.testAccuracy() != null).orElse(null);
    }

    // ---- file -------------------------------------------------------------------------------------------------

    /** Bytes after deflating in memory (java.util.zip, default level, zlib framing). */
    static long deflatedSize(byte[] bytes) {
        long[] count = {0};
        OutputStream counter = new OutputStream() {
            @Override
            public void write(int b) {
                count[0]++;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                count[0] += len;
            }
        };
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION);
        try (DeflaterOutputStream z = new DeflaterOutputStream(counter, deflater, 64 * 1024)) {
            z.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deflater.end();
        }
        return count[0];
    }

    /**
     * Counts a model's parameters: the elements of every initializer (sparse ones included, and those of subgraphs)
     * <ul>
     *   <li>of a floating type (FLOAT, DOUBLE, FLOAT16, BFLOAT16, FLOAT8 variants) or an integer type up to 32 bits
     *       (INT8/UINT8, INT16/UINT16, INT32/UINT32, INT4/UINT4), so the int8 weights and int32 biases of QDQ models
     *       count;</li>
     *   <li>with more than one element, leaving out scalar constants;</li>
     *   <li>not used only as a scale or zero point of QuantizeLinear, DequantizeLinear or a QLinear/Integer operator,
     *       or as the scales a Cast's output is multiplied by (int8 weights made float: {@code Mul(Cast(w), scale)}),
     *       so per-channel quantization parameters do not count either.</li>
     * </ul>
     * INT64/UINT64 initializers (shapes, axes, indices), BOOL, STRING and complex ones do not count. Non-zero: raw
     * data read little-endian, or the typed repeated fields; external data is read from beside the file. Negative zero
     * is zero.
     */
    public static BenchmarkParameters countParameters(Path onnxFile) {
        try {
            return countParameters(Files.readAllBytes(onnxFile), onnxFile.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + onnxFile + ": " + e.getMessage(), e);
        }
    }

    static BenchmarkParameters countParameters(byte[] model, Path dir) throws IOException {
        OnnxMl.ModelProto proto = OnnxMl.ModelProto.parseFrom(model);
        List<OnnxMl.GraphProto> graphs = new ArrayList<>();
        collectGraphs(proto.getGraph(), graphs);

        Set<String> quantizationOnly = quantizationOnly(graphs);

        long parameters = 0;
        long nonZero = 0;
        int counted = 0;
        for (OnnxMl.GraphProto g : graphs) {
            // A packed weight counts as the dense weight it unpacks to, not as its streams and codebook.
            Map<String, OnnxMl.TensorProto> initializers = new HashMap<>();
            g.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
            Set<String> packedParts = new HashSet<>();
            for (OnnxMl.NodeProto n : g.getNodeList()) {
                if (!isUnpack(n) || n.getInputCount() < 2 || n.getInputCount() > 3
                        || !n.getInputList().stream().allMatch(initializers::containsKey)) continue;
                long[] counts = countPacked(n, initializers.get(n.getInput(0)),
                        n.getInputCount() > 2 ? initializers.get(n.getInput(2)) : null);
                if (counts == null) continue;
                parameters += counts[0];
                nonZero += counts[1];
                counted++;
                packedParts.addAll(n.getInputList());
            }
            for (OnnxMl.TensorProto t : g.getInitializerList()) {
                long n = elements(t.getDimsList());
                if (!counts(t.getDataType()) || n <= 1 || quantizationOnly.contains(t.getName())
                        || packedParts.contains(t.getName())) continue;
                parameters += n;
                nonZero += nonZero(t, n, dir);
                counted++;
            }
            for (OnnxMl.SparseTensorProto s : g.getSparseInitializerList()) {
                OnnxMl.TensorProto values = s.getValues();
                long n = elements(s.getDimsList());
                if (!counts(values.getDataType()) || n <= 1 || quantizationOnly.contains(values.getName())) continue;
                parameters += n;
                nonZero += nonZero(values, elements(values.getDimsList()), dir);
                counted++;
            }
        }
        return new BenchmarkParameters(parameters, nonZero, counted);
    }

    /**
     * The tensors that are only quantization parameters (scales, zero points): read only in those inputs of the
     * quantization operators, or by nodes that compute only such tensors (a Mul of the input scale and the weight
     * scales that makes the bias scales, a ConstantOfShape that makes zero points).
     */
    private static Set<String> quantizationOnly(List<OnnxMl.GraphProto> graphs) {
        Set<String> quantizationUses = new HashSet<>();
        Map<String, List<OnnxMl.NodeProto>> otherReaders = new HashMap<>();
        Set<String> cast = new HashSet<>();
        for (OnnxMl.GraphProto g : graphs) {
            for (OnnxMl.NodeProto n : g.getNodeList()) if (n.getOpType().equals("Cast")) cast.addAll(n.getOutputList());
        }
        for (OnnxMl.GraphProto g : graphs) {
            for (OnnxMl.NodeProto n : g.getNodeList()) {
                // Integer weights Cast to float and multiplied by their scales (a weight-only int8 layer's weights).
                boolean castTimesScale = n.getOpType().equals("Mul") && n.getInputCount() == 2 && cast.contains(n.getInput(0));
                Set<Integer> q = castTimesScale ? Set.of(1) : QUANTIZATION_PARAMETERS.getOrDefault(n.getOpType(), Set.of());
                for (int i = 0; i < n.getInputCount(); i++) {
                    if (q.contains(i)) quantizationUses.add(n.getInput(i));
                    else otherReaders.computeIfAbsent(n.getInput(i), k -> new ArrayList<>()).add(n);
                }
            }
        }
        Set<String> only = new HashSet<>(quantizationUses);
        only.removeAll(otherReaders.keySet());
        for (boolean grew = true; grew; ) {
            grew = false;
            for (Map.Entry<String, List<OnnxMl.NodeProto>> e : otherReaders.entrySet()) {
                if (only.contains(e.getKey())) continue;
                boolean computesQuantization = e.getValue().stream().allMatch(n -> n.getOutputCount() > 0
                        && only.containsAll(n.getOutputList()));
                if (computesQuantization) grew = only.add(e.getKey());
            }
        }
        return only;
    }

    /** Whether {@code n} unpacks a packed weight: Squeeze's {@code dev.squeeze.Unpack} function. */
    private static boolean isUnpack(OnnxMl.NodeProto n) {
        return n.getOpType().equals(PackedEntries.OP) && n.getDomain().equals(PackedEntries.DOMAIN);
    }

    /**
     * The elements of the weight an Unpack node makes from its entry stream {@code bits} and {@code high} stream (null
     * for a node written before it had one), and how many of them are not zero; null when it lacks an attribute the
     * function needs.
     */
    private static long[] countPacked(OnnxMl.NodeProto n, OnnxMl.TensorProto bits, OnnxMl.TensorProto high) {
        Map<String, OnnxMl.AttributeProto> at = new HashMap<>();
        n.getAttributeList().forEach(a -> at.put(a.getName(), a));
        if (!at.keySet().containsAll(List.of("entries", "width", "code_range", "shape"))) return null;
        long[] nonZero = {0};
        PackedEntries.read(bits.getRawData().toByteArray(), at.get("entries").getI(), (int) at.get("width").getI(),
                at.get("code_range").getI(), high == null ? null : high.getRawData().toByteArray(), (position, code) -> {
                    if (code != 0) nonZero[0]++;
                });
        return new long[]{elements(at.get("shape").getIntsList()), nonZero[0]};
    }

    private static void collectGraphs(OnnxMl.GraphProto g, List<OnnxMl.GraphProto> out) {
        out.add(g);
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            for (OnnxMl.AttributeProto a : n.getAttributeList()) {
                if (a.hasG()) collectGraphs(a.getG(), out);
                for (OnnxMl.GraphProto sub : a.getGraphsList()) collectGraphs(sub, out);
            }
        }
    }

    private static long elements(List<Long> dims) {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    private static boolean counts(int dataType) {
        OnnxMl.TensorProto.DataType type = OnnxMl.TensorProto.DataType.forNumber(dataType);
        if (type == null) return false;
        return switch (type) {
            case FLOAT, DOUBLE, FLOAT16, BFLOAT16, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ,
                 INT8, UINT8, INT16, UINT16, INT32, UINT32, INT4, UINT4 -> true;
            default -> false;
        };
    }

    private static long nonZero(OnnxMl.TensorProto t, long n, Path dir) throws IOException {
        OnnxMl.TensorProto.DataType type = OnnxMl.TensorProto.DataType.forNumber(t.getDataType());
        ByteBuffer raw = null;
        if (t.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL) {
            raw = external(t, dir);
        } else if (t.hasRawData()) {
            raw = t.getRawData().asReadOnlyByteBuffer();
        }
        if (raw != null) return nonZeroRaw(raw.order(ByteOrder.LITTLE_ENDIAN), type, n);
        long count = 0;
        switch (type) {
            case FLOAT -> {
                for (float v : t.getFloatDataList()) if (v != 0f) count++;
            }
            case DOUBLE -> {
                for (double v : t.getDoubleDataList()) if (v != 0d) count++;
            }
            case UINT32 -> {
                for (long v : t.getUint64DataList()) if (v != 0) count++;
            }
            case INT4, UINT4 -> {
                long seen = 0;
                for (int v : t.getInt32DataList()) {
                    for (int half = 0; half < 2 && seen < n; half++, seen++) if (((v >> (4 * half)) & 0xF) != 0) count++;
                }
            }
            default -> {
                int mask = zeroMask(type);
                for (int v : t.getInt32DataList()) if ((v & mask) != 0) count++;
            }
        }
        return count;
    }

    /** Bits that must all be zero for a value of a type held in int32_data or raw bytes to be zero (sign excluded). */
    private static int zeroMask(OnnxMl.TensorProto.DataType type) {
        return switch (type) {
            case FLOAT16, BFLOAT16 -> 0x7FFF;
            case FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ -> 0x7F;
            default -> 0xFFFFFFFF;
        };
    }

    private static long nonZeroRaw(ByteBuffer b, OnnxMl.TensorProto.DataType type, long n) {
        long count = 0;
        int base = b.position();
        switch (type) {
            case FLOAT -> {
                long m = Math.min(n, b.remaining() / 4);
                for (int i = 0; i < m; i++) if (b.getFloat(base + 4 * i) != 0f) count++;
            }
            case DOUBLE -> {
                long m = Math.min(n, b.remaining() / 8);
                for (int i = 0; i < m; i++) if (b.getDouble(base + 8 * i) != 0d) count++;
            }
            case INT32, UINT32 -> {
                long m = Math.min(n, b.remaining() / 4);
                for (int i = 0; i < m; i++) if (b.getInt(base + 4 * i) != 0) count++;
            }
            case INT16, UINT16, FLOAT16, BFLOAT16 -> {
                int mask = type == OnnxMl.TensorProto.DataType.INT16 || type == OnnxMl.TensorProto.DataType.UINT16 ? 0xFFFF : 0x7FFF;
                long m = Math.min(n, b.remaining() / 2);
                for (int i = 0; i < m; i++) if ((b.getShort(base + 2 * i) & mask) != 0) count++;
            }
            case INT4, UINT4 -> {
                long m = Math.min(n, 2L * b.remaining());
                for (long i = 0; i < m; i++) {
                    int packed = b.get(base + (int) (i / 2));
                    if (((packed >> (4 * (int) (i % 2))) & 0xF) != 0) count++;
                }
            }
            default -> { // INT8, UINT8, FLOAT8 variants: one byte each
                int mask = zeroMask(type) & 0xFF;
                long m = Math.min(n, b.remaining());
                for (int i = 0; i < m; i++) if ((b.get(base + i) & mask) != 0) count++;
            }
        }
        return count;
    }

    private static ByteBuffer external(OnnxMl.TensorProto t, Path dir) throws IOException {
        String location = null;
        long offset = 0;
        long length = -1;
        for (OnnxMl.StringStringEntryProto e : t.getExternalDataList()) {
            switch (e.getKey()) {
                case "location" -> location = e.getValue();
                case "offset" -> offset = Long.parseLong(e.getValue());
                case "length" -> length = Long.parseLong(e.getValue());
                default -> {
                }
            }
        }
        if (location == null) throw new IOException(t.getName() + ": external data without a location");
        Path file = dir == null ? Path.of(location) : dir.resolve(location);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = length >= 0 ? length : ch.size() - offset;
            return ch.map(FileChannel.MapMode.READ_ONLY, offset, size);
        }
    }

    // ---- memory -----------------------------------------------------------------------------------------------

    /** A {@code kB} field of /proc/self/status in bytes (VmRSS, VmHWM), or null where there is none. */
    static Long procStatusBytes(String field) {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) return null;
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith(field + ":")) {
                    String[] parts = line.substring(field.length() + 1).trim().split("\\s+");
                    long value = Long.parseLong(parts[0]);
                    return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? value * 1024 : value;
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }
}
