package dev.squeeze.compress.ledger;

import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every ledger database must do, the same way. Subclasses supply a fresh, empty location per test
 * ({@link SqliteRunLedgerTest}, {@link PostgresRunLedgerTest}); the name does not end in "Test" because it is
 * not run on its own.
 */
abstract class RunLedgerContract {

    static final Instant T0 = Instant.parse("2024-05-01T10:00:00Z");

    /** A fresh, empty ledger location for one test. */
    abstract String freshLocation() throws Exception;

    /** Environment passed to {@link RunLedger#open(String, Map)}. */
    Map<String, String> env() {
        return Map.of();
    }

    String location;
    SteppingClock clock;
    RunLedger ledger;

    @BeforeEach
    void openLedger() throws Exception {
        location = freshLocation();
        clock = new SteppingClock();
        ledger = open(RunLedgerContract::randomId);
        clock.reset(); // creating the schema read the clock; runs start at T0
    }

    @AfterEach
    void closeLedger() {
        if (ledger != null) ledger.close();
    }

    RunLedger open(Supplier<String> ids) {
        return RunLedger.open(location, env(), clock, ids);
    }

    static String randomId() {
        return String.format("%08x", java.util.concurrent.ThreadLocalRandom.current().nextInt());
    }

    /** Each reading one second later than the last: distinct, ordered start times. */
    static final class SteppingClock extends Clock {
        private Instant next = T0;

        synchronized void reset() {
            next = T0;
        }

        @Override
        public synchronized Instant instant() {
            Instant now = next;
            next = next.plus(Duration.ofSeconds(1));
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    static NewRun train(String model) {
        return NewRun.of("train", model, "fashion-mnist", null);
    }

    @Test
    void startRecordsARunningRun() {
        ConfigHash config = ConfigHash.of(ConfigHashTest.TINY_SGD, ConfigHashTest.DEFAULTS);
        RunRecord run = ledger.start(NewRun.of("train", "mlp-tiny", "fashion-mnist", config)
                .withCodeCommit("0123456789abcdef").withArtifactDir("runs/train-" + config.value())
                .withSweep("sweep-1").withNotes("  first try  "));

        assertTrue(run.id().matches("[0-9a-f]{8}"), run.id());
        assertEquals(RunStatus.RUNNING, run.status());
        assertEquals(T0, run.startedAt());
        assertNull(run.endedAt());
        assertEquals("train", run.stage());
        assertEquals("mlp-tiny", run.model());
        assertEquals("fashion-mnist", run.dataset());
        assertEquals("427ececce59b", run.configHash());
        assertEquals(config.configJson(), run.configJson());
        assertEquals("0123456789abcdef", run.codeCommit());
        assertEquals("runs/train-427ececce59b", run.artifactDir());
        assertEquals("sweep-1", run.sweepId());
        assertEquals("first try", run.notes());
        assertNull(run.trainAcc());
        assertNull(run.params());
        assertEquals(run, ledger.get(run.id()).orElseThrow());
    }

    @Test
    void finishStoresResults() {
        RunRecord run = ledger.start(train("lenet-300-100"));
        ledger.finish(run.id(), RunResult.of(0.9512, 0.8931, 0.8876).withSizes(266_610L, 55_424L, 1_070_000L));

        RunRecord done = ledger.get(run.id()).orElseThrow();
        assertEquals(RunStatus.DONE, done.status());
        assertEquals(T0.plusSeconds(1), done.endedAt());
        assertEquals(0.9512, done.trainAcc());
        assertEquals(0.8931, done.valAcc());
        assertEquals(0.8876, done.testAcc());
        assertEquals(266_610L, done.params());
        assertEquals(55_424L, done.nonzeroParams());
        assertEquals(1_070_000L, done.fileBytes());
    }

    @Test
    void finishStoresStageDetailsAsJson() {
        RunRecord run = ledger.start(NewRun.of("prune", "lenet-300-100", "fashion-mnist", null));
        String details = "{\"level\":3,\"remaining\":{\"0_W\":0.512,\"total\":0.513},\"early_stop_iteration\":8100}";
        ledger.finish(run.id(), RunResult.of(null, 0.89, 0.88).withDetails(details));
        assertEquals(details, ledger.get(run.id()).orElseThrow().details());
    }

    @Test
    void finishKeepsMissingResultsNull() {
        RunRecord run = ledger.start(NewRun.of("export", "mlp-tiny", null, null));
        ledger.finish(run.id(), RunResult.of(null, null, 0.5).withSizes(null, null, 4_096L));

        RunRecord done = ledger.get(run.id()).orElseThrow();
        assertNull(done.trainAcc());
        assertNull(done.valAcc());
        assertEquals(0.5, done.testAcc());
        assertNull(done.params());
        assertEquals(4_096L, done.fileBytes());
        assertNull(done.dataset());
    }

    @Test
    void failMarksTheRunAndAppendsTheReason() {
        RunRecord run = ledger.start(train("mlp-tiny").withNotes("lr sweep"));
        ledger.fail(run.id(), RunStatus.FAILED, "loss became NaN at step 12");

        RunRecord failed = ledger.get(run.id()).orElseThrow();
        assertEquals(RunStatus.FAILED, failed.status());
        assertEquals(T0.plusSeconds(1), failed.endedAt());
        assertEquals("lr sweep\nloss became NaN at step 12", failed.notes());

        RunRecord other = ledger.start(train("mlp-tiny"));
        ledger.fail(other.id(), RunStatus.INTERRUPTED, null);
        assertEquals(RunStatus.INTERRUPTED, ledger.get(other.id()).orElseThrow().status());
        assertNull(ledger.get(other.id()).orElseThrow().notes());
    }

    @Test
    void failAcceptsOnlyFailureStatuses() {
        RunRecord run = ledger.start(train("mlp-tiny"));
        assertThrows(IllegalArgumentException.class, () -> ledger.fail(run.id(), RunStatus.DONE, "no"));
        assertEquals(RunStatus.RUNNING, ledger.get(run.id()).orElseThrow().status());
    }

    @Test
    void notesAppendOneLineEach() {
        RunRecord run = ledger.start(train("mlp-tiny"));
        ledger.addNote(run.id(), "overfits one batch: ok");
        ledger.addNote(run.id().substring(0, 5), "val plateaus at epoch 7");
        assertEquals("overfits one batch: ok\nval plateaus at epoch 7", ledger.get(run.id()).orElseThrow().notes());
        assertThrows(BadInputException.class, () -> ledger.addNote(run.id(), "  "));
    }

    @Test
    void tagSweepClaimsOnlyRunsOfNoSweep() {
        RunRecord loose = ledger.start(train("mlp-tiny"));
        RunRecord taken = ledger.start(train("mlp-tiny").withSweep("sw-first"));

        assertTrue(ledger.tagSweep(loose.id().substring(0, 6), "sw-second"));
        assertEquals("sw-second", ledger.get(loose.id()).orElseThrow().sweepId());
        assertFalse(ledger.tagSweep(loose.id(), "sw-third"), "a run belongs to the first sweep that claims it");
        assertFalse(ledger.tagSweep(taken.id(), "sw-second"));
        assertEquals("sw-second", ledger.get(loose.id()).orElseThrow().sweepId());
        assertEquals("sw-first", ledger.get(taken.id()).orElseThrow().sweepId());
        assertEquals(ids(loose), ids(ledger.query(RunQuery.all().withSweepId("sw-second"))));

        assertThrows(BadInputException.class, () -> ledger.tagSweep("deadbeef", "sw-second"));
        assertThrows(IllegalArgumentException.class, () -> ledger.tagSweep(loose.id(), " "));
    }

    @Test
    void unknownRunIdsAreUserErrors() {
        BadInputException note = assertThrows(BadInputException.class, () -> ledger.addNote("deadbeef", "x"));
        assertTrue(note.getMessage().contains("no run with id 'deadbeef'"), note.getMessage());
        assertFalse(note.getMessage().contains("\n"), "one line");
        assertThrows(BadInputException.class, () -> ledger.finish("deadbeef", RunResult.of(null, null, null)));
        assertThrows(BadInputException.class, () -> ledger.fail("deadbeef", RunStatus.FAILED, "x"));
        assertThrows(BadInputException.class, () -> ledger.get(" "));
        BadInputException parent = assertThrows(BadInputException.class,
                () -> ledger.start(NewRun.of("prune", "m", "d", null).withParent("deadbeef")));
        assertTrue(parent.getMessage().contains("deadbeef"), parent.getMessage());
    }

    @Test
    void getFindsAUniquePrefix() {
        Deque<String> ids = new ArrayDeque<>(List.of("abc12345", "abd12345"));
        try (RunLedger fixed = open(ids::removeFirst)) {
            fixed.start(train("a"));
            fixed.start(train("b"));
            assertEquals("a", fixed.get("abc").orElseThrow().model());
            assertEquals("b", fixed.get("ABD1").orElseThrow().model(), "ids are matched lowercase");
            assertTrue(fixed.get("ff").isEmpty());
            assertTrue(fixed.get("abc123456").isEmpty(), "longer than any id");
            BadInputException ambiguous = assertThrows(BadInputException.class, () -> fixed.get("ab"));
            assertTrue(ambiguous.getMessage().contains("abc12345, abd12345"), ambiguous.getMessage());
        }
    }

    @Test
    void anIdCollisionDrawsAnotherId() {
        Deque<String> ids = new ArrayDeque<>(List.of("aaaaaaaa", "aaaaaaaa", "bbbbbbbb"));
        try (RunLedger fixed = open(ids::removeFirst)) {
            assertEquals("aaaaaaaa", fixed.start(train("a")).id());
            assertEquals("bbbbbbbb", fixed.start(train("b")).id());
        }
    }

    @Test
    void parentRunsLink() {
        RunRecord trained = ledger.start(train("lenet-300-100"));
        RunRecord pruned = ledger.start(NewRun.of("prune", "lenet-300-100", "fashion-mnist", null).withParent(trained.id()));
        assertEquals(trained.id(), pruned.parentId());
    }

    @Test
    void latestByHashIsTheNewestRunWithThatHash() {
        ledger.start(train("a").withNotes("old"));
        ledger.start(NewRun.of("train", "b", "d", ConfigHash.of(ConfigHashTest.LENET, ConfigHashTest.DEFAULTS)));
        RunRecord newer = ledger.start(NewRun.of("train", "c", "d", ConfigHash.of(ConfigHashTest.LENET, ConfigHashTest.DEFAULTS)));
        ledger.start(train("d"));
        assertEquals(newer.id(), ledger.latestByHash("ad87d3baea3e").orElseThrow().id());
        assertTrue(ledger.latestByHash("000000000000").isEmpty());
    }

    @Test
    void queryFilters() {
        RunRecord a = ledger.start(NewRun.of("train", "mlp-tiny", "fashion-mnist", null).withSweep("s1"));
        RunRecord b = ledger.start(NewRun.of("train", "lenet-300-100", "fashion-mnist", null).withSweep("s1"));
        RunRecord c = ledger.start(NewRun.of("prune", "lenet-300-100", "mnist", null));
        ledger.finish(b.id(), RunResult.of(0.9, 0.8, null));

        assertEquals(ids(c, b, a), ids(ledger.query(RunQuery.all())), "newest first");
        assertEquals(ids(b, a), ids(ledger.query(RunQuery.all().withSweepId("s1"))));
        assertEquals(ids(c, b), ids(ledger.query(RunQuery.all().withModel("lenet-300-100"))));
        assertEquals(ids(c), ids(ledger.query(RunQuery.all().withDataset("mnist"))));
        assertEquals(ids(c), ids(ledger.query(RunQuery.all().withStage("prune"))));
        assertEquals(ids(b), ids(ledger.query(RunQuery.all().withStatus(RunStatus.DONE))));
        assertEquals(ids(c, a), ids(ledger.query(RunQuery.all().withStatus(RunStatus.RUNNING))));
        assertEquals(ids(b), ids(ledger.query(RunQuery.all().withModel("lenet-300-100").withStage("train"))));
        assertEquals(ids(c, b), ids(ledger.query(RunQuery.all().withLimit(2))));
        assertEquals(List.of(), ids(ledger.query(RunQuery.all().withModel("nope"))));
    }

    @Test
    void querySortsWithMissingValuesLastEitherWay() {
        RunRecord low = ledger.start(train("a"));
        RunRecord none = ledger.start(train("b"));
        RunRecord high = ledger.start(train("c"));
        RunRecord none2 = ledger.start(train("d"));
        ledger.finish(low.id(), RunResult.of(null, 0.7, null));
        ledger.finish(high.id(), RunResult.of(null, 0.9, null));

        assertEquals(ids(high, low, none2, none), ids(ledger.query(RunQuery.all().sortedBy("val_acc", true))));
        assertEquals(ids(low, high, none2, none), ids(ledger.query(RunQuery.all().sortedBy("val_acc", false))));
        assertEquals(ids(low, none, high, none2), ids(ledger.query(RunQuery.all().sortedBy("started_at", false))));
    }

    @Test
    void textSortsInByteOrderOnEveryDatabase() {
        // PostgreSQL would sort by the database's locale (alpha, beta, Zeta); SQLite sorts bytes.
        for (String model : List.of("beta", "Zeta", "alpha", "_x")) ledger.start(train(model));
        List<String> models = ledger.query(RunQuery.all().sortedBy("model", false)).stream().map(RunRecord::model).toList();
        assertEquals(List.of("Zeta", "_x", "alpha", "beta"), models);
    }

    @Test
    void badSortColumnsAreRefusedNamingTheValidOnes() {
        BadInputException e = assertThrows(BadInputException.class,
                () -> RunQuery.all().sortedBy("val_acc; DROP TABLE runs", true));
        assertTrue(e.getMessage().contains("valid columns: id, parent_id, started_at"), e.getMessage());
    }

    @Test
    void reopeningKeepsRunsAndMigratesOnce() {
        RunRecord started = ledger.start(train("mlp-tiny"));
        ledger.finish(started.id(), RunResult.of(0.5, 0.5, 0.5));
        RunRecord run = ledger.get(started.id()).orElseThrow();
        ledger.close();
        try (RunLedger again = open(RunLedgerContract::randomId); RunLedger third = open(RunLedgerContract::randomId)) {
            assertEquals(run, again.get(run.id()).orElseThrow());
            assertEquals(1, third.query(RunQuery.all()).size());
        }
    }

    @Test
    void oneInstanceIsSafeAcrossThreads() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 20; i++) {
                        RunRecord run = ledger.start(train("m"));
                        ledger.addNote(run.id(), "note " + i);
                        ledger.finish(run.id(), RunResult.of(0.5, 0.5, 0.5));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            pool.shutdown();
        }
        assertEquals(80, ledger.query(RunQuery.all().withStatus(RunStatus.DONE)).size());
    }

    @Test
    void aClosedLedgerRefusesWork() {
        ledger.close();
        ledger.close();
        assertThrows(IllegalStateException.class, () -> ledger.query(RunQuery.all()));
    }

    @Test
    void locationHidesPasswords() {
        assertFalse(ledger.location().contains("password=squeeze"), ledger.location());
    }

    /** A connection to this test's database, past RunLedger, to set up what an older Squeeze left. */
    abstract java.sql.Connection rawConnection() throws Exception;

    /** The dialect's text column type, as the migrations spell {@code {text}}. */
    abstract String textType();

    @Test
    void aRunningRowThatNobodyHoldsIsMarkedKilledOnTheNextOpen() {
        RunRecord done = ledger.start(train("done"));
        ledger.finish(done.id(), RunResult.of(0.5, 0.5, 0.5));
        RunRecord orphan = ledger.start(train("orphan"));
        try (RunLedger other = open(RunLedgerContract::randomId)) {
            RunRecord live = other.start(train("live"));
            // The ledger that started 'orphan' still holds it: another process opening now must not touch it.
            try (RunLedger third = open(RunLedgerContract::randomId)) {
                assertEquals(RunStatus.RUNNING, third.get(orphan.id()).orElseThrow().status());
                assertEquals(RunStatus.RUNNING, third.get(live.id()).orElseThrow().status());
            }
            ledger.close(); // as if its process died: nothing marked it failed or interrupted
            try (RunLedger next = open(RunLedgerContract::randomId)) {
                RunRecord killed = next.get(orphan.id()).orElseThrow();
                assertEquals(RunStatus.KILLED, killed.status());
                assertTrue(killed.notes().matches("killed: no process held this run when noticed at "
                        + "\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z \\(SIGKILL or power loss\\)"), killed.notes());
                assertEquals(RunStatus.RUNNING, next.get(live.id()).orElseThrow().status(), "still held by 'other'");
                assertEquals(RunStatus.DONE, next.get(done.id()).orElseThrow().status());

                RunRecord resumed = next.start(train("orphan").withResumes(orphan.id()));
                assertEquals(orphan.id(), resumed.resumes());
                assertEquals(ids(resumed), ids(next.query(RunQuery.all().withModel("orphan").withStatus(RunStatus.RUNNING))));
            }
            other.finish(live.id(), RunResult.of(0.5, 0.5, 0.5));
        }
    }

    @Test
    void runsRecordWhoRanThem() {
        RunRecord byDefault = ledger.start(train("a"));
        assertEquals(RunLedger.osUser(), byDefault.runBy());
        try (RunLedger alice = RunLedger.open(location, env(), "alice");
             RunLedger blank = RunLedger.open(location, env(), "  ")) {
            assertEquals("alice", alice.experimenter());
            RunRecord hers = alice.start(train("b"));
            assertEquals("alice", hers.runBy());
            assertEquals(RunLedger.osUser(), blank.start(train("c")).runBy());
            assertEquals(ids(hers), ids(ledger.query(RunQuery.all().withRunBy("alice"))));
            assertEquals(List.of(), ids(ledger.query(RunQuery.all().withRunBy("bob"))));
            alice.finish(hers.id(), RunResult.of(0.5, 0.5, 0.5));
        }
    }

    @Test
    void aLedgerWrittenBySchemaVersion2IsMigratedAndKeepsItsRows() throws Exception {
        ledger.close();
        // Today's schema (migrations 1 and 2) with one finished row, as the Squeeze before run_by wrote it.
        try (java.sql.Connection c = rawConnection(); java.sql.Statement s = c.createStatement()) {
            s.execute("DROP TABLE runs");
            s.execute("DROP TABLE schema_version");
            s.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at " + textType() + " NOT NULL)");
            for (int version = 1; version <= 2; version++) {
                for (String sql : RunLedger.MIGRATIONS.get(version - 1)) s.execute(sql.replace("{text}", textType()));
                s.execute("INSERT INTO schema_version VALUES (" + version + ", '2025-01-01T00:00:00.000Z')");
            }
            s.execute("INSERT INTO runs (id, started_at, ended_at, status, model, dataset, stage, test_acc, details) VALUES "
                    + "('0a0b0c0d', '2025-01-02T03:04:05.000Z', '2025-01-02T03:05:00.000Z', 'done', 'mlp-tiny', "
                    + "'fashion-mnist', 'train', 0.84, '{\"epochs\":2}')");
        }
        try (RunLedger reader = RunLedger.open(location, RunLedger.Access.READ_ONLY)) {
            RunRecord old = reader.query(RunQuery.all()).get(0);
            assertEquals("0a0b0c0d", old.id());
            assertNull(old.runBy(), "read as it is: the old schema has no run_by");
            assertTrue(reader.query(RunQuery.all().withRunBy("alice")).isEmpty());
        }
        try (java.sql.Connection c = rawConnection(); java.sql.Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
            rs.next();
            assertEquals(2, rs.getInt(1), "reading did not migrate");
        }
        ledger = RunLedger.open(location, env(), "alice");
        RunRecord old = ledger.get("0a0b0c0d").orElseThrow();
        assertEquals(RunStatus.DONE, old.status());
        assertEquals(0.84, old.testAcc());
        assertEquals("{\"epochs\":2}", old.details());
        assertNull(old.runBy());
        assertNull(old.resumes());
        RunRecord fresh = ledger.start(train("mlp-tiny"));
        assertEquals(ids(fresh), ids(ledger.query(RunQuery.all().withRunBy("alice"))));
        assertEquals(2, ledger.query(RunQuery.all()).size());
        ledger.finish(fresh.id(), RunResult.of(0.5, 0.5, 0.5));
    }

    static List<String> ids(RunRecord... runs) {
        return java.util.Arrays.stream(runs).map(RunRecord::id).toList();
    }

    static List<String> ids(List<RunRecord> runs) {
        return runs.stream().map(RunRecord::id).toList();
    }
}
