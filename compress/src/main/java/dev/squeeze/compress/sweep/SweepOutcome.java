package dev.squeeze.compress.sweep;

import dev.squeeze.compress.ledger.CanonicalJson;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a sweep produced: its id, every trial's outcome in trial order, and the sensitivity table.
 *
 * @param notes what the user should know about how the sweep ran (a sample that covered the whole grid)
 */
public record SweepOutcome(String sweepId, List<TrialOutcome> trials, SensitivityTable table, List<String> notes) {

    public SweepOutcome {
        trials = List.copyOf(trials);
        notes = List.copyOf(notes);
    }

    public int succeeded() {
        return (int) trials.stream().filter(TrialOutcome::succeeded).count();
    }

    public int failed() {
        return trials.size() - succeeded();
    }

    public int reused() {
        return (int) trials.stream().filter(TrialOutcome::reused).count();
    }

    /** The summary a user reads: one line on the sweep, its notes, the sensitivity table, then the failures. */
    public String format() {
        StringBuilder out = new StringBuilder();
        out.append("sweep ").append(sweepId).append(": ").append(trials.size()).append(" trials, ").append(succeeded())
                .append(" finished (").append(reused()).append(" reused), ").append(failed()).append(" failed; ")
                .append("'squeeze runs --sweep ").append(sweepId).append("' lists them\n");
        for (String note : notes) out.append("note    ").append(note).append('\n');
        out.append('\n').append(table.format());
        List<TrialOutcome> failures = trials.stream().filter(t -> !t.succeeded()).toList();
        if (!failures.isEmpty()) {
            out.append('\n');
            for (TrialOutcome failure : failures) out.append("failed  ").append(failure.line()).append('\n');
        }
        return out.toString();
    }

    /** The sweep as one JSON object: id, counts, every trial, and the sensitivity table. */
    public String json() {
        List<Object> trialList = new ArrayList<>();
        for (TrialOutcome t : trials) {
            Map<String, Object> trial = new LinkedHashMap<>();
            trial.put("number", t.trial().number());
            trial.put("settings", t.trial().settings());
            trial.put("run_id", t.runId());
            trial.put("status", t.succeeded() ? "done" : "failed");
            trial.put("val_acc", t.valAcc());
            trial.put("reused", t.reused());
            trial.put("error", t.error());
            trialList.add(trial);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("sweep_id", sweepId);
        json.put("trials_total", trials.size());
        json.put("succeeded", succeeded());
        json.put("failed", failed());
        json.put("notes", notes);
        json.put("trials", trialList);
        json.put("sensitivity", table.toJson());
        StringBuilder out = new StringBuilder();
        CanonicalJson.appendObject(out, json);
        return out.append('\n').toString();
    }
}
