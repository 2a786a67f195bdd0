package dev.squeeze.compress.doctor;

import dev.squeeze.compress.train.TrainParams;
import java.util.Arrays;
import java.util.Locale;

/**
 * What a loss curve did, in the talk's words, with the usual causes of each shape: it goes up instead of
 * down; goes down, then explodes; oscillates; plateaus at a value; or is still falling when time runs out.
 */
record LossPattern(Kind kind, String description, String causes) {

    enum Kind { CONVERGED, RISES, EXPLODES_AFTER_FALLING, OSCILLATES, PLATEAUS, STILL_FALLING }

    /**
     * @param loss      the loss before the first step, then after each step
     * @param target    a loss at or below this counts as converged
     * @param priorLoss the loss of predicting the label frequencies (their entropy): a plateau there means the
     *                  network ignores its inputs
     */
    static LossPattern classify(double[] loss, double target, double priorLoss) {
        int n = loss.length;
        double first = loss[0];
        int firstBad = -1;
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(loss[i])) {
                firstBad = i;
                break;
            }
        }
        int finite = firstBad < 0 ? n : firstBad;
        int minStep = 0;
        for (int i = 1; i < finite; i++) if (loss[i] < loss[minStep]) minStep = i;
        double min = finite > 0 ? loss[minStep] : Double.NaN;

        if (firstBad >= 0) {
            if (finite > 1 && min < 0.9 * first) {
                return new LossPattern(Kind.EXPLODES_AFTER_FALLING, String.format(Locale.ROOT,
                        "the loss went down (%.3f to %.3f at step %d), then exploded to %s at step %d",
                        first, min, minStep + 1, loss[firstBad], firstBad + 1), CAUSE_TOO_HIGH_LATE);
            }
            return new LossPattern(Kind.RISES, String.format(Locale.ROOT,
                    "the loss became %s at step %d without ever falling", loss[firstBad], firstBad + 1), CAUSE_UP);
        }

        int tail = Math.max(5, n / 10);
        double last = mean(loss, n - tail, n);
        if (last <= target) {
            return new LossPattern(Kind.CONVERGED, String.format(Locale.ROOT, "the loss fell from %.3f to %.4f", first, last), "");
        }
        int early = Math.max(5, n / 10);
        int peakStep = 1;
        for (int i = 1; i < Math.min(early, n); i++) if (loss[i] > loss[peakStep]) peakStep = i;
        if (n > 1 && loss[peakStep] > 2 * first) {
            return new LossPattern(Kind.RISES, String.format(Locale.ROOT,
                    "the loss goes up instead of down: it shot from %.3f to %.3f in the first %d steps, then "
                            + "stalled at %.3f", first, loss[peakStep], peakStep, last), CAUSE_UP);
        }
        double[] half = Arrays.copyOfRange(loss, n / 2, n);
        double halfMean = mean(half, 0, half.length);
        double wobble = meanAbsStep(half) / Math.max(halfMean, 1e-12);
        if (wobble > 0.15) {
            return new LossPattern(Kind.OSCILLATES, String.format(Locale.ROOT,
                    "the loss oscillates between %.3f and %.3f without settling", min(half), max(half)), CAUSE_OSCILLATES);
        }
        if (last > 1.1 * first && min > 0.9 * first) {
            return new LossPattern(Kind.RISES, String.format(Locale.ROOT,
                    "the loss goes up instead of down (%.3f to %.3f)", first, last), CAUSE_UP);
        }
        if (min < 0.7 * first && last > 2 * min && minStep < 0.8 * n) {
            return new LossPattern(Kind.EXPLODES_AFTER_FALLING, String.format(Locale.ROOT,
                    "the loss went down (%.3f to %.3f at step %d), then climbed back to %.3f",
                    first, min, minStep + 1, last), CAUSE_TOO_HIGH_LATE);
        }
        double q = mean(half, 0, half.length / 4 + 1);
        double change = (q - last) / Math.max(q, 1e-12);
        if (change < 0.05) {
            boolean prior = Math.abs(last - priorLoss) < 0.05 * priorLoss;
            return new LossPattern(Kind.PLATEAUS, String.format(Locale.ROOT, "the loss plateaus at %.3f%s", last,
                    prior ? String.format(Locale.ROOT, " (= %.3f, the entropy of the batch's label frequencies: the "
                            + "network predicts how common each class is and ignores its inputs)", priorLoss) : ""),
                    prior ? CAUSE_NO_SIGNAL : CAUSE_PLATEAU);
        }
        return new LossPattern(Kind.STILL_FALLING, String.format(Locale.ROOT,
                "the loss is still falling (%.3f to %.3f) when the steps run out", first, last), CAUSE_SLOW);
    }

    static final String CAUSE_UP = "usual causes: a learning rate far too high (the first updates overshoot and can "
            + "kill ReLU units for good), a flipped sign in the loss or the update, or labels that do not fit the output";
    static final String CAUSE_TOO_HIGH_LATE = "usual causes: a learning rate too high (steps overshoot once the loss "
            + "is small; lower the learning rate, " + TrainParams.mention("lr") + ", or decay it), or numerical trouble "
            + "such as log(0)";
    static final String CAUSE_OSCILLATES = "usual causes: a learning rate too high (every step overshoots), or a "
            + "batch that changes between steps when it should not";
    static final String CAUSE_NO_SIGNAL = "usual causes: no gradient reaches the weights: an all-zero or constant "
            + "init (every unit computes the same thing), dead ReLUs, or a learning rate far too low";
    static final String CAUSE_PLATEAU = "usual causes: a learning rate too low, too much regularisation (dropout, "
            + "weight decay), or a model too small to memorise one batch";
    static final String CAUSE_SLOW = "usual causes: a learning rate too low, or it simply needs more steps";

    private static double mean(double[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) s += v[i];
        return s / (to - from);
    }

    private static double meanAbsStep(double[] v) {
        double s = 0;
        for (int i = 1; i < v.length; i++) s += Math.abs(v[i] - v[i - 1]);
        return v.length > 1 ? s / (v.length - 1) : 0;
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }
}
