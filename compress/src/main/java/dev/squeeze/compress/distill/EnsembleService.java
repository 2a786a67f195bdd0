package dev.squeeze.compress.distill;

import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.stage.Stage;
import dev.squeeze.compress.stage.StageResult;
import dev.squeeze.compress.stage.StageRun;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.NewRun;
import dev.squeeze.compress.ledger.RecordedRun;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunResult;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.StageEnvironment;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLocator;

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

    private final StageEnvironment env;

    public EnsembleService(Workspace workspace, DatasetLocator locator, TrainingMonitor monitor) {
        this.env = new StageEnvironment(workspace, locator, monitor);
    }

    /** The members (trained, or reused when finished) and the ensemble's row. */
    public record Ensemble(RunRecord run, List<TrainOutcome> members) {
    }

    public Ensemble train(TrainParams params, int members, Path dataDir) {
        if (members < 2) throw new BadInputException("--ensemble needs at least 2 members, got " + members);
        List<TrainOutcome> trained = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            env.monitor().message("ensemble member " + (i + 1) + "/" + members + ": seed " + (params.seed() + i));
            trained.add(new TrainingService(env).train(params.withSeed(params.seed() + i), dataDir, false));
        }
        Average average = new Average(trained, dataDir);
        EnsembleParams settings = new EnsembleParams(params, members);
        StageResult<Members> done = env.runner().run(average, settings);
        if (!done.outcome().members().equals(average.ids)) {
            // A member was trained again (--force) since: the finished ensemble averaged other models.
            done = env.runner().forced(true).run(average, settings);
        }
        return new Ensemble(done.run(), trained);
    }

    /** What an ensemble run leaves in its outcome file: the member run ids, in seed order. */
    public record Members(List<String> members) {
    }

    /** The ensemble stage: the test accuracy of the members' averaged logits. */
    private final class Average implements Stage<EnsembleParams, Members> {
        private final List<TrainOutcome> trained;
        private final List<String> ids;
        private final Path dataDir;
        private Dataset dataset;

        Average(List<TrainOutcome> trained, Path dataDir) {
            this.trained = trained;
            this.ids = trained.stream().map(t -> t.run().id()).toList();
            this.dataDir = dataDir;
        }

        @Override
        public Definition<EnsembleParams, Members> definition() {
            return new Definition<>(STAGE, new EnsembleParams(TrainParams.HASH_BASE, 0), Members.class,
                    "interrupted; the same command reuses the members and records the ensemble again");
        }

        @Override
        public NewRun row(EnsembleParams params, ConfigHash hash) {
            TrainParams member = params.member();
            dataset = member.openDataset(dataDir, env.locator(), env.monitor()::message);
            return NewRun.of(STAGE, member.model(), dataset.name(), hash)
                    .withNotes(params.members() + " members averaged: " + String.join(", ", ids));
        }

        @Override
        public Optional<Members> adopt(RunRecord finished, RunPaths paths) {
            return Optional.of(new Members(members(finished)));
        }

        @Override
        public RecordedRun.Finished<Members> run(StageRun<EnsembleParams> run) {
            var models = trained.stream().map(t -> ModelFile.load(t.paths().model(), false)).toList();
            double test = TeacherLogits.accuracy(TeacherLogits.average(models, dataset.test()), dataset.test());
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("members", ids);
            details.put("member_test_acc", trained.stream().map(t -> t.run().testAcc()).toList());
            long paramCount = trained.stream().mapToLong(t -> t.run().params()).sum();
            long bytes = trained.stream().mapToLong(t -> t.run().fileBytes()).sum();
            return new RecordedRun.Finished<>(RunResult.of(null, null, test).withSizes(paramCount, paramCount, bytes)
                    .withDetails(Json.writeCompact(details)), new Members(ids));
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
