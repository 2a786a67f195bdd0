package dev.squeeze.compress.stage;

import dev.squeeze.core.AtomicFiles;
import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.artifacts.RunPaths;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A run folder's {@code outcome.json}: the stage, the ledger row that produced it, and the stage's outcome. It is
 * written atomically and last, so its presence is the one sign that a run (or a pruning level) is finished.
 */
public final class OutcomeFile {
    /** The version of this file's layout, written into it: a later layout can tell old files apart. */
    public static final int VERSION = 1;

    private OutcomeFile() {
    }

    /** What an outcome file holds. */
    public record Stored<O>(String stage, String run, O outcome) {
    }

    /** The outcome of the run in {@code paths}, or empty when the run is not finished. */
    public static <O> Optional<Stored<O>> read(RunPaths paths, Class<O> type) {
        Path file = paths.outcome();
        if (!Files.isRegularFile(file)) return Optional.empty();
        try {
            Map<?, ?> json = Json.read(Files.readString(file), Map.class);
            return Optional.of(new Stored<>((String) json.get("stage"), (String) json.get("run"),
                    Json.convert(json.get("outcome"), type)));
        } catch (IOException | RuntimeException e) {
            throw new UncheckedIOException("unreadable outcome file " + file + " (" + e.getMessage()
                    + "); delete it and the same command runs that step again", e instanceof IOException io ? io
                    : new IOException(e));
        }
    }

    /** Marks the run in {@code paths} finished by row {@code run} with {@code outcome}. */
    public static void write(RunPaths paths, String stage, String run, Object outcome) {
        Map<String, Object> json = new java.util.LinkedHashMap<>();
        json.put("version", VERSION);
        json.put("stage", stage);
        json.put("run", run);
        json.put("outcome", outcome);
        AtomicFiles.writeString(paths.outcome(), Json.write(json));
    }
}
