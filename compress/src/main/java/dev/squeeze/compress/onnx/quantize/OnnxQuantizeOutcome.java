package dev.squeeze.compress.onnx.quantize;

import dev.squeeze.compress.quant.FigureBudget;
import dev.squeeze.compress.onnx.inputs.OutputFigures;
import dev.squeeze.compress.onnx.inputs.QuantizationFigures;
import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.report.FixedWidthTable;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code squeeze quantize} did to an ONNX file: every candidate node and whether it went int8 (or why not), the
 * sizes, and the integer kernels ONNX Runtime runs after its optimizations.
 *
 * @param source          the ONNX file given
 * @param sourceSha256    its SHA-256: its identity in the run's hash
 * @param model           the quantized file in the run folder
 * @param output          the copy at {@code --onnx-output}, or null
 * @param mode            {@code dynamic} or {@code static}
 * @param granularity     {@code channel} or {@code tensor}: how many weight scales per node
 * @param opsetBefore     the source's default-domain opset
 * @param opset           the written file's (raised when lower to {@value DynamicQuantizer#MIN_OPSET} in dynamic mode,
 *                        {@value StaticQuantizer#MIN_OPSET} in static mode)
 * @param params          the source's parameter count (initializer elements)
 * @param int8Weights     how many of them are now int8
 * @param integerKernels  the integer operators in ONNX Runtime's optimized graph
 * @param figures         what quantization cost, measured on the user's inputs ({@code --inputs}), or null: the
 *                        written file's
 * @param sensitivity     with inputs: every node int8 in the full plan, measured alone, worst first; else empty
 * @param budget          the accuracy budget ({@code cosine>=0.99}), or null
 * @param budgetMet       whether the written file meets it (else it is the closest found); null without a budget
 * @param calibration     static mode: the calibration method written and how it was chosen; null in dynamic mode
 * @param dataset         the dataset whose test split the figures were measured on ({@code --dataset}), or null for
 *                        the user's inputs
 */
public record OnnxQuantizeOutcome(String runId, String source, String sourceSha256, String model, String output,
                                  String mode, String granularity, long opsetBefore, long opset, long floatFileBytes,
                                  long int8FileBytes, long params, long int8Weights, List<OnnxCandidate> candidates,
                                  List<String> integerKernels, QuantizationFigures figures,
                                  List<OnnxSensitivity> sensitivity, String budget, Boolean budgetMet,
                                  OnnxCalibration calibration, String dataset) {

    public OnnxQuantizeOutcome {
        sensitivity = sensitivity == null ? List.of() : List.copyOf(sensitivity); // outcomes written before it
    }

    /** This outcome with the quantized file copied to {@code file}. */
    public OnnxQuantizeOutcome withOutput(String file) {
        return new OnnxQuantizeOutcome(runId, source, sourceSha256, model, file, mode, granularity, opsetBefore, opset,
                floatFileBytes, int8FileBytes, params, int8Weights, candidates, integerKernels, figures, sensitivity,
                budget, budgetMet, calibration, dataset);
    }

    /** False only when a budget was given and nothing met it: the file written is the closest found. */
    public boolean withinBudget() {
        return budgetMet == null || budgetMet;
    }

    /** The nodes left float so that the budget holds (or, when nothing met it, for the closest). */
    public List<String> leftFloatForBudget() {
        return candidates.stream().filter(c -> !c.quantized() && c.reason().startsWith(BudgetSearch.OVER_BUDGET))
                .map(OnnxCandidate::node).toList();
    }

    /**
     * One line on the budget: {@code budget  met: cosine 0.999512 on y (cosine>=0.999), 5 of 6 nodes int8, left float:
     * matmul_7_node}, or NOT met and what came closest; null without a budget.
     */
    public String budgetLine() {
        if (budget == null) return null;
        FigureBudget b = FigureBudget.parse(budget);
        OutputFigures on = figures.on(b);
        List<String> kept = leftFloatForBudget();
        String state = String.format(Locale.ROOT, "%s on %s, %d of %d nodes int8%s", b.describe(figures.value(b)),
                on.output(), quantizedCount(), candidates.size(),
                kept.isEmpty() ? "" : ", left float: " + String.join(", ", kept));
        return withinBudget() ? "budget  met (" + budget + "): " + state
                : "budget  NOT met (" + budget + "): the closest, written, has " + state
                        + "; loosen the budget" + ("tensor".equals(granularity) ? " or try --granularity channel" : "");
    }

    public long quantizedCount() {
        return candidates.stream().filter(OnnxCandidate::quantized).count();
    }

    public String format() {
        StringBuilder out = new StringBuilder();
        List<String[]> t = new ArrayList<>();
        t.add(new String[]{"NODE", "OP", "WEIGHT", "INT8", "WHY LEFT FLOAT"});
        for (OnnxCandidate c : candidates) {
            t.add(new String[]{c.node(), c.op(), c.weightShape().isEmpty() ? "-" : shape(c.weightShape()),
                    c.quantized() ? "yes" : "no", c.quantized() ? "" : c.reason()});
        }
        out.append(FixedWidthTable.format(t, new boolean[]{false, false, false, false, false})).append(System.lineSeparator());
        String activations = calibration == null ? "activations quantized at run time"
                : "activations uint8, ranges calibrated by " + calibration.method();
        out.append(String.format(Locale.ROOT, "int8    %d of %d candidates (%s: weights symmetric per %s, %s): %,d of %,d "
                        + "parameters%n", quantizedCount(), candidates.size(), mode, granularity, activations, int8Weights,
                params));
        if (calibration != null) out.append(calibration.line()).append(System.lineSeparator());
        out.append(String.format(Locale.ROOT, "size    %,d -> %,d bytes (%.1f%% of the float file)%n", floatFileBytes,
                int8FileBytes, 100.0 * int8FileBytes / floatFileBytes));
        out.append("kernels ").append(integerKernels.isEmpty() ? "none: only Gather tables are int8"
                        : String.join(", ", integerKernels))
                .append(" (ONNX Runtime's graph after its optimizations)").append(System.lineSeparator());
        out.append(String.format(Locale.ROOT, "opset   %d%s%n", opset,
                opset == opsetBefore ? "" : " (raised from " + opsetBefore + " for " + (calibration == null
                        ? "DynamicQuantizeLinear" : "per-channel DequantizeLinear") + ")"));
        out.append(String.format(Locale.ROOT, "run     %s (from %s, sha256 %s)%nmodel   %s%n", runId, source,
                sourceSha256.substring(0, 12), model));
        if (output != null) out.append("output  ").append(output).append(System.lineSeparator());
        if (figures != null) {
            out.append(String.format(Locale.ROOT, "cost    on %,d %sexamples of %s, int8 against float:%n",
                    figures.examples(), calibration == null || dataset != null ? "" : "held-out ",
                    dataset == null ? "your inputs" : "the " + dataset + " test split"));
            figures.toText().lines().forEach(l -> out.append("  ").append(l).append(System.lineSeparator()));
            OutputFigures accuracy = figures.accuracy();
            if (accuracy != null) {
                out.append(String.format(Locale.ROOT, "accuracy %.2f%% float -> %.2f%% int8 (drop %.2f points) on %s%n",
                        accuracy.floatAccuracyPct(), accuracy.quantizedAccuracyPct(), accuracy.accuracyDropPoints(),
                        dataset == null ? "the labels of your inputs" : "the " + dataset + " test split"));
            }
        }
        if (!sensitivity.isEmpty()) out.append(sensitivityTable());
        if (budget != null) out.append(budgetLine()).append(System.lineSeparator());
        return out.toString();
    }

    /** Each node alone, worst first: its ranked figure and the usual figures on the output it is ranked on. */
    private String sensitivityTable() {
        String ranked = sensitivity.get(0).ranked();
        String figure = ranked.substring(0, ranked.indexOf(' '));
        FigureBudget b = budget == null ? null : FigureBudget.parse(budget);
        String output = b == null ? sensitivity.get(0).figures().outputs().get(0).output()
                : sensitivity.get(0).figures().on(b).output();
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                "sensitivity (each node int8 alone, on output %s, worst %s first):%n", output, figure));
        List<String[]> t = new ArrayList<>();
        t.add(new String[]{"NODE", "OP", "COSINE", "WORST COSINE", "REL L2", "MAX ABS", "TOP-1 AGREE"});
        for (OnnxSensitivity s : sensitivity) {
            OutputFigures o = s.figures().output(output);
            t.add(new String[]{s.node(), s.op(), String.format(Locale.ROOT, "%.6f", o.cosineMean()),
                    String.format(Locale.ROOT, "%.6f", o.cosineWorst()), String.format(Locale.ROOT, "%.4g", o.relativeL2()),
                    String.format(Locale.ROOT, "%.4g", o.maxAbsError()),
                    o.top1AgreementPct() == null ? "-" : String.format(Locale.ROOT, "%.2f%%", o.top1AgreementPct())});
        }
        FixedWidthTable.format(t, new boolean[]{false, false, true, true, true, true, true}).lines()
                .forEach(l -> out.append("  ").append(l).append(System.lineSeparator()));
        return out.toString();
    }

    public String json() {
        return Json.write(this);
    }

    private static String shape(List<Long> dims) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < dims.size(); i++) s.append(i == 0 ? "" : ", ").append(dims.get(i));
        return s.append(']').toString();
    }
}
