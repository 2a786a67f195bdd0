package dev.squeeze.compress.train;

import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.ledger.RunRecord;

import java.util.Locale;

/**
 * What {@code squeeze train} produced: the ledger row, where its files are, and (unless an identical
 * finished run was reused) how training went.
 *
 * @param training null when an identical finished run was reused
 */
public record TrainOutcome(RunRecord run, RunPaths paths, TrainingResult training, boolean reused) {

    /** The result a user reads at the end: the run, its accuracies and sizes, and the per-epoch table. */
    public String format() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "run         %s%s%n", run.id(),
                reused ? "  (identical configuration already trained: reused, not retrained; --force trains again)" : ""));
        out.append(String.format(Locale.ROOT, "model       %s on %s, %,d parameters%n", run.model(), run.dataset(),
                run.params() == null ? 0 : run.params()));
        if (training != null) {
            out.append(String.format(Locale.ROOT, "epochs      %d (%s); best epoch %d%s%n", training.history().size(),
                    training.stopReason(), training.bestEpoch(),
                    training.resumedAfterEpoch() > 0 ? "; resumed after epoch " + training.resumedAfterEpoch() : ""));
        }
        out.append(String.format(Locale.ROOT, "accuracy    train %s  val %s  test %s%n", pct(run.trainAcc()),
                pct(run.valAcc()), pct(run.testAcc())));
        out.append(String.format(Locale.ROOT, "model file  %s (%,d bytes)%n", paths.model(),
                run.fileBytes() == null ? 0 : run.fileBytes()));
        if (training != null) {
            out.append(String.format(Locale.ROOT, "%n%5s  %10s  %9s  %8s  %7s  %6s  %9s%n", "epoch", "train loss",
                    "train acc", "val loss", "val acc", "s", "samples/s"));
            for (EpochMetrics m : training.history()) {
                out.append(String.format(Locale.ROOT, "%5d  %10.4f  %8.2f%%  %8.4f  %6.2f%%  %6.1f  %9.0f%s%n", m.epoch(),
                        m.trainLoss(), 100 * m.trainAccuracy(), m.validationLoss(), 100 * m.validationAccuracy(),
                        m.seconds(), m.samplesPerSecond(), m.best() ? "  *" : ""));
            }
        }
        return out.toString();
    }

    private static String pct(Double fraction) {
        return fraction == null ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
    }
}
