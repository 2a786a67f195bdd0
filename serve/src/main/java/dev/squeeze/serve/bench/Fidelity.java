package dev.squeeze.serve.bench;

import dev.squeeze.core.ExportProvenance;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How closely a quantized model follows the float model it was quantized from: the quality axis of a model that has
 * no labelled test set (an embedding model, say). It is not accuracy: 1 means "the same outputs as the float model",
 * not "always right". It comes from the figures {@code squeeze quantize --from model.onnx --inputs FILE} stored in
 * the quantized file's provenance, measured on the user's inputs at quantize time; the float model itself is the
 * reference, 1 by definition, when it is benchmarked in the same set (recognised by its SHA-256, which the quantized
 * file's provenance names).
 *
 * <p>Which figure: the top-1 agreement (as a fraction) of the first output that was measured with labels (labelled
 * inputs say that an output of shape {@code [N, classes]} holds class scores); otherwise the cosine mean of the first
 * output measured. Shape alone cannot tell class scores from an embedding ({@code [N, 384]} is both), and the top-1
 * agreement of an embedding's largest element means nothing.
 *
 * @param figure      {@value #TOP1} or {@value #COSINE}
 * @param value       the figure: a fraction, 1 for the float model's own outputs (cosine in [-1, 1])
 * @param output      the output it is measured on
 * @param examples    the held-out examples it was measured on; null for the reference
 * @param floatSha256 the SHA-256 of the float model it is measured against (for the reference: its own)
 * @param reference   whether this is the float model itself, 1 by definition
 */
public record Fidelity(String figure, double value, String output, Long examples, String floatSha256,
                       boolean reference) {
    /** Rows whose largest score is in the same class as the float model's, as a fraction. */
    public static final String TOP1 = "top-1 agreement";
    /** The mean over rows of the cosine similarity of the quantized and the float output. */
    public static final String COSINE = "cosine mean";

    /**
     * The fidelity the figures in a file's provenance give, or null when it has none (not a quantized ONNX file, no
     * inputs given at quantize time, no tensor output measured) or does not name its source file.
     */
    public static Fidelity of(ExportProvenance provenance) {
        if (provenance == null || provenance.figures() == null || provenance.sourceSha256() == null) return null;
        ExportProvenance.OutputFigures chosen = null;
        for (ExportProvenance.OutputFigures o : provenance.figures().outputs()) {
            if (o.top1AgreementPct() != null && o.floatAccuracyPct() != null) {
                chosen = o;
                break;
            }
        }
        if (chosen != null) {
            return new Fidelity(TOP1, chosen.top1AgreementPct() / 100, chosen.output(), chosen.examples(),
                    provenance.sourceSha256(), false);
        }
        if (provenance.figures().outputs().isEmpty()) return null;
        ExportProvenance.OutputFigures first = provenance.figures().outputs().get(0);
        return new Fidelity(COSINE, first.cosineMean(), first.output(), first.examples(), provenance.sourceSha256(), false);
    }

    /**
     * The float models a set of files was quantized from, by SHA-256, each with its reference fidelity (1, the figure
     * and output of the first quantized file in the set that names it).
     */
    public static Map<String, Fidelity> references(Collection<ExportProvenance> provenances) {
        Map<String, Fidelity> out = new LinkedHashMap<>();
        for (ExportProvenance p : provenances) {
            Fidelity f = of(p);
            if (f != null) out.putIfAbsent(f.floatSha256(), new Fidelity(f.figure(), 1, f.output(), null, f.floatSha256(), true));
        }
        return out;
    }

    /**
     * One short phrase for tables: {@code cosine mean 0.99741 (sentence_embedding, 64 examples)},
     * {@code top-1 agreement 99.60% (logits, 500 examples)}, {@code float reference (cosine mean 1)}.
     */
    public String describe() {
        if (reference) return "float reference (" + figure + " " + (TOP1.equals(figure) ? "100%" : "1") + ")";
        String v = TOP1.equals(figure) ? String.format(Locale.ROOT, "%.2f%%", 100 * value)
                : String.format(Locale.ROOT, "%.5f", value);
        return figure + " " + v + " (" + output + (examples == null ? "" : ", " + examples + " examples") + ")";
    }
}
