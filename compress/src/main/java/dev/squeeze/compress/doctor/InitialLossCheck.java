package dev.squeeze.compress.doctor;

import dev.squeeze.models.zoo.Network;
import org.nd4j.linalg.dataset.DataSet;

import java.util.Locale;

/**
 * Initial loss: an untrained classifier should be unsure, its cross-entropy near ln(classes). Far above
 * means it starts confidently wrong (output weights too large, unscaled inputs); far below means it knows
 * the answers before learning anything (labels leaking into the inputs).
 */
final class InitialLossCheck {
    static final String NAME = "initial loss";

    private InitialLossCheck() {
    }

    static CheckResult run(Network freshNet, DataSet sample, int numClasses) {
        double measured = freshNet.loss(sample);
        double expected = Math.log(numClasses);
        double ratio = measured / expected;
        String evidence = String.format(Locale.ROOT, "%.3f on %d examples, expected ln %d = %.3f (%.2fx)",
                measured, sample.numExamples(), numClasses, expected, ratio);
        if (!Double.isFinite(measured)) {
            return CheckResult.fail(NAME, evidence, "the untrained network already outputs non-finite values: check "
                    + "the inputs for NaN/inf and the init for huge weights");
        }
        if (ratio > 3) {
            return CheckResult.fail(NAME, evidence, "the untrained network is confidently wrong: the last layer's initial "
                    + "weights are too large, or the inputs are not normalised");
        }
        if (ratio > 1.5) {
            return CheckResult.warn(NAME, evidence, "the untrained network is more confident than it should be: check "
                    + "the output layer's init and the input scale");
        }
        if (ratio < 0.5) {
            return CheckResult.warn(NAME, evidence, "suspiciously low before any training: does the label leak into the "
                    + "inputs (a label column left among the features)?");
        }
        return CheckResult.pass(NAME, evidence);
    }
}
