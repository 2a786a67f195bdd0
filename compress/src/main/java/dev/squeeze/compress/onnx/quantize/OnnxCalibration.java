package dev.squeeze.compress.onnx.quantize;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What static mode's calibration did: the method whose activation ranges the written file has, on how many examples,
 * and with {@code --calibration auto} each method's figure on the calibration examples (never the held-out ones).
 *
 * @param requested  the method asked for: {@code auto}, {@code minmax}, {@code percentile} or {@code entropy}
 * @param method     the method whose ranges were written (auto: the one whose figure was best)
 * @param percentile where the percentile method clips (only that method uses it)
 * @param examples   the calibration examples the ranges were observed on
 * @param tensors    how many activation tensors were calibrated
 * @param figure     with auto, the figure the methods were compared by and its output ({@code top1-drop on logits});
 *                   null otherwise
 * @param trials     with auto, each method's figure, in the order tried; empty otherwise
 */
public record OnnxCalibration(String requested, String method, double percentile, long examples, int tensors,
                              String figure, List<Trial> trials) {
    public OnnxCalibration {
        trials = trials == null ? List.of() : List.copyOf(trials);
    }

    /**
     * One method tried by auto.
     *
     * @param method    its label
     * @param value     the compared figure's value with that method's ranges, every int8 node int8
     * @param described the figure as reports print it ({@code cosine 0.999512})
     * @param cosine    the mean cosine on the figure's output: what breaks a tie
     */
    public record Trial(String method, double value, String described, double cosine) {
    }

    /**
     * {@code calibration entropy, 5 activation tensors on 48 calibration examples} or, with auto, {@code calibration
     * auto: entropy, 5 activation tensors on 48 calibration examples; by top1-drop on logits: minmax 0.00 (cosine
     * 0.999970), ...} (the cosine, which breaks ties, shown when the figure is another).
     */
    public String line() {
        String on = String.format(Locale.ROOT, "%d activation tensors on %,d calibration examples", tensors, examples);
        String how = method + ("percentile".equals(method) ? " " + dev.squeeze.core.settings.SettingSpec.number(percentile)
                : "");
        if (trials.isEmpty()) return "calibration " + how + ", " + on;
        return "calibration auto: " + how + ", " + on + "; by " + figure + ": " + trials.stream()
                .map(t -> t.method() + " " + t.described().substring(t.described().indexOf(' ') + 1)
                        + (figure.startsWith("cosine ") ? "" : String.format(Locale.ROOT, " (cosine %.6f)", t.cosine())))
                .collect(Collectors.joining(", "));
    }
}
