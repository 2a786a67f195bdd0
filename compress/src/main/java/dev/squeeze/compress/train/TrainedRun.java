package dev.squeeze.compress.train;

import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunStatus;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.core.BadInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A finished training run that a later stage starts from (pruning's dense network, distillation's
 * teacher): its settings, its ledger row and its folder. Named by a run id (or unique prefix) or by the
 * path of its model file.
 */
public record TrainedRun(TrainParams params, RunRecord run, RunPaths paths) {

    /** @param stage the stage of run wanted, e.g. {@code train}, for the error message and the check */
    public static TrainedRun resolve(String from, Workspace workspace, String stage) {
        Path asFile = Path.of(from);
        Path dir;
        RunRecord run;
        try (RunLedger ledger = workspace.openLedger()) {
            if (Files.isRegularFile(asFile)) {
                dir = asFile.toAbsolutePath().getParent();
                run = ledger.get(ModelFile.load(asFile, false).info().runId()).orElse(null);
            } else {
                run = ledger.get(from).orElseThrow(() -> Files.isDirectory(asFile) ? ModelFile.folderNotFile(asFile)
                        : new BadInputException("no run or model file '" + from + "'; give a run id from 'squeeze runs"
                        + " --stage " + stage + "' or the path of its model.zip"));
                if (run.artifactDir() == null) throw new BadInputException("run " + run.id() + " has no artifact folder");
                dir = Path.of(run.artifactDir());
            }
            if (run == null || !stage.equals(run.stage()) || run.status() != RunStatus.DONE) {
                throw new BadInputException("'" + from + "' is not a finished '" + stage + "' run in ledger "
                        + workspace.ledgerLocation() + "; start from a run of 'squeeze " + stage + "'");
            }
        }
        RunPaths paths = new RunPaths(dir);
        try {
            return new TrainedRun(Json.read(Files.readString(paths.config()), TrainParams.class), run, paths);
        } catch (IOException e) {
            throw new BadInputException("cannot read the settings of run " + run.id() + " (" + paths.config() + "): "
                    + e.getMessage());
        }
    }
}
