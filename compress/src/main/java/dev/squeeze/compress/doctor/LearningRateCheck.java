package dev.squeeze.compress.doctor;

import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.BatchSource;
import dev.squeeze.models.zoo.Network;
import org.nd4j.linalg.dataset.DataSet;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Learning-rate range test (Smith 2017): train a fresh network for a short while with the rate growing
 * exponentially, watch the smoothed loss, and read off where it falls fastest and where it diverges.
 * Suggests a rate a tenth of the one at the loss minimum, and fails when the configured rate lies in the
 * diverging region.
 */
final class LearningRateCheck {
    static final String NAME = "learning rate";
    static final double MIN_LR = 1e-6;
    static final double MAX_LR = 10;
    static final int STEPS = 120;
    private static final double SMOOTHING = 0.9;

    private LearningRateCheck() {
    }

    static CheckResult run(Network freshNet, BatchSource batches, double configured, Path curves) {
        double[] rates = new double[STEPS];
        double[] smoothed = new double[STEPS];
        double average = 0;
        double best = Double.POSITIVE_INFINITY;
        int bestStep = 0;
        int steps = 0;
        int divergedAt = -1;
        int perEpoch = batches.batchesPerEpoch();
        for (int step = 0; step < STEPS; step++) {
            rates[step] = MIN_LR * Math.pow(MAX_LR / MIN_LR, step / (double) (STEPS - 1));
            freshNet.setLearningRate(rates[step]);
            DataSet batch = batches.batch(1 + step / perEpoch, step % perEpoch);
            freshNet.fit(batch);
            double loss = freshNet.score();
            steps = step + 1;
            if (!Double.isFinite(loss)) {
                smoothed[step] = Double.NaN;
                divergedAt = step;
                break;
            }
            average = SMOOTHING * average + (1 - SMOOTHING) * loss;
            smoothed[step] = average / (1 - Math.pow(SMOOTHING, step + 1));   // bias-corrected
            if (smoothed[step] < best) {
                best = smoothed[step];
                bestStep = step;
            }
            if (step > 10 && smoothed[step] > 4 * best) {
                divergedAt = step;
                break;
            }
        }
        rates = Arrays.copyOf(rates, steps);
        smoothed = Arrays.copyOf(smoothed, steps);
        new Curve("learning-rate range test", "learning rate", "smoothed loss", rates, smoothed, true)
                .save(curves, "lr-range");

        double atMinimum = rates[bestStep];
        double suggested = atMinimum / 10;
        // The diverging region starts where the smoothed loss first exceeds twice its minimum after it.
        double divergesFrom = divergedAt >= 0 ? rates[divergedAt] : Double.POSITIVE_INFINITY;
        for (int i = bestStep + 1; i < steps; i++) {
            if (!Double.isFinite(smoothed[i]) || smoothed[i] > 2 * best) {
                divergesFrom = rates[i];
                break;
            }
        }
        String evidence = String.format(Locale.ROOT, "loss lowest at lr %s, %s; suggested lr %s; configured %s",
                fmt(atMinimum), Double.isInfinite(divergesFrom) ? "no divergence up to " + fmt(MAX_LR)
                        : "diverges from " + fmt(divergesFrom), fmt(suggested), fmt(configured));
        if (configured >= divergesFrom) {
            return CheckResult.fail(NAME, evidence + " lies in the diverging region",
                    "use lr " + fmt(suggested) + " (" + TrainParams.mention("lr") + "): at " + fmt(configured) + " the loss blows up (NaN) or thrashes");
        }
        if (configured > atMinimum && Double.isFinite(divergesFrom)) {
            return CheckResult.warn(NAME, evidence + " is past the loss minimum, close to diverging",
                    "use lr " + fmt(suggested) + " or lower (" + TrainParams.mention("lr") + ") for stable training");
        }
        if (configured < suggested / 100) {
            return CheckResult.warn(NAME, evidence + " is far below it: training will be slow",
                    "use lr " + fmt(suggested) + " (" + TrainParams.mention("lr") + ")");
        }
        return CheckResult.pass(NAME, evidence + " lies in the stable region");
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2g", v);
    }
}
