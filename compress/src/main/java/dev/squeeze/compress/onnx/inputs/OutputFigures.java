package dev.squeeze.compress.onnx.inputs;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Locale;

/**
 * What quantization cost on one output, measured on held-out examples: the quantized model's output {@code q}
 * against the float model's {@code f}, example by example (one example is one row along the first dimension).
 *
 * @param output               the output's name
 * @param examples             the rows compared
 * @param cosineMean           mean over rows of the cosine similarity of {@code q} and {@code f} (1 when both rows
 *                             are zero, 0 when only one is)
 * @param cosineWorst          the lowest row cosine
 * @param maxAbsError          the largest {@code |q - f|} of any element
 * @param relativeL2           {@code ||q - f|| / ||f||} over every element of every row (0 when both are zero)
 * @param top1AgreementPct     for an output of shape {@code [N, classes]}: the percentage of rows whose largest score
 *                             is in the same class; null for other outputs
 * @param floatAccuracyPct     with labels, for a {@code [N, classes]} output: the float model's accuracy in percent;
 *                             null otherwise
 * @param quantizedAccuracyPct the same for the quantized model
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OutputFigures(String output, long examples, double cosineMean, double cosineWorst, double maxAbsError,
                            double relativeL2, Double top1AgreementPct, Double floatAccuracyPct,
                            Double quantizedAccuracyPct) {

    /** The accuracy int8 lost, in points ({@code floatAccuracyPct - quantizedAccuracyPct}); null without labels. */
    @JsonProperty("accuracyDropPoints")
    public Double accuracyDropPoints() {
        return floatAccuracyPct == null ? null : floatAccuracyPct - quantizedAccuracyPct;
    }

    /**
     * One line: {@code logits: cosine mean 0.999871 (worst 0.998120), max abs error 0.0123, relative L2 error 0.00410,
     * top-1 agreement 99.60%, accuracy 97.10% float / 97.00% quantized (drop 0.10 points) (500 examples)}.
     */
    public String toText() {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "%s: cosine mean %.6f (worst %.6f), max abs error %.4g, relative L2 error %.4g",
                output, cosineMean, cosineWorst, maxAbsError, relativeL2));
        if (top1AgreementPct != null) b.append(String.format(Locale.ROOT, ", top-1 agreement %.2f%%", top1AgreementPct));
        if (floatAccuracyPct != null) {
            b.append(String.format(Locale.ROOT, ", accuracy %.2f%% float / %.2f%% quantized (drop %.2f points)",
                    floatAccuracyPct, quantizedAccuracyPct, accuracyDropPoints()));
        }
        return b.append(" (").append(examples).append(" examples)").toString();
    }
}
