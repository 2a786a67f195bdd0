package dev.squeeze.compress.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Watches the epoch history during training for the slow failures a NaN guard cannot see, and says each
 * once: the training loss has stalled, or validation accuracy falls while training accuracy rises.
 */
final class TrainingWatch {
    /** Epochs of history a warning looks at. */
    static final int WINDOW = 3;
    /** Less relative improvement of the training loss than this over {@link #WINDOW} epochs is a stall. */
    static final double STALL_IMPROVEMENT = 0.01;

    private boolean stallSaid;
    private boolean overfitSaid;

    /** The warnings that the latest epoch in {@code history} gives rise to (each kind at most once per run). */
    List<String> inspect(List<EpochMetrics> history) {
        List<String> warnings = new ArrayList<>();
        int n = history.size();
        if (n <= WINDOW) return warnings;
        EpochMetrics last = history.get(n - 1);
        EpochMetrics before = history.get(n - 1 - WINDOW);

        if (!stallSaid && before.trainLoss() - last.trainLoss() < STALL_IMPROVEMENT * before.trainLoss()) {
            stallSaid = true;
            warnings.add(String.format(Locale.ROOT,
                    "warning: the training loss has stalled at %.4f for %d epochs (%.4f at epoch %d): the learning "
                            + "rate may be too low or decayed too far (" + TrainParams.mention("lr") + ", "
                            + TrainParams.mention("lr-decay") + "), or the model too small",
                    last.trainLoss(), WINDOW, before.trainLoss(), before.epoch()));
        }

        if (!overfitSaid) {
            boolean valFalls = true;
            boolean trainRises = true;
            for (int i = n - WINDOW + 1; i < n; i++) {
                valFalls &= history.get(i).validationAccuracy() < history.get(i - 1).validationAccuracy();
                trainRises &= history.get(i).trainAccuracy() > history.get(i - 1).trainAccuracy();
            }
            if (valFalls && trainRises) {
                overfitSaid = true;
                EpochMetrics peak = history.get(n - WINDOW);
                warnings.add(String.format(Locale.ROOT,
                        "warning: validation accuracy has fallen since epoch %d (%.2f%% -> %.2f%%) while training "
                                + "accuracy rose (%.2f%% -> %.2f%%): the model is overfitting; early stopping keeps "
                                + "the best epoch; more data, dropout or a smaller model would help",
                        peak.epoch(), 100 * peak.validationAccuracy(), 100 * last.validationAccuracy(),
                        100 * peak.trainAccuracy(), 100 * last.trainAccuracy()));
            }
        }
        return warnings;
    }
}
