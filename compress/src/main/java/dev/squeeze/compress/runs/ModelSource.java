package dev.squeeze.compress.runs;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunStatus;
import dev.squeeze.core.BadInputException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The model a stage starts from, named as users name it: a finished run of any stage that wrote a model file (by id
 * or unique prefix), or the path of a model file, float or int8. Its ledger row is found from the file's metadata
 * when the file was given.
 *
 * @param run the model's ledger row, or null when the ledger does not know it
 */
public record ModelSource(Path file, RunRecord run, boolean int8) {

    /** @param action what will be done with it, for the error message (e.g. "quantize") */
    public static ModelSource resolve(String from, Workspace workspace, String action) {
        try (RunLedger ledger = workspace.openLedger()) {
            Path file = Path.of(from);
            RunRecord run = null;
            if (!Files.isRegularFile(file)) {
                Path given = file;
                run = ledger.get(from).orElseThrow(() -> Files.isDirectory(given) ? ModelFile.folderNotFile(given)
                        : new BadInputException("no run or model file '" + from + "'; give a run id from 'squeeze runs'"
                        + " or the path of a model.zip"));
                file = run.artifactDir() == null ? null : new RunPaths(Path.of(run.artifactDir())).model();
                if (run.status() != RunStatus.DONE || file == null || !Files.isRegularFile(file)) {
                    throw new BadInputException("run " + run.id() + " (" + run.stage() + ", "
                            + run.status().name().toLowerCase(Locale.ROOT) + ") has no finished model to " + action);
                }
            }
            boolean int8 = ModelFile.isInt8(file);
            if (run == null) {
                String runId = int8 ? ModelFile.runIdOf(file) : ModelFile.load(file, false).info().runId();
                run = runId == null ? null : ledger.get(runId).orElse(null);
            }
            return new ModelSource(file, run, int8);
        }
    }

    /** The run's id, or else the file's absolute path: what names the source in a configuration hash. */
    public String identity() {
        return run != null ? run.id() : file.toAbsolutePath().normalize().toString();
    }
}
