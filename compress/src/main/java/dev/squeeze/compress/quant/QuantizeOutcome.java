package dev.squeeze.compress.quant;

import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.report.FixedWidthTable;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code squeeze quantize} did: the float model's accuracy, every int8 variant tried (calibrations, then QAT),
 * each layer's sensitivity, and the variant kept, with its test accuracy measured by loading the written file.
 *
 * @param budget      the accuracy budget in points, or null
 * @param budgetMet   whether the kept variant's validation drop is within the budget (true without a budget)
 * @param bits        the weight bits asked for: 8, or 4 (dense layers 4-bit); null in outcomes written before 4 bits
 * @param blockSize   with 4 bits, the weights that share a scale; else null
 * @param kept8bit    with 4 bits, the layers at 8 bits: those named by --keep-8bit and every convolution; else null
 * @param floatConvolutions whether convolutions compute in float over int8 weights ({@code --conv-activations float});
 *                    null in outcomes written before that setting
 */
public record QuantizeOutcome(String runId, String sourceRun, String sourceFile, String model, double floatValAcc,
                              double floatTestAcc, long floatFileBytes, List<Trial> trials, List<Sensitivity> sensitivity,
                              Trial kept, double int8TestAcc, long int8FileBytes, long params, List<Integer> keptFloat,
                              Double budget, boolean budgetMet, Integer bits, Integer blockSize, List<Integer> kept8bit,
                              Boolean floatConvolutions) {

    /** Whether dense layers have 4-bit weights. */
    public boolean fourBit() {
        return bits != null && bits == QuantParams.FOUR_BITS;
    }

    /**
     * The quantized model's weights in a few words: "int8 channel", "int4 blocks of 32", "int4 blocks of 32 + int8",
     * with ", float convolutions" where convolutions compute in float over their int8 weights.
     */
    String weights(String granularity) {
        String convolutions = Boolean.TRUE.equals(floatConvolutions) ? ", float convolutions" : "";
        if (!fourBit()) return "int8 " + granularity + convolutions;
        return "int4 blocks of " + blockSize + (kept8bit == null || kept8bit.isEmpty() ? "" : " + int8 " + granularity)
                + convolutions;
    }

    /** One int8 variant: how it was made and its validation accuracy. */
    public record Trial(String calibration, String granularity, int qatEpochs, double valAcc, double drop) {
        String name() {
            return calibration + (qatEpochs > 0 ? " + QAT " + qatEpochs + " ep" : "");
        }
    }

    /**
     * Validation accuracy when only {@code layer} is quantized, at {@code bits} (null: 8, as outcomes written before 4
     * bits), and the drop against float.
     */
    public record Sensitivity(int layer, String label, double valAcc, double drop, Integer bits) {
    }

    public String format() {
        StringBuilder out = new StringBuilder();
        List<String[]> t = new ArrayList<>();
        t.add(new String[]{"VARIANT", "WEIGHTS", "VAL ACC", "DROP"});
        t.add(new String[]{"float", "float32", pct(floatValAcc), ""});
        for (Trial trial : trials) {
            t.add(new String[]{trial.name() + (trial.equals(kept) ? " (kept)" : ""), weights(trial.granularity()),
                    pct(trial.valAcc()), points(trial.drop())});
        }
        out.append(FixedWidthTable.format(t, new boolean[]{false, false, true, true})).append(System.lineSeparator());
        List<String[]> s = new ArrayList<>();
        if (fourBit()) {
            s.add(new String[]{"LAYER", "BITS", "VAL ACC WITH ONLY THIS LAYER QUANTIZED", "DROP"});
            for (Sensitivity x : sensitivity) {
                s.add(new String[]{x.label(), String.valueOf(x.bits() == null ? QuantParams.EIGHT_BITS : x.bits()),
                        pct(x.valAcc()), points(x.drop())});
            }
            out.append(FixedWidthTable.format(s, new boolean[]{false, true, true, true})).append(System.lineSeparator());
            out.append("        dense layers measured at 4 bits (keep the worst at 8 with --keep-8bit N); convolutions "
                    + "stay 8-bit: ONNX Runtime has no 4-bit convolution").append(System.lineSeparator());
        } else {
            s.add(new String[]{"LAYER", "VAL ACC WITH ONLY THIS LAYER INT8", "DROP"});
            for (Sensitivity x : sensitivity) s.add(new String[]{x.label(), pct(x.valAcc()), points(x.drop())});
            out.append(FixedWidthTable.format(s, new boolean[]{false, true, true})).append(System.lineSeparator());
        }
        out.append(String.format(Locale.ROOT, "test    float %s -> %s %s (%s points)%n", pct(floatTestAcc),
                fourBit() ? "int4" : "int8", pct(int8TestAcc), points(floatTestAcc - int8TestAcc)));
        out.append(String.format(Locale.ROOT, "size    %,d -> %,d bytes (%.1f%% of the float file), %,d parameters%s%n",
                floatFileBytes, int8FileBytes, 100.0 * int8FileBytes / floatFileBytes, params,
                keptFloat.isEmpty() ? "" : ", layers kept float: " + keptFloat));
        if (fourBit() && kept8bit != null && !kept8bit.isEmpty()) {
            out.append(String.format(Locale.ROOT, "8-bit   layers %s (int8 weights and activations)%n", kept8bit));
        }
        out.append(String.format(Locale.ROOT, "run     %s (from %s)%nmodel   %s%n", runId,
                sourceRun != null ? sourceRun : sourceFile, model));
        if (budget != null) {
            out.append(budgetMet
                    ? String.format(Locale.ROOT, "budget  met: %s drop on validation, within %s%n", points(kept.drop()), budget)
                    : String.format(Locale.ROOT, "budget  NOT met: the closest was %s with a %s point drop on validation "
                            + "(budget %s); try more --qat-epochs, %s the most sensitive layer above%n",
                            kept.name(), points(kept.drop()), budget,
                            fourBit() ? "or --keep-8bit (or --keep-float)" : "--granularity channel, or --keep-float"));
        }
        return out.toString();
    }

    public String json() {
        return Json.write(this);
    }

    private static String pct(double fraction) {
        return String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
    }

    private static String points(double drop) {
        return String.format(Locale.ROOT, "%.2f", 100 * drop);
    }
}
