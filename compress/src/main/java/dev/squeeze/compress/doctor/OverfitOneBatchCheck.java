package dev.squeeze.compress.doctor;

import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.models.zoo.Network;
import org.nd4j.linalg.dataset.DataSet;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Overfit one batch: a model that cannot memorise a few examples has a bug, and finding it here takes
 * seconds instead of a day. Trains on one fixed batch; passes when the loss falls near zero and every
 * example is classified right; otherwise names the shape of the loss curve and its usual causes.
 */
final class OverfitOneBatchCheck {
    static final String NAME = "overfit one batch";
    static final int BATCH = 32;
    static final int MAX_STEPS = 600;
    /** Inference-mode loss at or below this, with every example right, passes. */
    static final double TARGET_LOSS = 0.05;

    private OverfitOneBatchCheck() {
    }

    /**
     * @param net    a freshly initialised network
     * @param batch  the batch to memorise
     * @param curves where the loss curve's CSV and PNG go
     */
    static CheckResult run(Network net, DataSet batch, int numClasses, Path curves) {
        // loss[0] is before any step, so a first update that makes things worse shows.
        double[] loss = new double[MAX_STEPS + 1];
        loss[0] = net.loss(batch);
        int steps = 0;
        int right = 0;
        for (int step = 1; step <= MAX_STEPS; step++) {
            net.fit(batch);
            // Judged in inference mode: dropout would keep a memorised batch's training loss above zero.
            loss[step] = net.loss(batch);
            steps = step;
            if (!Double.isFinite(loss[step])) break;
            if (step % 10 == 0 && loss[step] <= TARGET_LOSS) {
                right = correct(net, batch);
                if (right == batch.numExamples()) break;
            }
        }
        loss = Arrays.copyOf(loss, steps + 1);
        right = correct(net, batch);
        double[] x = new double[steps + 1];
        for (int i = 0; i <= steps; i++) x[i] = i;
        new Curve("overfit one batch of " + batch.numExamples(), "step", "loss", x, loss, false)
                .save(curves, "overfit-one-batch");

        double last = loss[steps];
        int n = batch.numExamples();
        if (Double.isFinite(last) && last <= TARGET_LOSS && right == n) {
            return CheckResult.pass(NAME, String.format(Locale.ROOT,
                    "loss %.3f -> %.4f in %d steps, %d/%d examples right", loss[0], last, steps, right, n));
        }
        LossPattern pattern = LossPattern.classify(loss, TARGET_LOSS, labelEntropy(batch, numClasses));
        return CheckResult.fail(NAME, String.format(Locale.ROOT, "after %d steps on %d examples %d are right: %s",
                steps, n, right, pattern.description()), pattern.causes());
    }

    /** The loss of always predicting the batch's label frequencies. */
    static double labelEntropy(DataSet batch, int numClasses) {
        double[] share = new double[numClasses];
        float[][] labels = batch.getLabels().toFloatMatrix();
        for (float[] row : labels) share[Evaluator.argmax(row)] += 1.0 / labels.length;
        double h = 0;
        for (double p : share) if (p > 0) h -= p * Math.log(p);
        return h;
    }

    private static int correct(Network net, DataSet batch) {
        float[][] out = net.output(batch.getFeatures()).toFloatMatrix();
        float[][] labels = batch.getLabels().toFloatMatrix();
        int right = 0;
        for (int i = 0; i < out.length; i++) if (Evaluator.argmax(out[i]) == Evaluator.argmax(labels[i])) right++;
        return right;
    }
}
