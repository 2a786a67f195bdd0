package dev.squeeze.compress.distill;

import dev.squeeze.compress.artifacts.CodeVersion;
import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.NewRun;
import dev.squeeze.compress.ledger.RecordedRun;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunResult;
import dev.squeeze.compress.ledger.RunStatus;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.models.core.BadInputException;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.Datasets;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code squeeze train --ensemble N}: N members trained with seeds {@code seed .. seed+N-1}, recorded as one
 * {@code ensemble} row whose test accuracy is that of the averaged logits; {@code distill --teacher} takes
 * its id as one teacher and averages the members.
 */
public final class EnsembleService {
    public static final String STAGE = "ensemble";

    private final Workspace workspace;
    private final DatasetLocator locator;
    private final TrainingMonitor monitor;

    public EnsembleService(Workspace workspace, DatasetLocator locator, TrainingMonitor monitor) {
        this.workspace = workspace;
        this.locator = locator;
        this.monitor = monitor;
    }

    /** The members (trained, or reused when finished) and the ensemble's row. */
    public record Ensemble(RunRecord run, List<TrainOutcome> members) {
    }

    public Ensemble train(TrainParams params, int members, Path dataDir) {
        if (members < 2) throw new BadInputException("--ensemble needs at least 2 members, got " + members);
        List<TrainOutcome> trained = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            monitor.message("ensemble member " + (i + 1) + "/" + members + ": seed " + (params.seed() + i));
            trained.add(new TrainingService(workspace, locator, monitor).train(params.withSeed(params.seed() + i), dataDir, false));
        }
        List<String> ids = trained.stream().map(t -> t.run().id()).toList();
        ConfigHash hash = ConfigHash.of(new EnsembleParams(params, members), new EnsembleParams(TrainParams.HASH_BASE, 0));
        try (RunLedger ledger = workspace.openLedger()) {
            Optional<RunRecord> previous = ledger.latestByHash(hash.value())
                    .filter(r -> STAGE.equals(r.stage()) && r.status() == RunStatus.DONE && ids.equals(members(r)));
            if (previous.isPresent()) return new Ensemble(previous.get(), trained);
            Dataset dataset = Datasets.open(params.dataset(), dataDir, locator, params.tableOptions(), monitor::message);
            var models = trained.stream().map(t -> ModelFile.load(t.paths().model(), false)).toList();
            double test = TeacherLogits.accuracy(TeacherLogits.average(models, dataset.test()), dataset.test());
            NewRun newRun = NewRun.of(STAGE, params.model(), dataset.name(), hash).withCodeCommit(CodeVersion.commit())
                    .withNotes(members + " members averaged: " + String.join(", ", ids));
            RunRecord run = RecordedRun.record(ledger, newRun, "interrupted; the same command reuses the members and "
                    + "records the ensemble again", started -> {
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("members", ids);
                details.put("member_test_acc", trained.stream().map(t -> t.run().testAcc()).toList());
                long paramCount = trained.stream().mapToLong(t -> t.run().params()).sum();
                long bytes = trained.stream().mapToLong(t -> t.run().fileBytes()).sum();
                return new RecordedRun.Finished<>(RunResult.of(null, null, test).withSizes(paramCount, paramCount, bytes)
                        .withDetails(Json.writeCompact(details)), (Void) null);
            }).run();
            return new Ensemble(run, trained);
        }
    }

    /** The member run ids of an ensemble row. */
    static List<String> members(RunRecord ensemble) {
        try {
            Map<?, ?> details = Json.read(ensemble.details(), Map.class);
            return ((List<?>) details.get("members")).stream().map(Object::toString).toList();
        } catch (java.io.IOException | RuntimeException e) {
            throw new BadInputException("ensemble run " + ensemble.id() + " does not list its members: " + e.getMessage());
        }
    }

    /** What an ensemble's hash covers: its members' settings and how many there are. */
    record EnsembleParams(TrainParams member, int members) {
    }
}
