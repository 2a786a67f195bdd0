package dev.squeeze.serve.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One version of one model, loaded: its ONNX Runtime session (optimization level ALL, so int8 QDQ fuses into integer
 * kernels), its declared inputs and outputs, its metadata, and how it is served. Thread-safe: ONNX Runtime sessions
 * may run concurrently.
 *
 * @param version  increases each time the model's file is (re)loaded
 * @param metadata the ONNX file's metadata_props (Squeeze exports put {@code classes}, {@code input} and
 *                 {@code squeeze} there)
 */
public record LoadedModel(String name, long version, Path file, long fileBytes, OrtSession session, ModelSpec spec,
                          Map<String, String> metadata, ModelConfig config) implements AutoCloseable {

    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    /** Inputs up to this size go through a reused per-thread direct buffer; bigger ones are copied per call. */
    private static final int SCRATCH_LIMIT = 64 << 20;

    /** Each inference thread's input buffers, one per input position, grown as needed (see HostTensor#toOnnx). */
    private static final ThreadLocal<List<java.nio.ByteBuffer>> SCRATCH = ThreadLocal.withInitial(ArrayList::new);

    /** Loads {@code file}; any failure (not ONNX, unsupported operator or type) is a {@link BadRequestException}. */
    public static LoadedModel load(String name, long version, Path file, ModelConfig config) {
        OrtSession session = null;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.setIntraOpNumThreads(config.intraOpThreads());
            options.setInterOpNumThreads(1);
            options.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            session = ENV.createSession(file.toString(), options);
            ModelSpec spec = ModelSpec.of(session);
            Map<String, String> metadata = new LinkedHashMap<>(session.getMetadata().getCustomMetadata());
            return new LoadedModel(name, version, file, java.nio.file.Files.size(file), session, spec, metadata, config);
        } catch (OrtException | java.io.IOException | RuntimeException e) {
            if (session != null) {
                try {
                    session.close();
                } catch (OrtException ignored) {
                    // the load failure is what matters
                }
            }
            if (e instanceof BadRequestException b) throw new BadRequestException(name + ": " + b.getMessage());
            throw new BadRequestException(name + ": cannot load " + file.getFileName() + ": " + e.getMessage());
        }
    }

    /**
     * Runs the model once.
     *
     * @param inputs  one tensor per declared input, already checked against {@link #spec()}
     * @param outputs the outputs wanted, or empty for all, in the model's order
     */
    public List<HostTensor> run(List<HostTensor> inputs, Set<String> outputs) throws OrtException {
        Map<String, OnnxTensor> feed = new HashMap<>();
        try {
            for (int i = 0; i < inputs.size(); i++) {
                HostTensor t = inputs.get(i);
                feed.put(t.name(), t.type() == TensorType.BYTES ? t.toOnnx(ENV) : toOnnx(t, i));
            }
            List<String> wanted = new ArrayList<>();
            for (TensorSpec o : spec.outputs()) if (outputs.isEmpty() || outputs.contains(o.name())) wanted.add(o.name());
            try (OrtSession.Result result = session.run(feed, new java.util.LinkedHashSet<>(wanted))) {
                List<HostTensor> out = new ArrayList<>();
                for (Map.Entry<String, OnnxValue> e : result) {
                    out.add(HostTensor.fromOnnx(e.getKey(), (OnnxTensor) e.getValue()));
                }
                return out;
            }
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    /** {@code t} over this thread's direct buffer for input {@code i}, or copied when it is too big to keep. */
    private static OnnxTensor toOnnx(HostTensor t, int i) throws OrtException {
        int bytes = RawTensors.encodedBytes(t);
        if (bytes > SCRATCH_LIMIT) return t.toOnnx(ENV);
        List<java.nio.ByteBuffer> scratch = SCRATCH.get();
        while (scratch.size() <= i) scratch.add(java.nio.ByteBuffer.allocateDirect(0));
        if (scratch.get(i).capacity() < bytes) {
            scratch.set(i, java.nio.ByteBuffer.allocateDirect(Math.max(bytes, Math.min(2 * scratch.get(i).capacity(), SCRATCH_LIMIT))));
        }
        return t.toOnnx(ENV, scratch.get(i));
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing " + name + " v" + version + ": " + e.getMessage(), e);
        }
    }
}
