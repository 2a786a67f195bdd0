package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.onnx.inputs.InputBatch;
import dev.squeeze.compress.onnx.inputs.ModelSignature;
import dev.squeeze.compress.onnx.inputs.OutputFigures;
import dev.squeeze.compress.onnx.inputs.QuantizationFigures;
import dev.squeeze.compress.quant.Calibration;
import dev.squeeze.compress.quant.FigureBudget;
import dev.squeeze.compress.quant.Granularity;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Static mode's activation ranges: statistics of every tensor the plan's int8 nodes read and write, gathered once on
 * the calibration examples ({@link ActivationStatistics}), and the method that turns them into ranges. With several
 * methods (auto) each one's graph, every planned node int8, is measured against the float model on the same
 * calibration examples, and the best by one figure is kept: the budget's when there is one, else top-1 agreement when
 * the first output is {@code [N, classes]} scores, else its mean cosine; a tie goes to the higher cosine on that
 * output, then to the method tried first. The held-out examples play no part: they only report what the choice cost.
 */
final class StaticCalibration {
    private StaticCalibration() {
    }

    /**
     * The chosen ranges and what was done to choose them.
     *
     * @param ranges every calibrated tensor's uint8 quantization under the chosen method
     */
    record Calibrated(OnnxCalibration report, Map<String, ActivationQuant> ranges) {
    }

    /**
     * @param signature   the float model's inputs and outputs
     * @param methods     the methods to try, in order (one: no comparison)
     * @param requested   the method as asked for ({@code auto} or a method's label), for the report
     * @param calibration the calibration batches (already capped at {@code --samples})
     * @param budget      the accuracy budget, or null
     */
    static Calibrated run(OnnxMl.ModelProto model, ModelSignature signature, DynamicQuantizer.Plan plan,
                          Granularity granularity, List<Calibration> methods, String requested, double percentile,
                          List<InputBatch> calibration, FigureBudget budget, Consumer<String> progress) {
        List<String> tensors = new ArrayList<>(StaticQuantizer.calibrationTensors(model, plan));
        long examples = calibration.stream().mapToLong(InputBatch::rows).sum();
        progress.accept("calibrating " + tensors.size() + " activation tensors on " + examples + " examples");
        ActivationStatistics statistics = ActivationStatistics.collect(model, tensors, calibration, 1);
        if (methods.size() == 1) {
            Calibration only = methods.get(0);
            return new Calibrated(new OnnxCalibration(requested, only.label(), percentile, examples, tensors.size(), null,
                    List.of()), statistics.quantizations(only, percentile));
        }
        progress.accept("comparing " + methods.size() + " calibration methods on the calibration examples");
        FigureBudget by = budget;
        List<OnnxCalibration.Trial> trials = new ArrayList<>();
        Calibration best = null;
        double bestValue = 0;
        double bestCosine = 0;
        try (QuantizationFigures.Reference reference = QuantizationFigures.Reference.of(signature, model.toByteArray(),
                calibration, 1)) {
            for (Calibration method : methods) {
                Map<String, ActivationQuant> ranges = statistics.quantizations(method, percentile);
                OnnxMl.ModelProto quantized = StaticQuantizer.quantize(model, plan, granularity, ranges);
                QuantizationFigures figures = reference.measure(quantized.toByteArray(), ModelSignature.of(quantized));
                if (by == null) {
                    OutputFigures first = figures.outputs().get(0);
                    by = new FigureBudget(null, first.top1AgreementPct() != null ? FigureBudget.Figure.TOP1_DROP
                            : FigureBudget.Figure.COSINE, 0);
                }
                double value = figures.value(by);
                double cosine = figures.on(by).cosineMean();
                trials.add(new OnnxCalibration.Trial(method.label(), value, by.describe(value), cosine));
                if (best == null || by.better(value, bestValue) || value == bestValue && cosine > bestCosine) {
                    best = method;
                    bestValue = value;
                    bestCosine = cosine;
                }
            }
        }
        String figure = by.figure().label() + " on " + (by.output() != null ? by.output()
                : signature.outputs().get(0).name());
        return new Calibrated(new OnnxCalibration(requested, best.label(), percentile, examples, tensors.size(), figure,
                trials), statistics.quantizations(best, percentile));
    }
}
