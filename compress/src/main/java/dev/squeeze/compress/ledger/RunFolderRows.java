package dev.squeeze.compress.ledger;

import dev.squeeze.core.AtomicFiles;
import dev.squeeze.compress.artifacts.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A copy of each ledger row in its run's folder, {@code ledger-row-ID.json}, rewritten whenever the row
 * changes, so that a lost or broken ledger can be rebuilt from the run folders
 * ({@link RunLedger#rebuild}). Rows with no run folder have no copy.
 */
final class RunFolderRows {
    private static final Logger log = LoggerFactory.getLogger(RunFolderRows.class);
    private static final String PREFIX = "ledger-row-";
    private static final String SUFFIX = ".json";
    /** Run folders sit in the runs root; pruning levels one or two folders below theirs. */
    private static final int MAX_DEPTH = 4;

    private RunFolderRows() {
    }

    /**
     * Writes {@code run}'s copy. Never fails the ledger operation: a copy that cannot be written costs only the
     * rebuild. Writes only where the folder exists or its parent does (the run creates its folder a moment
     * later), so a path on another machine of a shared ledger, or a relative path elsewhere, is left alone.
     */
    static void write(RunRecord run) {
        if (run.artifactDir() == null) return;
        try {
            Path dir = Path.of(run.artifactDir());
            Path parent = dir.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir) && (parent == null || !Files.isDirectory(parent))) return;
            StringBuilder json = new StringBuilder();
            CanonicalJson.appendObject(json, run.columns());
            AtomicFiles.writeString(dir.resolve(PREFIX + run.id() + SUFFIX), json.append('\n').toString());
        } catch (RuntimeException e) {
            log.warn("cannot copy run {} into its folder {}: {}", run.id(), run.artifactDir(), e.getMessage());
        }
    }

    /** Every row copy under {@code runsRoot}, as column name to value. */
    static List<Map<String, Object>> readAll(Path runsRoot) {
        List<Map<String, Object>> rows = new ArrayList<>();
        if (!Files.isDirectory(runsRoot)) return rows;
        try (Stream<Path> files = Files.walk(runsRoot, MAX_DEPTH)) {
            for (Path file : files.filter(RunFolderRows::isRowFile).sorted().toList()) {
                try {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> row = Json.read(Files.readString(file), Map.class);
                    if (row != null && row.get("id") instanceof String) rows.add(row);
                } catch (IOException e) {
                    log.warn("skipping unreadable run copy {}: {}", file, e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the run folders in " + runsRoot + ": " + e.getMessage(), e);
        }
        return rows;
    }

    private static boolean isRowFile(Path file) {
        String name = file.getFileName().toString();
        return name.startsWith(PREFIX) && name.endsWith(SUFFIX) && Files.isRegularFile(file);
    }
}
