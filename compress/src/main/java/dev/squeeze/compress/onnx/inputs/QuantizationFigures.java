package dev.squeeze.compress.onnx.inputs;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.onnx.OnnxRuntimeModel;
import dev.squeeze.compress.quant.FigureBudget;
import dev.squeeze.core.BadInputException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What quantizing a model cost, for every output, measured by running the float and the quantized model in ONNX
 * Runtime (the same session settings and threads) on held-out examples: see {@link OutputFigures}.
 *
 * @param examples       the held-out examples (rows) measured on
 * @param outputs        figures per tensor output, in the float model's output order
 * @param skippedOutputs outputs that are not tensors and were not compared (a scikit-learn ZipMap, say)
 */
public record QuantizationFigures(long examples, List<OutputFigures> outputs, List<String> skippedOutputs) {

    public QuantizationFigures {
        outputs = List.copyOf(outputs);
        skippedOutputs = List.copyOf(skippedOutputs);
    }

    /** {@link #measure(byte[], byte[], List, int)} on two files. */
    public static QuantizationFigures measure(Path floatModel, Path quantizedModel, List<InputBatch> heldOut, int threads) {
        return measure(InputFiles.bytes(floatModel), InputFiles.bytes(quantizedModel), heldOut, threads);
    }

    /**
     * Runs both models on every held-out batch and compares each tensor output. Labels are used when every batch
     * has them.
     *
     * @param heldOut batches checked against the float model's signature, none of them used for calibration (see
     *                {@link InputSplit})
     * @param threads ONNX Runtime intra-op threads for both models
     * @throws BadInputException when there are no batches, or the quantized model lacks an output of the float model
     *                           or gives it a different shape
     */
    public static QuantizationFigures measure(byte[] floatModel, byte[] quantizedModel, List<InputBatch> heldOut, int threads) {
        if (heldOut.isEmpty()) throw new BadInputException("no held-out examples to measure on; give evaluation inputs");
        // What cannot be compared is refused before either model runs; each model is parsed once.
        ModelSignature floatSignature = ModelSignature.of(floatModel, "the float model");
        ModelSignature quantizedSignature = ModelSignature.of(quantizedModel, "the quantized model");
        checkOutputs(floatSignature, quantizedSignature);
        try (Reference reference = Reference.of(floatSignature, floatModel, heldOut, threads)) {
            return reference.measure(quantizedModel, quantizedSignature);
        }
    }

    /**
     * The float model's outputs on the held-out batches, computed once, and the batches as ONNX Runtime tensors:
     * what every quantized variant of the model is measured against (per-node sensitivity measures one variant per
     * node). Each {@link #measure} opens one session, for the variant, and runs every batch through it once.
     */
    public static final class Reference implements AutoCloseable {
        private final ModelSignature signature;
        private final List<InputBatch> heldOut;
        private final int threads;
        private final boolean labelled;
        private final List<Map<String, OnnxTensor>> inputs = new ArrayList<>();
        private final List<Map<String, InputTensor>> floatOutputs = new ArrayList<>();

        private Reference(ModelSignature signature, List<InputBatch> heldOut, int threads) {
            this.signature = signature;
            this.heldOut = List.copyOf(heldOut);
            this.threads = threads;
            this.labelled = heldOut.stream().allMatch(InputBatch::hasLabels);
        }

        /**
         * Runs the float model on every held-out batch.
         *
         * @throws BadInputException when there are no batches
         */
        public static Reference of(byte[] floatModel, List<InputBatch> heldOut, int threads) {
            return of(ModelSignature.of(floatModel, "the float model"), floatModel, heldOut, threads);
        }

        /** {@link #of(byte[], List, int)} for a model whose signature the caller has already read. */
        public static Reference of(ModelSignature floatSignature, byte[] floatModel, List<InputBatch> heldOut, int threads) {
            if (heldOut.isEmpty()) throw new BadInputException("no held-out examples to measure on; give evaluation inputs");
            Reference r = new Reference(floatSignature, heldOut, threads);
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OnnxRuntimeModel f = new OnnxRuntimeModel(floatModel, threads)) {
                for (InputBatch batch : heldOut) {
                    Map<String, OnnxTensor> in = batch.toOnnx(env);
                    r.inputs.add(in);
                    try (OrtSession.Result fr = f.run(in)) {
                        Map<String, InputTensor> outs = new LinkedHashMap<>();
                        for (TensorSignature out : r.signature.outputs()) outs.put(out.name(), output(fr, out.name()));
                        r.floatOutputs.add(outs);
                    }
                }
            } catch (OrtException e) {
                r.close();
                throw new IllegalStateException("ONNX Runtime failed to run the float model: " + e.getMessage(), e);
            } catch (RuntimeException e) {
                r.close();
                throw e;
            }
            return r;
        }

        /**
         * Runs {@code quantizedModel} on every held-out batch and compares each tensor output with the float model's.
         *
         * @throws BadInputException when the quantized model lacks an output of the float model or gives it a
         *                           different shape
         */
        public QuantizationFigures measure(byte[] quantizedModel) {
            return measure(quantizedModel, ModelSignature.of(quantizedModel, "the quantized model"));
        }

        /**
         * {@link #measure(byte[])} for a model whose signature the caller already has (read from the graph it wrote,
         * without parsing the bytes again).
         */
        public QuantizationFigures measure(byte[] quantizedModel, ModelSignature quantizedSignature) {
            checkOutputs(signature, quantizedSignature);
            Map<String, Accumulator> figures = new LinkedHashMap<>();
            for (TensorSignature out : signature.outputs()) figures.put(out.name(), new Accumulator(out.name(), labelled));
            try (OnnxRuntimeModel q = new OnnxRuntimeModel(quantizedModel, threads)) {
                for (int b = 0; b < heldOut.size(); b++) {
                    InputBatch batch = heldOut.get(b);
                    try (OrtSession.Result qr = q.run(inputs.get(b))) {
                        for (Accumulator a : figures.values()) {
                            a.add(floatOutputs.get(b).get(a.name), output(qr, a.name), batch.labels(), batch.source());
                        }
                    }
                }
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime failed to run the models to compare them: " + e.getMessage(), e);
            }
            long examples = heldOut.stream().mapToLong(InputBatch::rows).sum();
            return new QuantizationFigures(examples, figures.values().stream().map(Accumulator::figures).toList(),
                    signature.skippedOutputs());
        }

        @Override
        public void close() {
            inputs.forEach(in -> OnnxValue.close(in));
            inputs.clear();
        }
    }

    private static void checkOutputs(ModelSignature signature, ModelSignature quantized) {
        for (TensorSignature out : signature.outputs()) {
            if (quantized.output(out.name()) == null) {
                throw new BadInputException("the quantized model has no output '" + out.name() + "' (its outputs are "
                        + quantized.outputs().stream().map(TensorSignature::toString).collect(Collectors.joining(", "))
                        + "); quantize the float model it is compared with");
            }
        }
    }

    private static InputTensor output(OrtSession.Result result, String name) throws OrtException {
        OnnxValue v = result.get(name).orElseThrow(() -> new IllegalStateException("ONNX Runtime gave no output " + name));
        return InputTensor.fromOnnx((OnnxTensor) v);
    }

    /** The figures of {@code output}, or null. */
    public OutputFigures output(String output) {
        return outputs.stream().filter(o -> o.output().equals(output)).findFirst().orElse(null);
    }

    /**
     * The figures of the output {@code budget} is taken on.
     *
     * @throws BadInputException when that output was not measured (no such output, or not a tensor)
     */
    public OutputFigures on(FigureBudget budget) {
        if (budget.output() == null) {
            if (outputs.isEmpty()) throw new BadInputException("--accuracy-budget " + budget.text() + ": the model "
                    + "has no tensor output to measure");
            return outputs.get(0);
        }
        OutputFigures o = output(budget.output());
        if (o == null) {
            throw new BadInputException("--accuracy-budget " + budget.text() + ": the model has no tensor output '"
                    + budget.output() + "'; its outputs are " + outputs.stream().map(OutputFigures::output)
                    .collect(Collectors.joining(", ")));
        }
        return o;
    }

    /**
     * The value of the figure {@code budget} bounds.
     *
     * @throws BadInputException for top1-drop on an output that is not {@code [N, classes]} scores
     */
    public double value(FigureBudget budget) {
        OutputFigures o = on(budget);
        return switch (budget.figure()) {
            case COSINE -> o.cosineMean();
            case COSINE_WORST -> o.cosineWorst();
            case REL_L2 -> o.relativeL2();
            case MAX_ABS -> o.maxAbsError();
            case TOP1_DROP -> {
                if (o.top1AgreementPct() == null) {
                    throw new BadInputException("--accuracy-budget " + budget.text() + ": output '" + o.output()
                            + "' is not [N, classes] scores, so it has no top-1; bound cosine, cosine-worst, rel-l2 or max-abs");
                }
                yield o.floatAccuracyPct() != null ? o.floatAccuracyPct() - o.quantizedAccuracyPct()
                        : 100 - o.top1AgreementPct();
            }
            case ACCURACY_DROP -> {
                if (o.accuracyDropPoints() == null) {
                    throw new BadInputException("--accuracy-budget " + budget.text() + ": output '" + o.output() + "' has "
                            + "no accuracy: " + (o.top1AgreementPct() == null ? "it is not [N, classes] scores"
                            : "the inputs have no labels") + "; give labelled data (--dataset, or a 'labels' array "
                            + "in --inputs) or bound top1-drop");
                }
                yield o.accuracyDropPoints();
            }
        };
    }

    /**
     * The figures that carry accuracy against labels: the first output measured with them, or null when there were no
     * labels or no {@code [N, classes]} output.
     */
    public OutputFigures accuracy() {
        return outputs.stream().filter(o -> o.floatAccuracyPct() != null).findFirst().orElse(null);
    }

    /** One line per output (see {@link OutputFigures#toText()}), then one naming outputs left out, if any. */
    public String toText() {
        List<String> lines = new ArrayList<>(outputs.stream().map(OutputFigures::toText).toList());
        if (!skippedOutputs.isEmpty()) lines.add("not compared (not tensors): " + String.join(", ", skippedOutputs));
        return String.join("\n", lines);
    }

    public String toJson() {
        return Json.write(this);
    }

    /** Running sums for one output. */
    private static final class Accumulator {
        final String name;
        final boolean labelled;
        long rows;
        double cosineSum;
        double cosineWorst = Double.POSITIVE_INFINITY;
        double maxAbs;
        double diffSq;
        double refSq;
        boolean classes = true;
        long agree;
        long floatCorrect;
        long quantizedCorrect;

        Accumulator(String name, boolean labelled) {
            this.name = name;
            this.labelled = labelled;
        }

        void add(InputTensor f, InputTensor q, long[] labels, String source) {
            long[] shape = f.shape();
            if (!Arrays.equals(shape, q.shape())) {
                throw new BadInputException(source + ": the quantized model's output '" + name + "' has shape "
                        + Arrays.toString(q.shape()) + " but the float model's has " + Arrays.toString(shape)
                        + "; quantize the float model it is compared with");
            }
            double[] a = f.toDoubles();
            double[] b = q.toDoubles();
            int n = shape.length == 0 ? 1 : (int) shape[0];
            int width = n == 0 ? 0 : a.length / n;
            classes &= shape.length == 2 && width >= 2 && (f.type() == ElementType.FP32 || f.type() == ElementType.FP64);
            for (int r = 0; r < n; r++) {
                double dot = 0, aa = 0, bb = 0;
                int fTop = r * width, qTop = r * width;
                for (int i = r * width; i < (r + 1) * width; i++) {
                    double d = b[i] - a[i];
                    maxAbs = Math.max(maxAbs, Math.abs(d));
                    diffSq += d * d;
                    dot += a[i] * b[i];
                    aa += a[i] * a[i];
                    bb += b[i] * b[i];
                    if (a[i] > a[fTop]) fTop = i;
                    if (b[i] > b[qTop]) qTop = i;
                }
                refSq += aa;
                double cos = aa == 0 && bb == 0 ? 1 : aa == 0 || bb == 0 ? 0 : dot / Math.sqrt(aa * bb);
                cosineSum += cos;
                cosineWorst = Math.min(cosineWorst, cos);
                if (fTop == qTop) agree++;
                if (labels != null && width > 0) {
                    if (fTop - r * width == labels[r]) floatCorrect++;
                    if (qTop - r * width == labels[r]) quantizedCorrect++;
                }
            }
            rows += n;
        }

        OutputFigures figures() {
            double relative = refSq == 0 ? (diffSq == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(diffSq / refSq);
            boolean scores = classes && rows > 0;
            return new OutputFigures(name, rows, rows == 0 ? 1 : cosineSum / rows, rows == 0 ? 1 : cosineWorst, maxAbs,
                    relative, scores ? 100.0 * agree / rows : null,
                    scores && labelled ? 100.0 * floatCorrect / rows : null,
                    scores && labelled ? 100.0 * quantizedCorrect / rows : null);
        }
    }
}
