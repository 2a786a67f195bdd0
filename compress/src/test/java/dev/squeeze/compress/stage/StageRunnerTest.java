package dev.squeeze.compress.stage;

import dev.squeeze.core.AtomicFiles;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.NewRun;
import dev.squeeze.compress.ledger.RecordedRun;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunQuery;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunResult;
import dev.squeeze.compress.ledger.RunStatus;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.quant.QuantizeOutcome;
import dev.squeeze.compress.quant.QuantizeService;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.models.data.DatasetLocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stage runner with a real SQLite ledger and real run folders: a small stage of this test's own (counting its
 * work, failing or leaving a resume checkpoint when told), and the real train and quantize stages for folders written
 * before outcome files existed.
 */
class StageRunnerTest {
    @TempDir
    Path tmp;

    private final List<String> messages = new ArrayList<>();

    private Workspace workspace() {
        return new Workspace(tmp.resolve("runs"), tmp.resolve("runs/ledger.db").toString());
    }

    private StageRunner runner() {
        return new StageRunner(workspace(), messages::add);
    }

    /** Settings of the test stage: {@code text} is echoed; {@code fail} makes the work throw. */
    record Echo(String text, boolean fail) {
        static final Echo DEFAULTS = new Echo(null, false);
    }

    record Said(String text, int times) {
    }

    /** A stage that says its text back; counts its work; can leave a resume checkpoint and fail (until recovered). */
    static final class EchoStage implements Stage<Echo, Said> {
        int runs;
        boolean leaveCheckpoint;
        boolean recovered;

        @Override
        public Definition<Echo, Said> definition() {
            return new Definition<>("echo", Echo.DEFAULTS, Said.class,
                    "interrupted");
        }

        @Override
        public NewRun row(Echo params, ConfigHash hash) {
            return NewRun.of("echo", null, null, hash);
        }

        @Override
        public String reusedMessage(Echo params, RunRecord run) {
            return "already echoed as run " + run.id();
        }

        @Override
        public RecordedRun.Finished<Said> run(StageRun<Echo> run) {
            runs++;
            if (leaveCheckpoint) AtomicFiles.writeString(run.paths().resumeCheckpoint(), "epoch 1");
            if (run.params().fail() && !recovered) throw new IllegalStateException("told to fail");
            return new RecordedRun.Finished<>(RunResult.of(null, null, 0.5), new Said(run.params().text(), runs));
        }
    }

    private List<RunRecord> rows() {
        try (RunLedger ledger = workspace().openLedger()) {
            return ledger.query(RunQuery.all());
        }
    }

    @Test
    void aFolderHoldingItsOutcomeIsDoneAndReusedWithoutANewRow() throws Exception {
        EchoStage stage = new EchoStage();
        StageResult<Said> first = runner().run(stage, new Echo("hello", false));
        assertFalse(first.reused());
        assertEquals(new Said("hello", 1), first.outcome());
        assertTrue(Files.isRegularFile(first.paths().outcome()), "the outcome file marks the run done");
        assertEquals(first.paths().dir(), workspace().runsRoot().resolve("echo-" + first.run().configHash()));
        assertTrue(Files.readString(first.paths().config()).contains("hello"), "config.json written before the work");

        StageResult<Said> again = runner().run(stage, new Echo("hello", false));
        assertTrue(again.reused());
        assertEquals(1, stage.runs, "the work ran once");
        assertEquals(first.run().id(), again.run().id());
        assertEquals(first.outcome(), again.outcome(), "the outcome comes back from the file");
        assertEquals(List.of("already echoed as run " + first.run().id()), messages);
        assertEquals(1, rows().size(), "no new row for a reused run");

        StageResult<Said> other = runner().run(stage, new Echo("other", false));
        assertFalse(other.reused(), "other settings, other folder");
        assertNotEquals(first.paths(), other.paths());
    }

    @Test
    void aFailedRunLeavesAFailedRowAndNoOutcomeSoTheSameCommandRunsAgain() {
        EchoStage stage = new EchoStage();
        Echo failing = new Echo("x", true);
        var e = assertThrows(IllegalStateException.class, () -> runner().run(stage, failing));
        assertEquals("told to fail", e.getMessage());
        RunRecord failed = rows().get(0);
        assertEquals(RunStatus.FAILED, failed.status());
        assertTrue(failed.notes().contains("told to fail"), failed.notes());
        Path folder = RunPaths.of(workspace().runsRoot(), "echo", failed.configHash()).dir();
        assertTrue(Files.isDirectory(folder));
        assertFalse(Files.exists(folder.resolve("outcome.json")), "a failed run is not done");

        assertThrows(IllegalStateException.class, () -> runner().run(stage, failing));
        assertEquals(2, stage.runs, "not done: the work ran again");
        assertEquals(2, rows().size());
    }

    @Test
    void aRunThatLeftAResumeCheckpointIsLinkedFromTheRunThatContinuesIt() {
        EchoStage stage = new EchoStage();
        stage.leaveCheckpoint = true;
        assertThrows(IllegalStateException.class, () -> runner().run(stage, new Echo("resume me", true)));
        String failedId = rows().get(0).id();

        // The same settings (the same folder), and this time the work gets through.
        stage.recovered = true;
        StageResult<Said> resumed = runner().run(stage, new Echo("resume me", true));
        assertFalse(resumed.reused());
        assertEquals(failedId, resumed.run().resumes(), "the new row links the one whose checkpoint it continues");
        assertEquals("resumes run " + failedId + " (" + RunStatus.FAILED.text() + ")", resumed.run().notes());
        assertEquals(RunStatus.DONE, resumed.run().status());
    }

    @Test
    void forceRunsAgainAndASweepAdoptsAReusedRun() {
        EchoStage stage = new EchoStage();
        StageResult<Said> first = runner().run(stage, new Echo("a", false));
        StageResult<Said> forced = runner().forced(true).run(stage, new Echo("a", false));
        assertFalse(forced.reused());
        assertNotEquals(first.run().id(), forced.run().id());
        assertEquals(2, stage.runs);

        StageResult<Said> inSweep = runner().inSweep("sweep-1").run(stage, new Echo("a", false));
        assertTrue(inSweep.reused());
        assertEquals(forced.run().id(), inSweep.run().id());
        assertEquals("sweep-1", inSweep.run().sweepId(), "a reused run joins the sweep that asked for it");
        assertNull(first.run().sweepId());
    }

    @Test
    void runFoldersWrittenBeforeOutcomeFilesAreAdoptedOnceFromTheirLedgerRows() throws Exception {
        DatasetLocator locator = new DatasetLocator(null, null, null);
        TrainingService training = new TrainingService(workspace(), locator, TrainingMonitor.SILENT);
        TrainParams params = TrainParams.of("mlp-tiny", "fashion-mnist", 1, 60, 1e-3, 11, 3, 0.1, 0.8);
        TrainOutcome trained = training.train(params, Fixtures.fashionMnistDir(), false);
        QuantizeService quantize = new QuantizeService(workspace(), locator, TrainingMonitor.SILENT);
        QuantizeOutcome quantized = quantize.quantize(trained.run().id(), QuantParams.DEFAULTS, Fixtures.fashionMnistDir());
        Path quantizeFolder = Path.of(quantized.model()).getParent();
        // What the previous Squeeze left: a DONE row and the model file, but no outcome file.
        Files.delete(trained.paths().outcome());
        Files.delete(quantizeFolder.resolve("outcome.json"));
        int rowsBefore = rows().size();

        TrainOutcome again = training.train(params, Fixtures.fashionMnistDir(), false);
        assertTrue(again.reused(), "a DONE row with its model file is a finished run");
        assertEquals(trained.run().id(), again.run().id());
        assertTrue(Files.isRegularFile(trained.paths().outcome()), "adopted: the outcome file is written once");
        QuantizeOutcome requantized = quantize.quantize(trained.run().id(), QuantParams.DEFAULTS, Fixtures.fashionMnistDir());
        assertEquals(quantized, requantized, "the quantize outcome rebuilt from the row's details");
        assertTrue(Files.isRegularFile(quantizeFolder.resolve("outcome.json")));
        assertEquals(rowsBefore, rows().size(), "nothing ran again");

        // A DONE row whose model file is gone is not a finished run: it trains again (from scratch, checkpoints gone).
        Files.delete(trained.paths().outcome());
        Files.delete(trained.paths().model());
        Files.delete(trained.paths().resumeCheckpoint());
        TrainOutcome retrained = training.train(params, Fixtures.fashionMnistDir(), false);
        assertFalse(retrained.reused());
        assertNotEquals(trained.run().id(), retrained.run().id());
    }
}
