package dev.squeeze.compress.sweep;

import java.util.Locale;

/**
 * How one trial of a sweep ended.
 *
 * @param trial  the trial
 * @param runId  its ledger row, or null when it failed before it had one
 * @param valAcc its best validation accuracy (a fraction), or null when it failed
 * @param reused whether an identical finished run was reused instead of training
 * @param error  why it failed, one line, or null when it succeeded
 */
public record TrialOutcome(SweepTrial trial, String runId, Double valAcc, boolean reused, String error) {

    /** A trial that trained (or reused) run {@code runId}. */
    public static TrialOutcome done(SweepTrial trial, String runId, Double valAcc, boolean reused) {
        return new TrialOutcome(trial, runId, valAcc, reused, null);
    }

    /** A trial that failed; {@code runId} is its failed row when it got one. */
    public static TrialOutcome failed(SweepTrial trial, String runId, String error) {
        return new TrialOutcome(trial, runId, null, false, error == null || error.isBlank() ? "failed" : error);
    }

    public boolean succeeded() {
        return error == null;
    }

    /** The progress line: {@code trial 3/8 lr=0.01 batch=32: val 85.20% (run 1a2b3c4d)}. */
    public String line() {
        String run = runId == null ? "" : "run " + runId;
        if (!succeeded()) return trial.name() + " " + trial.label() + ": failed" + (run.isEmpty() ? "" : " (" + run + ")")
                + ": " + error;
        return String.format(Locale.ROOT, "%s %s: val %s (%s%s)", trial.name(), trial.label(), SensitivityTable.percent(valAcc),
                run, reused ? ", reused" : "");
    }
}
