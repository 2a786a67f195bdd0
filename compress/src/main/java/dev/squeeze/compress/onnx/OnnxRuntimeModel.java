package dev.squeeze.compress.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.squeeze.models.data.LabeledData;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * An exported model loaded in ONNX Runtime (CPU, optimization level ALL, so QDQ fuses into integer kernels): what
 * a server would run, used to measure the file itself. Feeds raw features; the graph normalizes.
 */
public final class OnnxRuntimeModel implements AutoCloseable {
    private static final int CHUNK = 1000;
    /**
     * How MatMulNBits, which ONNX Runtime fuses 4-bit weights into, computes: 4 (ONNX Runtime's default) quantizes the
     * activations to int8 per block inside the kernel; 1 would compute in float, as the graph is written. Pinned at the
     * default, what {@code squeeze serve} and any other ONNX Runtime session run, so that what export measures is what
     * they serve.
     */
    public static final String MATMULNBITS_ACCURACY_LEVEL = "4";

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final long[] inputShape;

    /**
     * @param threads       intra-op threads (1 keeps measurements comparable on a shared machine)
     * @param optimizedPath where ORT writes the graph after its optimizations, or null
     */
    public OnnxRuntimeModel(byte[] model, long[] inputShape, int threads, Path optimizedPath) {
        this.inputShape = inputShape;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            // Writing the optimized graph makes ORT warn that it is hardware specific: we only read its node types.
            options.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            if (optimizedPath != null) options.setOptimizedModelFilePath(optimizedPath.toString());
            options.addConfigEntry("session.qdq_matmulnbits_accuracy_level", MATMULNBITS_ACCURACY_LEVEL);
            session = env.createSession(model, options);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime refused the exported graph: " + e.getMessage(), e);
        }
    }

    /**
     * Any ONNX model with the same session settings, for {@link #run(Map)}: two models opened with the same
     * {@code threads} are measured alike.
     */
    public OnnxRuntimeModel(byte[] model, int threads) {
        this(model, null, threads, null);
    }

    /** Runs the model on named inputs; the caller closes the result. */
    public OrtSession.Result run(Map<String, ? extends OnnxTensor> inputs) throws OrtException {
        return session.run(inputs);
    }

    /** Probabilities (or logits) for rows {@code [from, to)} of raw features. */
    public float[][] run(String output, float[] rawFeatures, int rows) {
        long[] shape = new long[inputShape.length + 1];
        shape[0] = rows;
        System.arraycopy(inputShape, 0, shape, 1, inputShape.length);
        try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(rawFeatures), shape);
             OrtSession.Result result = session.run(Map.of(OnnxExporter.INPUT, input), java.util.Set.of(output))) {
            return (float[][]) result.get(0).getValue();
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed to run the exported model: " + e.getMessage(), e);
        }
    }

    /** Every example's output, in chunks. */
    public float[][] runAll(String output, LabeledData raw) {
        float[][] out = new float[raw.size()][];
        int f = raw.featureSize();
        for (int from = 0; from < raw.size(); from += CHUNK) {
            int to = Math.min(raw.size(), from + CHUNK);
            float[][] part = run(output, Arrays.copyOfRange(raw.features(), from * f, to * f), to - from);
            System.arraycopy(part, 0, out, from, part.length);
        }
        return out;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }
}
