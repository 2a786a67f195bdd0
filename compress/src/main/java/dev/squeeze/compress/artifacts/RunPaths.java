package dev.squeeze.compress.artifacts;

import dev.squeeze.core.BadInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Every artifact name of a run, in one place. A run's folder is named by its stage and the hash of its
 * configuration, so the same configuration always lands in the same folder.
 */
public record RunPaths(Path dir) {

    public static RunPaths of(Path runsRoot, String stage, String configHash) {
        return new RunPaths(runsRoot.resolve(stage + "-" + configHash));
    }

    /** The best checkpoint (by validation accuracy): the run's product. */
    public Path model() {
        return dir.resolve("model.zip");
    }

    /** The latest epoch's weights, optimizer state and progress: what an interrupted run resumes from. */
    public Path resumeCheckpoint() {
        return dir.resolve("last.zip");
    }

    /**
     * Weights and optimizer state at a rewind point ({@code rewind-0.zip} is the initialisation,
     * {@code rewind-500it.zip} after 500 steps): what lottery-ticket pruning rewinds surviving weights to.
     */
    public Path snapshot(RewindPoint point) {
        return dir.resolve("rewind-" + point.label() + ".zip");
    }

    /**
     * The refit's own run folder, inside this one: a fresh network trained on training and validation examples
     * together, whose last weights become this run's {@link #model()} ({@code TrainParams.refit}).
     */
    public RunPaths refit() {
        return new RunPaths(dir.resolve("refit"));
    }

    /** Per-epoch metrics as CSV. */
    public Path history() {
        return dir.resolve("history.csv");
    }

    /**
     * The run's lock ({@link RunLock}), beside the run folders rather than in one, so that a run that fails
     * before it starts leaves no folder behind.
     */
    public Path lockFile() {
        return dir.toAbsolutePath().getParent().resolve(".locks").resolve(dir.getFileName() + ".lock");
    }

    /**
     * What the run produced, written last and atomically ({@code dev.squeeze.compress.stage.OutcomeFile}): a folder
     * holding it is a finished run.
     */
    public Path outcome() {
        return dir.resolve("outcome.json");
    }

    /** The full configuration as JSON. */
    public Path config() {
        return dir.resolve("config.json");
    }

    /**
     * Creates {@code root} if needed and proves it writable now, before any long work, so a bad
     * {@code --output} fails at once with one line instead of after an hour of training.
     */
    public static void requireWritable(Path root) {
        try {
            Files.createDirectories(root);
            Path probe = Files.createTempFile(root, ".write-probe", ".tmp");
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw new BadInputException("output directory " + root + " is not writable (" + describe(e)
                    + "); choose another with --output DIR");
        }
    }

    private static String describe(Exception e) {
        String name = e.getClass().getSimpleName().replace("Exception", "");
        return e.getMessage() == null ? name : name + ": " + e.getMessage();
    }
}
