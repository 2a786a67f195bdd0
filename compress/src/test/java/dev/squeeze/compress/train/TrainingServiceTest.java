package dev.squeeze.compress.train;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.eval.Evaluation;
import dev.squeeze.compress.saved.EvaluationService;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunQuery;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunStatus;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.DatasetLocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The train stage end to end: a real SQLite ledger, real run folders, real fixture data. */
class TrainingServiceTest {
    @TempDir
    Path tmp;

    private Workspace workspace() {
        return new Workspace(tmp.resolve("runs"), tmp.resolve("runs/ledger.db").toString());
    }

    /** A locator that can only find the fixtures through --data: no system copy, no download. */
    private DatasetLocator locator() {
        return new DatasetLocator(null, null, null);
    }

    private TrainingService service() {
        return new TrainingService(workspace(), locator(), TrainingMonitor.SILENT);
    }

    private static TrainParams params() {
        return TrainParams.of("mlp-tiny", "fashion-mnist", 2, 60, 1e-3, 11, 3, 0.1, 0.8);
    }

    /** Three epochs, patience enough to run them all: a run that can be killed after its first and resumed. */
    static TrainParams resumableParams() {
        return TrainParams.of("mlp-tiny", "fashion-mnist", 3, 60, 1e-3, 11, 3, 0.1, 0.8);
    }

    @Test
    void aRunKilledWithSigkillIsMarkedKilledAndTheResumedRunLinksToIt() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                TrainingUntilKilled.class.getName(), workspace().runsRoot().toString(), workspace().ledgerLocation(),
                Fixtures.fashionMnistDir().toString()).redirectErrorStream(true).start();
        String killedId;
        try {
            var out = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream()));
            String line;
            do {
                line = out.readLine();
            } while (line != null && !line.equals("epoch 1 saved"));
            assertNotNull(line, "the child trained one epoch");
            child.destroyForcibly(); // SIGKILL mid-run: no shutdown hook marks the row
            assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        } finally {
            child.destroyForcibly();
        }
        try (RunLedger ledger = RunLedger.open(workspace().ledgerLocation(), RunLedger.Access.READ_ONLY)) {
            RunRecord left = ledger.query(RunQuery.all()).get(0);
            assertEquals(RunStatus.RUNNING, left.status(), "what the ledger says until someone opens it to write");
            killedId = left.id();
        }

        TrainOutcome resumed = service().train(resumableParams(), Fixtures.fashionMnistDir(), false);
        assertEquals(RunStatus.DONE, resumed.run().status());
        assertEquals(1, resumed.training().resumedAfterEpoch(), "continued from the killed run's checkpoint");
        assertEquals(killedId, resumed.run().resumes());
        try (RunLedger ledger = RunLedger.open(workspace().ledgerLocation())) {
            RunRecord killed = ledger.get(killedId).orElseThrow();
            assertEquals(RunStatus.KILLED, killed.status());
            assertTrue(killed.notes().contains("noticed at"), killed.notes());
        }
    }

    @Test
    void recordsTheRunAndEvaluatesTheTestSetOnce() {
        TrainOutcome outcome = service().train(params(), Fixtures.fashionMnistDir(), false);
        RunRecord run = outcome.run();
        assertEquals(RunStatus.DONE, run.status());
        assertEquals("train", run.stage());
        assertEquals("mlp-tiny", run.model());
        assertEquals(25_450L, run.params());
        assertEquals(run.params(), run.nonzeroParams());
        assertTrue(run.fileBytes() > 0);
        assertNotNull(run.testAcc());
        assertTrue(outcome.paths().dir().getFileName().toString().startsWith("train-" + run.configHash()));
        assertTrue(Files.isRegularFile(outcome.paths().config()));

        Evaluation again = new EvaluationService(locator()).evaluateTestSet(outcome.paths().model(), null,
                Fixtures.fashionMnistDir());
        assertEquals(run.testAcc(), again.accuracy(), 1e-9, "eval applies the saved normalization");
        assertEquals(500, again.examples());
        assertTrue(outcome.format().contains("test " + String.format(java.util.Locale.ROOT, "%.2f%%", 100 * run.testAcc())));
    }

    @Test
    void anIdenticalConfigurationIsReusedNotDuplicated() {
        TrainOutcome first = service().train(params(), Fixtures.fashionMnistDir(), false);
        TrainOutcome second = service().train(params(), Fixtures.fashionMnistDir(), false);
        assertTrue(second.reused());
        assertEquals(first.run().id(), second.run().id());
        try (RunLedger ledger = RunLedger.open(workspace().ledgerLocation())) {
            assertEquals(1, ledger.query(RunQuery.all()).size());
        }
        TrainOutcome forced = service().train(params(), Fixtures.fashionMnistDir(), true);
        assertFalse(forced.reused());
        assertEquals(first.run().testAcc(), forced.run().testAcc(), 0.0, "same seed, same result");
    }

    @Test
    void divergenceIsRecordedAsAFailedRun() {
        var params = TrainParams.of("mlp-tiny", "fashion-mnist", 2, 60, 1e30, 11, 3, 0.1, 0.8);
        assertThrows(TrainingDivergedException.class, () -> service().train(params, Fixtures.fashionMnistDir(), false));
        try (RunLedger ledger = RunLedger.open(workspace().ledgerLocation())) {
            List<RunRecord> runs = ledger.query(RunQuery.all());
            assertEquals(RunStatus.FAILED, runs.get(0).status());
            assertTrue(runs.get(0).notes().contains("learning rate"), runs.get(0).notes());
        }
    }

    @Test
    void badInputFailsBeforeAnythingIsWritten() throws IOException {
        var unknown = assertThrows(BadInputException.class,
                () -> service().train(params().withModel("resnet-9000"), Fixtures.fashionMnistDir(), false));
        assertTrue(unknown.getMessage().contains("lenet-300-100"), "lists the known models: " + unknown.getMessage());

        Path aFile = Files.writeString(tmp.resolve("plain-file"), "x");
        var blocked = new TrainingService(new Workspace(aFile.resolve("runs"), tmp.resolve("l.db").toString()),
                locator(), TrainingMonitor.SILENT);
        var unwritable = assertThrows(BadInputException.class, () -> blocked.train(params(), Fixtures.fashionMnistDir(), false));
        assertTrue(unwritable.getMessage().contains("not writable"), unwritable.getMessage());

        var noData = assertThrows(BadInputException.class, () -> service().train(params(), tmp.resolve("nowhere"), false));
        assertTrue(noData.getMessage().contains("--data"), noData.getMessage());
        assertFalse(Files.exists(tmp.resolve("l.db")));
        try (var files = Files.list(tmp.resolve("runs"))) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("train-")), "no run folder for a failed start");
        }
    }

    @Test
    void theModelFileCarriesNormalizationFromTheTrainingSplitOnly() {
        TrainOutcome outcome = service().train(params(), Fixtures.fashionMnistDir(), false);
        var info = ModelFile.load(outcome.paths().model(), false).info();
        TrainingData data = Fixtures.fashionMnist();
        assertEquals(data.normalization(), info.normalization());
        var everything = dev.squeeze.models.data.Normalization.global(
                dev.squeeze.models.data.DatasetLoader.load("fashion-mnist", Fixtures.fashionMnistDir()).train());
        assertFalse(everything.equals(info.normalization()), "validation examples are not part of the statistics");
    }
}
