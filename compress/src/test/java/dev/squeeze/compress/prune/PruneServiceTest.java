package dev.squeeze.compress.prune;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunQuery;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunStatus;
import dev.squeeze.compress.train.EpochMetrics;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.artifacts.RewindPoint;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.models.data.DatasetLocator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import dev.squeeze.models.zoo.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lottery-ticket searches through the real loop on real fixture data, with a real SQLite ledger. */
class PruneServiceTest {
    @TempDir
    Path tmp;

    private static final TrainParams DENSE = TrainParams.of("mlp-tiny", "fashion-mnist", 2, 60, 1e-3, 5, 3, 0.1, 0.8);

    private static Workspace workspace(Path home) {
        return new Workspace(home, home.resolve("ledger.db").toString());
    }

    private static DatasetLocator locator() {
        return new DatasetLocator(null, null, null);
    }

    private static TrainOutcome dense(Path home) {
        return new TrainingService(workspace(home), locator(), TrainingMonitor.SILENT).train(DENSE, Fixtures.fashionMnistDir(), false);
    }

    private static PruneOutcome prune(Path home, String from, PruneParams params, TrainingMonitor monitor) {
        return new PruneService(workspace(home), locator(), monitor).prune(params, from, Fixtures.fashionMnistDir());
    }

    private static float[] params(Path modelFile) {
        return ModelFile.load(modelFile, false).network().params().dup('c').data().asFloat();
    }

    @Test
    void aSearchKeepsPrunedWeightsAtZeroAndExportsTheTrainedTicket() {
        Path home = tmp.resolve("a");
        TrainOutcome dense = dense(home);
        PruneOutcome outcome = prune(home, dense.run().id(), new PruneParams(null, 3, 0.2, "0", PruneScope.LAYER,
                PruneControl.NONE), TrainingMonitor.SILENT);
        assertEquals(3, outcome.tickets().size());
        Path search = outcome.ticket().getParent();

        Mask previous = null;
        for (int level = 1; level <= 3; level++) {
            Path dir = search.resolve("level-" + level);
            Mask mask = Mask.load(dir.resolve("mask.bin"));
            if (previous != null) assertTrue(mask.isSubsetOf(previous), "masks only shrink");
            previous = mask;
            Network trained = ModelFile.load(new RunPaths(dir).model(), false).network();
            for (var e : mask.flags().entrySet()) {
                float[] w = trained.getParam(e.getKey()).dup('c').data().asFloat();
                boolean anySurvivorMoved = false;
                for (int i = 0; i < w.length; i++) {
                    if (!e.getValue()[i]) assertEquals(0f, w[i], 0f, "pruned weight " + e.getKey() + "[" + i + "] after training");
                    else anySurvivorMoved |= w[i] != 0f;
                }
                assertTrue(anySurvivorMoved);
            }
            assertEquals(mask.totalFraction(), outcome.tickets().get(level - 1).totalRemaining(), 1e-12);
        }
        assertEquals(0.8 * 0.8 * 0.8, outcome.tickets().get(2).remaining().get("0_W"), 1e-3);

        float[] exported = params(outcome.ticket());
        assertArrayEquals(params(new RunPaths(search.resolve("level-3")).model()), exported, "the trained ticket is exported");
        assertFalse(java.util.Arrays.equals(params(dense.paths().model()), exported), "not the dense network");
        float[] rewound = PruneService.rewound(dense.paths().snapshot(RewindPoint.INIT), previous).params().dup('c').data().asFloat();
        assertFalse(java.util.Arrays.equals(rewound, exported), "not the rewound network");
        assertTrue(Files.isRegularFile(outcome.plot()) && Files.isRegularFile(outcome.table()));

        try (RunLedger ledger = RunLedger.open(workspace(home).ledgerLocation())) {
            List<RunRecord> levels = ledger.query(RunQuery.all().withStage(PruneService.STAGE).sortedBy("started_at", false));
            assertEquals(3, levels.size());
            assertEquals(dense.run().id(), levels.get(0).parentId(), "level 1 is a child of the dense run");
            assertEquals(levels.get(0).id(), levels.get(1).parentId());
            assertEquals(levels.get(1).id(), levels.get(2).parentId());
            assertTrue(levels.get(2).details().contains("\"early_stop_iteration\""), levels.get(2).details());
            assertTrue(levels.get(2).details().contains("\"0_W\":0.511997"), levels.get(2).details());
            assertTrue(levels.get(2).nonzeroParams() < levels.get(2).params());
        }
    }

    @Test
    void rewindingRestoresTheSavedWeightsBitForBit() {
        Path home = tmp.resolve("r");
        TrainOutcome dense = dense(home);
        Network trained = ModelFile.load(dense.paths().model(), false).network();
        Mask mask = MagnitudePruning.prune(Mask.dense(trained), trained, 0.5, PruneScope.LAYER);
        Network init = ModelFile.load(dense.paths().snapshot(RewindPoint.INIT), true).network();
        Network rewound = PruneService.rewound(dense.paths().snapshot(RewindPoint.INIT), mask);
        for (var e : mask.flags().entrySet()) {
            float[] saved = init.getParam(e.getKey()).dup('c').data().asFloat();
            float[] now = rewound.getParam(e.getKey()).dup('c').data().asFloat();
            for (int i = 0; i < saved.length; i++) {
                if (e.getValue()[i]) {
                    assertEquals(Float.floatToIntBits(saved[i]), Float.floatToIntBits(now[i]), "survivor " + e.getKey() + "[" + i + "]");
                } else {
                    assertTrue(now[i] == 0f, "pruned " + e.getKey() + "[" + i + "] is zero (a negative weight times 0 is -0.0)");
                }
            }
        }
        assertEquals(init.asStack().getUpdater().getStateViewArray(), rewound.asStack().getUpdater().getStateViewArray(),
                "optimizer state rewound too");
    }

    @Test
    void aKilledSearchContinuesFromTheLastCompleteLevelToTheSameResult() {
        PruneParams params = new PruneParams(null, 3, 0.2, "0", PruneScope.LAYER, PruneControl.NONE);
        Path whole = tmp.resolve("whole");
        PruneOutcome uninterrupted = prune(whole, dense(whole).run().id(), params, TrainingMonitor.SILENT);

        Path killed = tmp.resolve("killed");
        String denseId = dense(killed).run().id();
        var dieInLevelTwo = new TrainingMonitor() {
            int level;

            @Override
            public void message(String line) {
                if (line.startsWith("level ")) level++;
            }

            @Override
            public void epochFinished(EpochMetrics metrics) {
                if (level == 2 && metrics.epoch() == 1) throw new IllegalStateException("killed");
            }
        };
        assertThrows(IllegalStateException.class, () -> prune(killed, denseId, params, dieInLevelTwo));
        var messages = new java.util.ArrayList<String>();
        PruneOutcome resumed = prune(killed, denseId, params, new TrainingMonitor() {
            @Override
            public void message(String line) {
                messages.add(line);
            }
        });
        assertTrue(messages.stream().anyMatch(m -> m.startsWith("level 1 already complete")), messages.toString());
        assertTrue(messages.stream().anyMatch(m -> m.startsWith("resuming")), "level 2 resumes its own checkpoint: " + messages);
        assertArrayEquals(params(uninterrupted.ticket()), params(resumed.ticket()), "same result as an uninterrupted run");
        for (int i = 0; i < 3; i++) {
            assertEquals(uninterrupted.tickets().get(i).testAccuracy(), resumed.tickets().get(i).testAccuracy(), 0.0);
        }
        try (RunLedger ledger = RunLedger.open(workspace(killed).ledgerLocation())) {
            assertEquals(1, ledger.query(RunQuery.all().withStatus(RunStatus.FAILED)).size(), "the killed level's row");
        }
    }

    @Test
    void aLevelIsDoneWhenItsFolderHoldsItsOutcomeAndLevelsMarkedTheOldWayAreAdopted() throws Exception {
        PruneParams params = new PruneParams(null, 2, 0.2, "0", PruneScope.LAYER, PruneControl.NONE);
        Path home = tmp.resolve("levels");
        String denseId = dense(home).run().id();
        PruneOutcome first = prune(home, denseId, params, TrainingMonitor.SILENT);
        Path search = first.ticket().getParent();
        Path level1 = search.resolve("level-1");
        assertTrue(Files.isRegularFile(level1.resolve("outcome.json")), "a complete level holds its outcome file");
        // What the previous Squeeze left for level 1: level.json holding the level's results, no outcome file.
        var stored = dev.squeeze.compress.stage.OutcomeFile.read(new dev.squeeze.compress.artifacts.RunPaths(level1),
                PruneService.Completed.class).orElseThrow();
        Files.writeString(level1.resolve(PruneService.LEGACY_LEVEL_FILE), dev.squeeze.compress.artifacts.Json.write(
                stored.outcome()));
        Files.delete(level1.resolve("outcome.json"));
        Files.delete(search.resolve("outcome.json")); // nor had the search one
        int rows;
        try (RunLedger ledger = RunLedger.open(workspace(home).ledgerLocation())) {
            rows = ledger.query(RunQuery.all()).size();
        }

        var messages = new java.util.ArrayList<String>();
        PruneOutcome again = prune(home, denseId, params, new TrainingMonitor() {
            @Override
            public void message(String line) {
                messages.add(line);
            }
        });
        assertTrue(messages.contains("level 1 already complete (run " + first.tickets().get(0).runId() + ")"), messages.toString());
        assertTrue(messages.contains("level 2 already complete (run " + first.tickets().get(1).runId() + ")"), messages.toString());
        assertTrue(Files.isRegularFile(level1.resolve("outcome.json")), "the old level adopted: its outcome file written");
        assertEquals(first.tickets(), again.tickets());
        try (RunLedger ledger = RunLedger.open(workspace(home).ledgerLocation())) {
            assertEquals(rows, ledger.query(RunQuery.all()).size(), "no level trained again");
        }
    }

    @Test
    void aFinishedSearchIsDoneWhenItsFolderHoldsItsOutcome() throws Exception {
        PruneParams params = new PruneParams(null, 1, 0.2, "0", PruneScope.LAYER, PruneControl.NONE);
        Path home = tmp.resolve("search-done");
        String denseId = dense(home).run().id();
        PruneOutcome first = prune(home, denseId, params, TrainingMonitor.SILENT);
        Path search = first.ticket().getParent();
        assertTrue(Files.isRegularFile(search.resolve("outcome.json")), "a finished search holds its outcome file");

        var messages = new java.util.ArrayList<String>();
        PruneOutcome again = prune(home, denseId, params, new TrainingMonitor() {
            @Override
            public void message(String line) {
                messages.add(line);
            }
        });
        assertTrue(messages.stream().anyMatch(m -> m.startsWith("search " + first.searchId() + " already complete")),
                messages.toString());
        assertTrue(messages.stream().noneMatch(m -> m.startsWith("level 1")), "no level looked at again: " + messages);
        assertEquals(first.tickets(), again.tickets());
        assertEquals(first.ticket(), again.ticket());
    }

    @Test
    void controlsTrainBesideEachLevel() {
        Path home = tmp.resolve("c");
        String denseId = dense(home).run().id();
        PruneOutcome reinit = prune(home, denseId, new PruneParams(null, 2, 0.5, "0", PruneScope.LAYER,
                PruneControl.REINIT), TrainingMonitor.SILENT);
        assertEquals(2, reinit.controls().size());
        assertEquals(reinit.tickets().get(1).totalRemaining(), reinit.controls().get(1).totalRemaining(), 0.0,
                "the same mask");
        assertTrue(reinit.format().contains("REINIT ACC"), reinit.format());

        PruneOutcome random = prune(home, denseId, new PruneParams(null, 2, 0.5, "0", PruneScope.LAYER,
                PruneControl.RANDOM), TrainingMonitor.SILENT);
        Path level2 = random.ticket().getParent().resolve("level-2");
        Mask ticketMask = Mask.load(level2.resolve("mask.bin"));
        Mask randomMask = Mask.load(level2.resolve("random-mask.bin"));
        for (String key : ticketMask.flags().keySet()) assertEquals(ticketMask.remaining(key), randomMask.remaining(key));
        assertFalse(ticketMask.equals(randomMask));
        try (RunLedger ledger = RunLedger.open(workspace(home).ledgerLocation())) {
            assertEquals(4, ledger.query(RunQuery.all().withStage(PruneService.CONTROL_STAGE)).size());
        }
    }

    @Test
    void structuredPruningWritesAPhysicallySmallerTicket() throws Exception {
        Path home = tmp.resolve("s");
        TrainOutcome dense = dense(home);
        PruneOutcome outcome = prune(home, dense.run().id(), new PruneParams(null, 2, 0.5, "0", PruneScope.LAYER,
                PruneControl.NONE, Structure.NEURONS), TrainingMonitor.SILENT);
        MultiLayerNetwork ticket = ModelFile.load(outcome.ticket(), false).network().asStack();
        assertEquals(784 * 8 + 8 + 8 * 10 + 10, ticket.numParams(), "784-32-10 halved twice: 784-8-10");
        assertEquals(ticket.numParams(), outcome.tickets().get(1).nonzeroParams(), 0, "no zeros left: the net is smaller");
        assertTrue(Files.size(outcome.ticket()) < Files.size(dense.paths().model()) / 2);
        assertTrue(outcome.format().startsWith("structured (neurons) search"), outcome.format());
        assertThrows(dev.squeeze.core.BadInputException.class, () -> new PruneParams(null, 2, 0.5, "0",
                PruneScope.LAYER, PruneControl.REINIT, Structure.NEURONS));
    }

    @Test
    void lateRewindingTrainsTheDenseRunAgainWithASnapshotWhenItHasNone() {
        Path home = tmp.resolve("late");
        TrainOutcome dense = dense(home);
        assertFalse(Files.exists(dense.paths().snapshot(RewindPoint.parse("40it"))));
        PruneOutcome outcome = prune(home, dense.run().id(), new PruneParams(null, 1, 0.2, "40it", PruneScope.LAYER,
                PruneControl.NONE), TrainingMonitor.SILENT);
        assertEquals(1, outcome.tickets().size());
        try (RunLedger ledger = RunLedger.open(workspace(home).ledgerLocation())) {
            List<RunRecord> trains = ledger.query(RunQuery.all().withStage(TrainingService.STAGE));
            assertEquals(2, trains.size(), "the dense run again, with --snapshot 40it");
            RunRecord withSnapshot = trains.stream().filter(r -> r.configJson().contains("40it")).findFirst().orElseThrow();
            assertEquals(dense.run().testAcc(), withSnapshot.testAcc(), 0.0, "same seed: the same dense network");
            assertTrue(Files.isRegularFile(Path.of(withSnapshot.artifactDir()).resolve("rewind-40it.zip")));
            assertEquals(withSnapshot.id(), ledger.query(RunQuery.all().withStage(PruneService.STAGE)).get(0).parentId());
        }
    }

    @Test
    void aResidualGraphPrunesWeightsWithRewindingAndChannelsAcrossItsAdds() {
        Path home = tmp.resolve("graph");
        TrainOutcome dense = new TrainingService(workspace(home), locator(), TrainingMonitor.SILENT).train(
                TrainParams.of("resnet-tiny", "fashion-mnist", 1, 60, 3e-3, 5, 3, 0.1, 0.8).withSnapshot("10it"),
                Fixtures.fashionMnistDir(), false);   // the weights at iteration 10 saved for late rewinding below
        Network init = ModelFile.load(dense.paths().snapshot(RewindPoint.INIT), true).network();

        PruneOutcome weights = prune(home, dense.run().id(), new PruneParams(null, 2, 0.3, "0", PruneScope.LAYER,
                PruneControl.NONE), TrainingMonitor.SILENT);
        Path level2 = weights.ticket().getParent().resolve("level-2");
        Mask mask = Mask.load(level2.resolve("mask.bin"));
        assertEquals(0.7 * 0.7, mask.fraction("s3_conv2_W"), 0.01, "two rounds of 30% on a convolution's weights");
        Network ticket = ModelFile.load(weights.ticket(), false).network();
        Network rewound = PruneService.rewound(dense.paths().snapshot(RewindPoint.INIT), mask);
        for (var e : mask.flags().entrySet()) {
            float[] trained = ticket.getParam(e.getKey()).dup('c').data().asFloat();
            float[] start = rewound.getParam(e.getKey()).dup('c').data().asFloat();
            float[] initial = init.getParam(e.getKey()).dup('c').data().asFloat();
            for (int i = 0; i < trained.length; i++) {
                if (!e.getValue()[i]) assertEquals(0f, trained[i], 0f, "pruned " + e.getKey() + "[" + i + "] after training");
                else assertEquals(initial[i], start[i], 0f, "survivor " + e.getKey() + "[" + i + "] rewound");
            }
        }

        PruneOutcome channels = prune(home, dense.run().id(), new PruneParams(null, 1, 0.5, "10it", PruneScope.LAYER,
                PruneControl.NONE, Structure.CHANNELS), TrainingMonitor.SILENT);
        Network small = ModelFile.load(channels.ticket(), false).network();
        assertTrue(small.isGraph());
        assertEquals(GraphChannelPruningTest.parameters(new int[]{2, 2, 4, 4, 4, 4}), small.numParams(),
                "every channel group of resnet-tiny halved");
        assertEquals((double) small.numParams() / init.numParams(), channels.tickets().get(0).totalRemaining(), 1e-9);
        Network start = ModelFile.load(channels.ticket().getParent().resolve("level-1").resolve("rewound.zip"), true).network();
        assertEquals(10, ((Network.Graph) start).graph().getIterationCount(), "late rewinding: Adam resumes at step 10");
        assertTrue(channels.format().startsWith("structured (channels) search"), channels.format());
        assertThrows(dev.squeeze.core.BadInputException.class, () -> prune(home, dense.run().id(), new PruneParams(null, 1,
                0.5, "0", PruneScope.LAYER, PruneControl.NONE, Structure.NEURONS), TrainingMonitor.SILENT));
    }

    /**
     * {@code --teacher dense}: the same masks (pruning reads the trained weights, not the teacher), a search of its own,
     * tickets trained on the dense model's soft targets (so other weights than the labels alone give), still pruned,
     * and written as plain classifiers that later stages (quantize, export) read as any model.
     */
    @Test
    void aTeacherDenseSearchPrunesAlikeTrainsOnTheDenseModelsSoftTargetsAndWritesPlainClassifiers() {
        Path home = tmp.resolve("t");
        TrainOutcome dense = dense(home);
        PruneOutcome labels = prune(home, dense.run().id(), new PruneParams(null, 1, 0.5, "0", PruneScope.LAYER,
                PruneControl.NONE), TrainingMonitor.SILENT);
        List<String> progress = new java.util.ArrayList<>();
        PruneOutcome taught = prune(home, dense.run().id(), new PruneParams(null, 1, 0.5, "0", PruneScope.LAYER,
                PruneControl.NONE, Structure.NONE, PruneTeacher.DENSE), new TrainingMonitor() {
            @Override
            public void message(String line) {
                progress.add(line);
            }
        });
        assertFalse(labels.searchId().equals(taught.searchId()), "a search of its own");
        assertTrue(progress.stream().anyMatch(l -> l.contains("soft targets for") && l.contains("computed once")),
                progress.toString());

        Path labelsLevel = labels.ticket().getParent().resolve("level-1");
        Path taughtLevel = taught.ticket().getParent().resolve("level-1");
        Mask mask = Mask.load(taughtLevel.resolve("mask.bin"));
        Mask labelsMask = Mask.load(labelsLevel.resolve("mask.bin"));
        assertEquals(labelsMask.flags().keySet(), mask.flags().keySet());
        for (var e : mask.flags().entrySet()) {
            assertArrayEquals(labelsMask.flags().get(e.getKey()), e.getValue(), "the same weights pruned");
        }
        Network ticket = ModelFile.load(new RunPaths(taughtLevel).model(), false).network();
        for (var e : mask.flags().entrySet()) {
            float[] w = ticket.getParam(e.getKey()).dup('c').data().asFloat();
            for (int i = 0; i < w.length; i++) if (!e.getValue()[i]) assertEquals(0f, w[i], 0f, "pruned stays pruned");
        }
        assertFalse(java.util.Arrays.equals(params(new RunPaths(labelsLevel).model()), params(new RunPaths(taughtLevel).model())),
                "the soft targets change what training finds");
        assertTrue(ticket.outputLayer().getLossFn() instanceof org.nd4j.linalg.lossfunctions.impl.LossMCXENT,
                "written as a plain classifier: " + ticket.outputLayer().getLossFn());
        assertTrue(ModelFile.load(taught.ticket(), false).network().outputLayer().getLossFn()
                instanceof org.nd4j.linalg.lossfunctions.impl.LossMCXENT, "the exported ticket too");

        try (RunLedger ledger = RunLedger.open(workspace(home).ledgerLocation())) {
            RunRecord level = ledger.get(taught.tickets().get(0).runId()).orElseThrow();
            assertTrue(level.notes().contains("learns from the dense model's soft targets"), level.notes());
            assertTrue(level.details().contains("\"teacher\":\"dense\""), level.details());
            assertEquals(RunStatus.DONE, level.status());
        }
        assertTrue(taught.tickets().get(0).testAccuracy() > 0.5, "a classifier: " + taught.tickets().get(0));
    }
}
