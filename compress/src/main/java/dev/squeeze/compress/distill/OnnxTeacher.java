package dev.squeeze.compress.distill;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.squeeze.compress.onnx.OnnxExporter;
import dev.squeeze.compress.onnx.OnnxRuntimeModel;
import dev.squeeze.compress.onnx.inputs.DatasetInputs;
import dev.squeeze.compress.onnx.inputs.ElementType;
import dev.squeeze.compress.onnx.inputs.InputBatch;
import dev.squeeze.compress.onnx.inputs.InputTensor;
import dev.squeeze.compress.onnx.inputs.ModelSignature;
import dev.squeeze.compress.onnx.inputs.TensorSignature;
import dev.squeeze.compress.onnx.quantize.OnnxModelFile;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.LabeledData;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * A teacher given as an ONNX file that takes the dataset's raw features (pixels 0-255, a table's encoded values: what
 * {@code squeeze export} writes), fed as {@link DatasetInputs} feeds quantization, and run in ONNX Runtime. Its
 * logits are its output named {@value OnnxExporter#LOGITS} when it has one, else its first output, which must be
 * {@code [N, classes]} with the dataset's class count. An output whose every row is a probability distribution (a
 * softmax) is turned back into logits by its logarithm, which gives the same tempered softmax.
 *
 * @param file      the file given
 * @param sha256    its SHA-256: the teacher's identity in the distilled run's hash and ledger row
 * @param bytes     its size
 * @param params    its parameter count (initializer elements)
 * @param input     the input the features feed
 * @param output    the output read as logits
 * @param model     the file's bytes
 */
record OnnxTeacher(Path file, String sha256, long bytes, long params, TensorSignature input, TensorSignature output,
                   byte[] model) {
    private static final int CHUNK = 1_000;
    /** Probabilities below this are taken as this before the logarithm (a softmax in float32 underflows to 0). */
    private static final double SMALLEST_PROBABILITY = 1e-30;

    /**
     * Reads {@code file} and checks, before any training, that it takes {@code dataset}'s raw features and gives one
     * score per class.
     *
     * @throws BadInputException when the file is not ONNX, ONNX Runtime cannot load it, its input does not take the
     *                           dataset's features, or its output is not {@code [N, classes]} with the dataset's classes
     */
    static OnnxTeacher read(Path file, Dataset dataset) {
        OnnxModelFile onnx = OnnxModelFile.read(file);
        ModelSignature signature = ModelSignature.of(onnx.model());
        TensorSignature input;
        try {
            input = DatasetInputs.featureInput(signature, dataset);
        } catch (BadInputException e) {
            throw new BadInputException("teacher " + file + ": " + e.getMessage(), e);
        }
        TensorSignature output = signature.output(OnnxExporter.LOGITS);
        if (output == null && !signature.outputs().isEmpty()) output = signature.outputs().get(0);
        int classes = dataset.classNames().size();
        long[] shape = output == null ? null : output.shape();
        boolean scores = shape != null && shape.length == 2 && shape[1] == classes
                && (output.type() == ElementType.FP32 || output.type() == ElementType.FP64);
        if (!scores) {
            throw new BadInputException("teacher " + file + ": its output " + (output == null ? "(none: the outputs are "
                    + signature.outputs().stream().map(TensorSignature::toString).collect(Collectors.joining(", "))
                    + ")" : output.toString()) + " is not float [N, " + classes + "] scores, but " + dataset.name()
                    + " has " + classes + " classes; give a teacher trained on " + dataset.name() + " whose "
                    + (output == null || output.name().equals(OnnxExporter.LOGITS) ? "" : "first ")
                    + "output gives one score per class");
        }
        return new OnnxTeacher(file, onnx.sha256(), onnx.bytes(), onnx.parameterCount(), input, output,
                onnx.model().toByteArray());
    }

    /**
     * The teacher's logits for every example of {@code raw} (raw features, not normalized), {@code [size, classes]}
     * row-major.
     *
     * @param notices told once when the output holds probabilities and is turned into logits
     */
    float[] logits(LabeledData raw, Consumer<String> notices) {
        int k = raw.numClasses();
        float[] out = new float[raw.size() * k];
        long fixed = input.shape()[0];
        int chunk = fixed >= 0 ? (int) fixed : CHUNK;
        if (fixed >= 0 && raw.size() % chunk != 0) {
            throw new BadInputException("teacher " + file + ": its input " + input + " takes batches of exactly " + fixed
                    + " examples, which " + raw.size() + " examples do not fill; export the teacher with a free batch "
                    + "dimension");
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxRuntimeModel session = new OnnxRuntimeModel(model, 1)) {
            for (int from = 0; from < raw.size(); from += chunk) {
                int to = Math.min(raw.size(), from + chunk);
                InputBatch batch = DatasetInputs.batch(input, raw, from, to, file.getFileName() + " rows " + from);
                Map<String, OnnxTensor> in = batch.toOnnx(env);
                try (OrtSession.Result result = session.run(in)) {
                    OnnxValue v = result.get(output.name()).orElseThrow();
                    double[] values = InputTensor.fromOnnx((OnnxTensor) v).toDoubles();
                    if (values.length != (to - from) * k) {
                        throw new BadInputException("teacher " + file + ": output '" + output.name() + "' gave "
                                + values.length + " values for " + (to - from) + " examples of " + k + " classes");
                    }
                    for (int i = 0; i < values.length; i++) out[from * k + i] = (float) values[i];
                } finally {
                    OnnxValue.close(in);
                }
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed to run teacher " + file + ": " + e.getMessage(), e);
        }
        if (probabilities(out, k)) {
            notices.accept("teacher " + file.getFileName() + ": output '" + output.name() + "' holds probabilities; its "
                    + "logarithm serves as logits");
            for (int i = 0; i < out.length; i++) out[i] = (float) Math.log(Math.max(out[i], SMALLEST_PROBABILITY));
        }
        return out;
    }

    /** Whether every row is non-negative and sums to 1: a softmax's output rather than logits. */
    static boolean probabilities(float[] values, int k) {
        for (int row = 0; row < values.length / k; row++) {
            double sum = 0;
            for (int j = 0; j < k; j++) {
                float v = values[row * k + j];
                if (!(v >= 0 && v <= 1)) return false;
                sum += v;
            }
            if (Math.abs(sum - 1) > 1e-3) return false;
        }
        return values.length > 0;
    }

    /** {@code model.onnx (sha256 0123456789ab)}, for tables and notes. */
    String describe() {
        return file.getFileName() + " (sha256 " + sha256.substring(0, 12) + ")";
    }
}
