package dev.squeeze.compress.ledger;

/**
 * What is known when a run starts: the ledger adds the id, the start time and status {@code running}.
 * Build one with {@link #of} and the {@code with...} methods.
 *
 * @param stage       what the run does: {@code train}, {@code distill}, {@code prune}, {@code quantize},
 *                    {@code export}, ... (required; free text so new stages need no migration)
 * @param model       zoo name of the model, or null
 * @param dataset     dataset name, or null
 * @param configHash  {@link ConfigHash#value()}, or null
 * @param configJson  {@link ConfigHash#configJson()}: every setting, defaults included, or null
 * @param codeCommit  git SHA of the code that ran (with a {@code -dirty} suffix when uncommitted), or null
 * @param parentId    the run this one builds on (the trained model a prune run starts from), or null
 * @param artifactDir folder holding the run's outputs, or null
 * @param sweepId     the hyperparameter sweep this run belongs to, or null
 * @param notes       free text, or null
 * @param resumes     the earlier row of the same work (killed, interrupted, failed) whose checkpoint this run
 *                    continues from, or null
 */
public record NewRun(String stage, String model, String dataset, String configHash, String configJson,
                     String codeCommit, String parentId, String artifactDir, String sweepId, String notes,
                     String resumes) {

    public NewRun {
        if (stage == null || stage.isBlank()) throw new IllegalArgumentException("a run needs a stage");
    }

    /** A run of {@code stage} on {@code model} and {@code dataset} with configuration {@code config} (may be null). */
    public static NewRun of(String stage, String model, String dataset, ConfigHash config) {
        return new NewRun(stage, model, dataset, config == null ? null : config.value(),
                config == null ? null : config.configJson(), null, null, null, null, null, null);
    }

    public NewRun withCodeCommit(String commit) {
        return new NewRun(stage, model, dataset, configHash, configJson, commit, parentId, artifactDir, sweepId, notes, resumes);
    }

    public NewRun withParent(String parent) {
        return new NewRun(stage, model, dataset, configHash, configJson, codeCommit, parent, artifactDir, sweepId, notes, resumes);
    }

    public NewRun withArtifactDir(String dir) {
        return new NewRun(stage, model, dataset, configHash, configJson, codeCommit, parentId, dir, sweepId, notes, resumes);
    }

    public NewRun withSweep(String sweep) {
        return new NewRun(stage, model, dataset, configHash, configJson, codeCommit, parentId, artifactDir, sweep, notes, resumes);
    }

    /** This run continues the work of row {@code id} from its checkpoint. */
    public NewRun withResumes(String id) {
        return new NewRun(stage, model, dataset, configHash, configJson, codeCommit, parentId, artifactDir, sweepId, notes, id);
    }

    public NewRun withNotes(String text) {
        return new NewRun(stage, model, dataset, configHash, configJson, codeCommit, parentId, artifactDir, sweepId, text, resumes);
    }
}
