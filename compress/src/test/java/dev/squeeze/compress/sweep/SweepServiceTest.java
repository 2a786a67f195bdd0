package dev.squeeze.compress.sweep;

import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunQuery;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunStatus;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.DatasetLocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sweeps end to end: real training of mlp-tiny on the fixture data, a real SQLite ledger, trials in parallel. */
class SweepServiceTest {
    private static final TrainParams BASE = TrainParams.of("mlp-tiny", "fashion-mnist", 2, 60, 1e-3, 11, 3, 0.1, 0.8);

    /** Every progress line is one of these, whole: parallel trials must not interleave. */
    private static final List<Pattern> PROGRESS = List.of(
            Pattern.compile("sweep sw-[0-9a-f]{12}: \\d+ trials of .+, \\d+ at a time"),
            Pattern.compile("trial \\d+/\\d+ epoch \\d+: train loss \\d+\\.\\d{4}, val acc \\d+\\.\\d\\d%( \\*)?"),
            Pattern.compile("trial \\d+/\\d+ [^:]+: val \\d+\\.\\d\\d% \\(run [0-9a-f]{8}(, reused)?\\)"),
            Pattern.compile("trial \\d+/\\d+ [^:]+: failed( \\(run [0-9a-f]{8}\\))?: .+"),
            Pattern.compile("--random \\d+ is not less than the grid's \\d+ combinations: the whole grid ran"));

    @TempDir
    Path tmp;

    private final List<String> progress = Collections.synchronizedList(new ArrayList<>());
    private final Set<String> progressThreads = Collections.synchronizedSet(new HashSet<>());

    private Workspace workspace() {
        return new Workspace(tmp.resolve("runs"), tmp.resolve("runs/ledger.db").toString());
    }

    private SweepService service() {
        return new SweepService(workspace(), new DatasetLocator(null, null, null), line -> {
            progress.add(line);
            if (line.startsWith("trial ")) progressThreads.add(Thread.currentThread().getName());
        });
    }

    private List<RunRecord> ledgerRows(RunQuery query) {
        try (RunLedger ledger = RunLedger.open(workspace().ledgerLocation())) {
            return ledger.query(query);
        }
    }

    @Test
    void aParallelSweepRecordsEveryTrialUnderOneIdRanksTheKeysAndIsReusedWhenRunAgain() {
        SweepParams params = new SweepParams(BASE, SweepGrid.parse("lr=1e-3,3e-2;batch=32,128"), null, 2);
        SweepOutcome outcome = service().run(params, Fixtures.fashionMnistDir());

        assertEquals(params.sweepId(), outcome.sweepId());
        assertEquals(4, outcome.trials().size());
        assertEquals(4, outcome.succeeded());
        assertEquals(0, outcome.reused());
        List<String> runIds = outcome.trials().stream().map(TrialOutcome::runId).toList();

        List<RunRecord> rows = ledgerRows(RunQuery.all().withSweepId(outcome.sweepId()));
        assertEquals(4, rows.size());
        assertEquals(4, ledgerRows(RunQuery.all()).size(), "nothing else in the ledger");
        assertEquals(new HashSet<>(runIds), ids(rows));
        assertEquals(4, rows.stream().map(RunRecord::configHash).distinct().count());
        for (RunRecord row : rows) {
            assertEquals(RunStatus.DONE, row.status(), row.toString());
            assertNotNull(row.valAcc());
            assertNotNull(row.testAcc());
            assertEquals(25_450L, row.params());
            TrialOutcome trial = outcome.trials().get(runIds.indexOf(row.id()));
            assertEquals(row.valAcc(), trial.valAcc());
            assertTrue(row.configJson().contains("\"batch\":" + trial.trial().settings().get("batch")), row.configJson());
        }

        SensitivityTable table = outcome.table();
        assertEquals(Set.of("lr", "batch"), Set.copyOf(table.rows().stream().map(SensitivityTable.Row::key).toList()));
        assertTrue(table.rows().get(0).spread() >= table.rows().get(1).spread(), "ranked by spread");
        assertTrue(table.rows().stream().allMatch(r -> r.spread() != null && r.levels().stream().allMatch(l -> l.trials() == 2)));
        assertEquals(rows.stream().mapToDouble(RunRecord::valAcc).max().orElseThrow(), table.best().valAcc());
        assertTrue(outcome.format().contains("RANK  SETTING"), outcome.format());

        // Each trial's 2 epochs twice: --refit auto trains again on the fixtures' 2,000 examples (1,800 in training).
        assertEachProgressLineIsWhole(4, 16);
        assertEquals(Set.of("sweep-trial-1", "sweep-trial-2"), progressThreads, "two trials at a time");

        // The same sweep again trains nothing: every trial reuses its run and row.
        progress.clear();
        SweepOutcome again = service().run(params, Fixtures.fashionMnistDir());
        assertEquals(4, again.reused());
        assertEquals(runIds, again.trials().stream().map(TrialOutcome::runId).toList());
        assertEquals(outcome.table().rows(), again.table().rows());
        assertEquals(outcome.table().best().runId(), again.table().best().runId());
        assertEquals(4, ledgerRows(RunQuery.all()).size());
        assertEachProgressLineIsWhole(4, 0);

        // A random sample as large as the grid is the same sweep, and says so.
        SweepOutcome sampled = service().run(new SweepParams(BASE, SweepGrid.parse("batch=128,32;lr=0.03,0.001"), 10, 1),
                Fixtures.fashionMnistDir());
        assertEquals(outcome.sweepId(), sampled.sweepId());
        assertEquals(4, sampled.reused());
        assertTrue(sampled.format().contains("note    --random 10 is not less than the grid's 4 combinations"), sampled.format());
    }

    @Test
    void aReusedRunOfNoSweepJoinsTheSweep() {
        TrainParams oneEpoch = TrainParams.of("mlp-tiny", "fashion-mnist", 1, 60, 1e-3, 11, 3, 0.1, 0.8);
        TrainOutcome earlier = new TrainingService(workspace(), new DatasetLocator(null, null, null), TrainingMonitor.SILENT)
                .train(oneEpoch, Fixtures.fashionMnistDir(), false);
        assertNull(earlier.run().sweepId());

        SweepOutcome outcome = service().run(new SweepParams(oneEpoch, SweepGrid.parse("lr=1e-3,3e-3"), null, 1),
                Fixtures.fashionMnistDir());
        assertTrue(outcome.trials().get(0).reused());
        assertEquals(earlier.run().id(), outcome.trials().get(0).runId());
        assertFalse(outcome.trials().get(1).reused());
        assertEquals(2, ledgerRows(RunQuery.all()).size());
        assertEquals(ids(ledgerRows(RunQuery.all())), ids(ledgerRows(RunQuery.all().withSweepId(outcome.sweepId()))),
                "the earlier run now belongs to the sweep");
    }

    @Test
    void aDivergedTrialIsRecordedAndReportedWhileTheOthersFinish() {
        SweepParams params = new SweepParams(BASE, SweepGrid.parse("lr=1e-3,1e30;epochs=1"), null, 2);
        SweepOutcome outcome = service().run(params, Fixtures.fashionMnistDir());
        assertEquals(1, outcome.succeeded());
        assertEquals(1, outcome.failed());
        TrialOutcome failed = outcome.trials().get(1);
        assertFalse(failed.succeeded());
        assertTrue(failed.error().contains("learning rate is likely too high"), failed.error());
        assertNotNull(failed.runId(), "the failed row is named");

        RunRecord row = ledgerRows(RunQuery.all().withStatus(RunStatus.FAILED)).get(0);
        assertEquals(failed.runId(), row.id());
        assertEquals(outcome.sweepId(), row.sweepId());
        assertEquals(2, ledgerRows(RunQuery.all().withSweepId(outcome.sweepId())).size());

        String text = outcome.format();
        assertTrue(text.contains("1 finished (0 reused), 1 failed"), text);
        assertTrue(text.contains("failed  trial 2/2 lr=1e+30 epochs=1: failed (run " + failed.runId() + "): loss became"), text);
        assertTrue(text.contains("1e+30         -  0 + 1 failed"), text);
        assertTrue(outcome.table().notes().contains("epochs had one value (1): its effect is not measured"), text);
        assertEachProgressLineIsWhole(2, 2); // the finished trial's epoch and its refit's
    }

    @Test
    void badInputFailsBeforeAnyTrialAndWritesNothing() throws IOException {
        SweepParams params = new SweepParams(BASE, SweepGrid.parse("lr=1e-3,3e-3"), null, 2);
        BadInputException noData = assertThrows(BadInputException.class, () -> service().run(params, tmp.resolve("nowhere")));
        assertTrue(noData.getMessage().contains("nowhere"), noData.getMessage());
        assertFalse(Files.exists(Path.of(workspace().ledgerLocation())), "no ledger");
        try (Stream<Path> files = Files.walk(tmp)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("train-")), "no run folder");
        }
        assertTrue(progress.isEmpty(), progress.toString());
    }

    private void assertEachProgressLineIsWhole(int trials, int epochLines) {
        List<String> lines = List.copyOf(progress);
        for (String line : lines) {
            assertTrue(PROGRESS.stream().anyMatch(p -> p.matcher(line).matches()), "unexpected progress line: " + line);
        }
        assertEquals(trials, lines.stream().filter(l -> l.matches("trial \\d+/\\d+ [^:]+: (val|failed).*")).count(), lines.toString());
        assertEquals(epochLines, lines.stream().filter(l -> l.matches("trial \\d+/\\d+ epoch .*")).count(), lines.toString());
    }

    private static Set<String> ids(List<RunRecord> rows) {
        return new HashSet<>(rows.stream().map(RunRecord::id).toList());
    }
}
