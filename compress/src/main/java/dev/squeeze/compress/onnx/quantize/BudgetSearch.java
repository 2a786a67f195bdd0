package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.onnx.inputs.ModelSignature;
import dev.squeeze.compress.onnx.inputs.QuantizationFigures;
import dev.squeeze.compress.quant.FigureBudget;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Per-node sensitivity and the search for a plan within an accuracy budget, on held-out inputs, for either mode: the
 * search is given the mode's writer (a plan to a quantized graph; static mode's with its calibrated ranges fixed).
 * Each variant measured is one graph rewrite and one ONNX Runtime session over the held-out batches; the float model's outputs and the
 * input tensors are computed once and shared ({@link QuantizationFigures.Reference}). So a model with N int8 nodes
 * costs 1 + N sessions for the plan and the sensitivity, and with a budget at most N - 1 more (one per node left
 * float; the last, one node int8, is the least sensitive node's own measurement, reused).
 *
 * <p>The search: everything int8; while the budget fails, leave float the most sensitive node still int8 (by the
 * budget's figure with only that node int8) and measure again. When even one node int8 fails it, the variant with at
 * least one node int8 whose figure came closest is the one written.
 */
final class BudgetSearch {
    /** Why a node was left float for the budget, before its own figure. */
    static final String OVER_BUDGET = "over budget";

    /** The ranking when no budget is given: relative L2 error on the first output. */
    private static final FigureBudget DEFAULT_RANKING = new FigureBudget(null, FigureBudget.Figure.REL_L2, 0);

    /** One measured variant: its plan, figures, and the ranked figure's value. */
    record Measured(DynamicQuantizer.Plan plan, QuantizationFigures figures, double value) {
    }

    /**
     * What the search found.
     *
     * @param chosen      the plan to write: within the budget, or the closest
     * @param figures     the chosen plan's figures
     * @param sensitivity every int8 candidate alone, worst first
     * @param met         whether the budget holds for {@code chosen}; null without a budget
     * @param variants    how many variants were measured (ONNX Runtime sessions besides the float model's)
     */
    record Found(DynamicQuantizer.Plan chosen, QuantizationFigures figures, List<OnnxSensitivity> sensitivity,
                 Boolean met, int variants) {
    }

    private final Function<DynamicQuantizer.Plan, OnnxMl.ModelProto> writer;
    private final QuantizationFigures.Reference reference;
    private final FigureBudget budget;
    private final FigureBudget ranking;
    private final Consumer<String> progress;
    private int variants;

    /**
     * @param writer the quantized graph of a plan: {@link DynamicQuantizer#quantize} or {@link StaticQuantizer#quantize}
     *               of the float model, at the run's granularity (and, static, its ranges)
     */
    BudgetSearch(Function<DynamicQuantizer.Plan, OnnxMl.ModelProto> writer, QuantizationFigures.Reference reference,
                 FigureBudget budget, Consumer<String> progress) {
        this.writer = writer;
        this.reference = reference;
        this.budget = budget;
        this.ranking = budget == null ? DEFAULT_RANKING : budget;
        this.progress = progress;
    }

    Found run(DynamicQuantizer.Plan plan) {
        List<OnnxCandidate> candidates = plan.candidates();
        List<Integer> int8 = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) if (candidates.get(i).quantized()) int8.add(i);

        Measured all = measure(plan);
        progress.accept("measuring each of " + int8.size() + " int8 nodes alone (one ONNX Runtime session each)");
        List<Measured> alone = new ArrayList<>();
        for (int i : int8) alone.add(measure(plan.with(leftFloat(candidates, int8, i, "measured alone"))));
        // Worst first: the ranked figure's worst value first; ties in the candidates' order.
        List<Integer> order = new ArrayList<>();
        for (int k = 0; k < int8.size(); k++) order.add(k);
        order.sort(Comparator.comparingDouble((Integer k) -> -badness(alone.get(k).value)).thenComparing(k -> k));
        List<OnnxSensitivity> sensitivity = new ArrayList<>();
        for (int k : order) {
            OnnxCandidate c = candidates.get(int8.get(k));
            sensitivity.add(new OnnxSensitivity(c.node(), c.op(), alone.get(k).figures,
                    ranking.describe(alone.get(k).value)));
        }
        if (budget == null) return new Found(plan, all.figures, sensitivity, null, variants);

        Measured closest = all;
        Measured current = all;
        List<OnnxCandidate> decided = new ArrayList<>(candidates);
        for (int step = 0; step < order.size() && !budget.holds(current.value); step++) {
            int k = order.get(step);
            int index = int8.get(k);
            decided.set(index, candidates.get(index).leftFloat(OVER_BUDGET + " (alone: "
                    + ranking.describe(alone.get(k).value) + ")"));
            if (step == order.size() - 1) break; // nothing int8 is left: not a variant
            progress.accept("over the budget " + budget.text() + " (" + budget.describe(current.value) + "): leaving "
                    + candidates.get(index).node() + " float");
            DynamicQuantizer.Plan next = plan.with(List.copyOf(decided));
            // The last node int8 alone was measured already.
            current = step == order.size() - 2 ? new Measured(next, alone.get(order.get(step + 1)).figures,
                    alone.get(order.get(step + 1)).value) : measure(next);
            if (budget.better(current.value, closest.value)) closest = current;
        }
        boolean met = budget.holds(current.value);
        Measured chosen = met ? current : closest;
        return new Found(chosen.plan, chosen.figures, sensitivity, met, variants);
    }

    /** The larger, the worse: an error as it is, a figure that must be high (cosine) negated. */
    private double badness(double value) {
        return ranking.better(0, 1) ? value : -value;
    }

    private Measured measure(DynamicQuantizer.Plan plan) {
        variants++;
        OnnxMl.ModelProto quantized = writer.apply(plan);
        QuantizationFigures figures = reference.measure(quantized.toByteArray(), ModelSignature.of(quantized));
        return new Measured(plan, figures, figures.value(ranking));
    }

    /** The candidates with every int8 one but {@code keep} left float for {@code why}. */
    private static List<OnnxCandidate> leftFloat(List<OnnxCandidate> candidates, List<Integer> int8, int keep, String why) {
        List<OnnxCandidate> out = new ArrayList<>(candidates);
        for (int i : int8) if (i != keep) out.set(i, candidates.get(i).leftFloat(why));
        return out;
    }
}
