package dev.squeeze.compress.stage;

import dev.squeeze.core.AtomicFiles;
import dev.squeeze.compress.artifacts.CodeVersion;
import dev.squeeze.compress.artifacts.RunLock;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.NewRun;
import dev.squeeze.compress.ledger.RecordedRun;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunStatus;
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.settings.StageSettings;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * Runs any {@link Stage} the one way: hash its settings, name its run folder by the hash, lock the folder, open the
 * ledger, and then either reuse the finished run (the folder holds its {@linkplain OutcomeFile outcome file}) or
 * start a ledger row, run the stage's work through {@link RecordedRun} (interrupted and failed rows, killed rows
 * marked when the ledger is next opened), and write the outcome file last.
 *
 * <p>A folder whose run finished under a Squeeze that wrote no outcome files (a DONE row with this hash) is adopted
 * once: the stage rebuilds the outcome from the row ({@link Stage#adopt}) and the runner writes the file. A folder
 * holding a resume checkpoint ({@code last.zip}) from an interrupted, failed or killed row links the new row to it.
 */
public final class StageRunner {
    private final Workspace workspace;
    private final Consumer<String> messages;
    private final boolean force;
    private final String sweepId;

    /** @param messages where reuse is reported to the user */
    public StageRunner(Workspace workspace, Consumer<String> messages) {
        this(workspace, messages, false, null);
    }

    private StageRunner(Workspace workspace, Consumer<String> messages, boolean force, String sweepId) {
        this.workspace = workspace;
        this.messages = messages;
        this.force = force;
        this.sweepId = sweepId;
    }

    public Workspace workspace() {
        return workspace;
    }

    /**
     * This runner, running again even when the run is finished ({@code --force}): the outcome file, the model and
     * the resume checkpoint are deleted first.
     */
    public StageRunner forced(boolean force) {
        return new StageRunner(workspace, messages, force, sweepId);
    }

    /** This runner for trials of sweep {@code id}: new rows carry it, reused ones join it unless already in one. */
    public StageRunner inSweep(String id) {
        return new StageRunner(workspace, messages, force, id);
    }

    /** What runs in a stage's locked run folder with the ledger open. */
    @FunctionalInterface
    public interface FolderWork<T> {
        T run(RunPaths paths, ConfigHash hash, RunLedger ledger);
    }

    /**
     * Hashes {@code params} against {@code defaults}, names the run folder of stage {@code stage} by the hash, locks it,
     * opens the ledger, and runs {@code work}. {@link #run} builds on this; a stage made of parts that record their own
     * rows and outcome files (pruning levels) uses it directly. The settings are checked first
     * ({@link StageSettings#check}), so a program that built them by hand gets the same refusal as the user.
     */
    public <P extends Record, T> T inRunFolder(String stage, P params, P defaults, FolderWork<T> work) {
        checkSettings(params);
        ConfigHash hash = ConfigHash.of(params, defaults);
        RunPaths paths = RunPaths.of(workspace.runsRoot(), stage, hash.value());
        RunPaths.requireWritable(workspace.runsRoot());
        try (RunLock lock = RunLock.acquire(paths); RunLedger ledger = workspace.openLedger()) {
            return work.run(paths, hash, ledger);
        }
    }

    @SuppressWarnings("unchecked")
    private static <P extends Record> void checkSettings(P params) {
        StageSettings.of((Class<P>) params.getClass()).check(params);
    }

    public <P extends Record, O> StageResult<O> run(Stage<P, O> stage, P params) {
        Stage.Definition<P, O> definition = stage.definition();
        return inRunFolder(definition.name(), params, definition.defaults(), (paths, hash, ledger) -> {
                // Hashes of different stages' settings may coincide; the stage tells them apart.
                Optional<RunRecord> previous = ledger.latestByHash(hash.value())
                        .filter(r -> definition.name().equals(r.stage()));
                if (force) {
                    startOver(paths);
                } else {
                    Optional<StageResult<O>> done = finished(stage, params, paths, ledger, previous);
                    if (done.isPresent()) return done.get();
                }
                NewRun newRun = stage.row(params, hash).withCodeCommit(CodeVersion.commit())
                        .withArtifactDir(paths.dir().toString()).withSweep(sweepId);
                if (Files.isRegularFile(paths.resumeCheckpoint()) && previous.isPresent()) {
                    // The previous row was interrupted, failed or killed (opening the ledger marked it): link it.
                    RunRecord before = previous.get();
                    newRun = newRun.withResumes(before.id());
                    if (newRun.notes() == null) {
                        newRun = newRun.withNotes("resumes run " + before.id() + " (" + before.status().text() + ")");
                    }
                }
                var recorded = RecordedRun.record(ledger, newRun, definition.onInterrupt(), row -> {
                    AtomicFiles.writeString(paths.config(), hash.configJson());
                    return stage.run(new StageRun<>(row, params, hash, paths, ledger));
                });
                OutcomeFile.write(paths, definition.name(), recorded.run().id(), recorded.value());
                return new StageResult<>(recorded.run(), paths, recorded.value(), false);
        });
    }

    /** The finished run in {@code paths}: its outcome file, or a DONE row from before outcome files (adopted). */
    private <P extends Record, O> Optional<StageResult<O>> finished(Stage<P, O> stage, P params, RunPaths paths,
                                                                   RunLedger ledger, Optional<RunRecord> previous) {
        Optional<OutcomeFile.Stored<O>> stored = OutcomeFile.read(paths, stage.definition().outcomeType());
        RunRecord row;
        O outcome;
        if (stored.isPresent()) {
            String id = stored.get().run();
            row = ledger.get(id).orElseThrow(() -> new BadInputException("run folder " + paths.dir() + " holds finished "
                    + "run " + id + ", which the ledger " + ledger.location() + " does not list; 'squeeze runs --rebuild' "
                    + "restores it from the run folders, or delete the folder to run the step again"));
            outcome = stored.get().outcome();
        } else if (previous.isPresent() && previous.get().status() == RunStatus.DONE) {
            Optional<O> adopted = stage.adopt(previous.get(), paths);
            if (adopted.isEmpty()) return Optional.empty();
            row = previous.get();
            outcome = adopted.get();
            OutcomeFile.write(paths, stage.definition().name(), row.id(), outcome);
        } else {
            return Optional.empty();
        }
        row = joinSweep(ledger, row);
        String message = stage.reusedMessage(params, row);
        if (message != null) messages.accept(message);
        return Optional.of(new StageResult<>(row, paths, outcome, true));
    }

    /** {@code run}, tagged with this runner's sweep when it has one and the run belongs to no sweep yet. */
    private RunRecord joinSweep(RunLedger ledger, RunRecord run) {
        if (sweepId == null || run.sweepId() != null) return run;
        ledger.tagSweep(run.id(), sweepId);
        return ledger.get(run.id()).orElseThrow();
    }

    private static void startOver(RunPaths paths) {
        try {
            Files.deleteIfExists(paths.outcome());
            Files.deleteIfExists(paths.resumeCheckpoint());
            Files.deleteIfExists(paths.model());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + paths.dir() + " for --force: " + e.getMessage(), e);
        }
    }
}
