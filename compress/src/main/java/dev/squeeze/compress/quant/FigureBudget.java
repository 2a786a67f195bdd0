package dev.squeeze.compress.quant;

import dev.squeeze.core.settings.SettingCheck;
import dev.squeeze.core.settings.SettingSpec;

import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * An accuracy budget over a figure that quantizing an ONNX file is measured by (see
 * {@code onnx.inputs.QuantizationFigures#value}), for an ONNX file quantized with
 * {@code --inputs} or {@code --dataset}: {@code cosine>=0.99}, {@code top1-drop<=0.5}, {@code accuracy-drop<=0.5},
 * {@code rel-l2<=0.05}, taken on the first output, or
 * on the output named before a colon ({@code logits:top1-drop<=0.5}). Written as {@code --accuracy-budget}, the setting
 * whose plain number is a Squeeze model's budget in points; {@link Check} reads the text once, where the setting comes
 * in, and gives it back canonical.
 *
 * @param output the output it is taken on, or null for the first
 * @param figure what is bounded
 * @param bound  the figure's worst allowed value
 */
public record FigureBudget(String output, Figure figure, double bound) {
    private static final Pattern FORM = Pattern.compile("(?:(.+):)?\\s*([A-Za-z0-9-]+)\\s*(>=|<=)\\s*(\\S+)");

    /** The figures a budget can bound, each from one side. */
    public enum Figure {
        /** Mean row cosine similarity, at least. */
        COSINE("cosine", true, -1, 1),
        /** The worst row's cosine similarity, at least. */
        COSINE_WORST("cosine-worst", true, -1, 1),
        /** Relative L2 error, at most. */
        REL_L2("rel-l2", false, 0, Double.POSITIVE_INFINITY),
        /** Largest absolute error of any element, at most. */
        MAX_ABS("max-abs", false, 0, Double.POSITIVE_INFINITY),
        /**
         * Top-1 accuracy lost, in points, at most: against the labels when the inputs have them, else against the
         * float model's own top-1 (100 - top-1 agreement). Only for a {@code [N, classes]} output.
         */
        TOP1_DROP("top1-drop", false, 0, 100),
        /**
         * Accuracy lost against the labels, in points, at most: the float model's accuracy minus the int8 model's.
         * Only with labels ({@code --dataset}, or a {@code labels} array in {@code --inputs}) and for a
         * {@code [N, classes]} output.
         */
        ACCURACY_DROP("accuracy-drop", false, 0, 100);

        final String label;
        final boolean atLeast;
        final double min;
        final double max;

        Figure(String label, boolean atLeast, double min, double max) {
            this.label = label;
            this.atLeast = atLeast;
            this.min = min;
            this.max = max;
        }

        public String label() {
            return label;
        }

        /** {@code >=} for a figure that must be high enough, {@code <=} for an error. */
        public String operator() {
            return atLeast ? ">=" : "<=";
        }

        static Figure of(String label) {
            for (Figure f : values()) if (f.label.equals(label)) return f;
            return null;
        }
    }

    /**
     * Reads {@code [OUTPUT:]FIGURE>=X} or {@code [OUTPUT:]FIGURE<=X}.
     *
     * @throws IllegalArgumentException saying what is wrong with it
     */
    public static FigureBudget parse(String text) {
        Matcher m = FORM.matcher(text.trim());
        if (!m.matches()) throw new IllegalArgumentException("not FIGURE>=X or FIGURE<=X: " + text);
        Figure f = Figure.of(m.group(2).toLowerCase(Locale.ROOT));
        if (f == null) throw new IllegalArgumentException("no figure '" + m.group(2) + "'");
        if (!f.operator().equals(m.group(3))) {
            throw new IllegalArgumentException(f.label + " is bounded with " + f.operator());
        }
        double bound;
        try {
            bound = new java.math.BigDecimal(m.group(4)).doubleValue();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number: " + m.group(4));
        }
        if (!(bound >= f.min && bound <= f.max)) {
            throw new IllegalArgumentException(f.label + " out of range: " + m.group(4));
        }
        String output = m.group(1) == null ? null : m.group(1).trim();
        if (output != null && output.isEmpty()) throw new IllegalArgumentException("an empty output name");
        return new FigureBudget(output, f, bound);
    }

    /** The canonical text: {@code cosine>=0.99}, {@code logits:top1-drop<=0.5}. */
    public String text() {
        return (output == null ? "" : output + ":") + figure.label + figure.operator() + SettingSpec.number(bound);
    }

    @Override
    public String toString() {
        return text();
    }

    /** Whether {@code value} is within the budget (to 1e-9, as the points budget compares). */
    public boolean holds(double value) {
        return figure.atLeast ? value >= bound - 1e-9 : value <= bound + 1e-9;
    }

    /** Whether {@code a} is a better value of the figure than {@code b}. */
    public boolean better(double a, double b) {
        return figure.atLeast ? a > b : a < b;
    }

    /** {@code cosine 0.998712}, {@code top1-drop 1.25}: the figure's value as reports print it. */
    public String describe(double value) {
        boolean points = figure == Figure.TOP1_DROP || figure == Figure.ACCURACY_DROP;
        return figure.label + " " + (points ? String.format(Locale.ROOT, "%.2f", value)
                : String.format(Locale.ROOT, "%.6g", value));
    }

    /**
     * The check of {@code --accuracy-budget}: it claims every text that is not a number, reads it as a figure bound and
     * gives its canonical form; a number is the setting's other form, points for a Squeeze model.
     */
    public static final class Check implements SettingCheck {
        @Override
        public String apply(String text) {
            return parse(text).text();
        }

        @Override
        public boolean claims(String text) {
            // Spellings of numbers, valid or not (1e-3, .inf, nan), stay numbers and are refused as numbers.
            return !text.trim().toLowerCase(Locale.ROOT).matches("[-+]?(\\.?inf(inity)?|nan|[0-9.][0-9.e+-]*)");
        }

        @Override
        public String accepts() {
            return "points for a Squeeze model (a number from 0 to 100) or, for an ONNX file, a bound on a figure: "
                    + Arrays.stream(Figure.values()).map(f -> f.label + f.operator() + "X").collect(Collectors.joining(", "))
                    + ", on the first output or on OUTPUT:FIGURE";
        }
    }
}
