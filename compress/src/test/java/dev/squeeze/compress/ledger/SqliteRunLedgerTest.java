package dev.squeeze.compress.ledger;

import dev.squeeze.models.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ledger contract on an SQLite file, plus what only a file can get wrong. */
class SqliteRunLedgerTest extends RunLedgerContract {

    @TempDir
    Path dir;

    @Override
    String freshLocation() {
        // Folders that do not exist yet: opening must create them.
        return dir.resolve("squeeze-runs/nested/ledger.db").toString();
    }

    @Test
    void fileRunsInWalModeWithTheSchemaVersionRecorded() throws Exception {
        assertTrue(Files.isRegularFile(Path.of(location)));
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + location);
             Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
                rs.next();
                assertEquals("wal", rs.getString(1));
            }
            try (ResultSet rs = s.executeQuery("SELECT version FROM schema_version ORDER BY version")) {
                for (int version = 1; version <= 2; version++) {
                    assertTrue(rs.next());
                    assertEquals(version, rs.getInt(1));
                }
                assertFalse(rs.next(), "each migration recorded once");
            }
        }
    }

    @Test
    void parallelTrialsInSeparateLedgersLoseNothing() throws Exception {
        ledger.close();
        String shared = dir.resolve("parallel/ledger.db").toString(); // fresh: the threads race to create it
        int threads = 8;
        int runsEach = 25;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<List<String>>> results = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                int trial = t;
                results.add(pool.submit(() -> {
                    go.await();
                    List<String> ids = new ArrayList<>();
                    try (RunLedger own = RunLedger.open(shared, Map.of())) {
                        for (int i = 0; i < runsEach; i++) {
                            RunRecord run = own.start(NewRun.of("train", "m" + trial, "d", null).withSweep("s"));
                            own.finish(run.id(), RunResult.of(0.5, i / 100.0, null).withSizes(10L, 5L, 100L));
                            ids.add(run.id());
                        }
                    }
                    return ids;
                }));
            }
            go.countDown();
            Set<String> expected = new HashSet<>();
            for (Future<List<String>> f : results) expected.addAll(f.get());
            assertEquals(threads * runsEach, expected.size());

            try (RunLedger reader = RunLedger.open(shared)) {
                List<RunRecord> all = reader.query(RunQuery.all().withSweepId("s"));
                assertEquals(expected, new HashSet<>(ids(all)));
                assertTrue(all.stream().allMatch(r -> r.status() == RunStatus.DONE && r.valAcc() != null));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void parallelTrialsInSeparateProcessesLoseNothing() throws Exception {
        String shared = dir.resolve("processes/ledger.db").toString();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        int processes = 4;
        int runsEach = 25;
        List<Process> trials = new ArrayList<>();
        for (int p = 0; p < processes; p++) {
            trials.add(new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    ParallelTrial.class.getName(), shared, "p" + p, String.valueOf(runsEach))
                    .redirectErrorStream(true).start());
        }
        for (Process trial : trials) {
            String output = new String(trial.getInputStream().readAllBytes());
            assertTrue(trial.waitFor(120, TimeUnit.SECONDS), "trial finished");
            assertEquals(0, trial.exitValue(), output);
        }
        try (RunLedger reader = RunLedger.open(shared)) {
            List<RunRecord> all = reader.query(RunQuery.all().withSweepId("processes"));
            assertEquals(processes * runsEach, all.size());
            assertTrue(all.stream().allMatch(r -> r.status() == RunStatus.DONE && r.notes().startsWith("trial ")));
        }
    }

    @Test
    void jdbcSqliteUrlsWorkToo() {
        String file = dir.resolve("url/ledger.db").toString();
        try (RunLedger viaUrl = RunLedger.open("jdbc:sqlite:" + file)) {
            viaUrl.start(train("m"));
        }
        try (RunLedger viaPath = RunLedger.open(file)) {
            assertEquals(1, viaPath.query(RunQuery.all()).size());
            assertEquals(file, viaPath.location());
        }
    }

    @Test
    void aFileInTheWayOfTheFolderIsAClearError() throws Exception {
        Path blocker = Files.writeString(dir.resolve("blocker"), "not a folder");
        BadInputException e = assertThrows(BadInputException.class,
                () -> RunLedger.open(blocker.resolve("ledger.db").toString()));
        assertOneLine(e);
        assertTrue(e.getMessage().contains("cannot create the ledger folder"), e.getMessage());
        assertTrue(e.getMessage().contains(blocker.toString()), e.getMessage());
    }

    @Test
    void aFolderIsNotALedgerFile() {
        BadInputException e = assertThrows(BadInputException.class, () -> RunLedger.open(dir.toString()));
        assertOneLine(e);
        assertTrue(e.getMessage().contains("is a folder"), e.getMessage());
    }

    @Test
    void aFileThatIsNotADatabaseIsAClearError() throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.db"), "x".repeat(4096));
        BadInputException e = assertThrows(BadInputException.class, () -> RunLedger.open(junk.toString()));
        assertOneLine(e);
        assertTrue(e.getMessage().contains(junk.toString()), e.getMessage());
    }

    @Test
    void unknownLocationsAreClearErrors() {
        BadInputException mysql = assertThrows(BadInputException.class, () -> RunLedger.open("jdbc:mysql://db/x"));
        assertOneLine(mysql);
        assertTrue(mysql.getMessage().contains("unsupported ledger URL"), mysql.getMessage());
        assertOneLine(assertThrows(BadInputException.class, () -> RunLedger.open("  ")));
        assertOneLine(assertThrows(BadInputException.class, () -> RunLedger.open("jdbc:sqlite:")));
        assertOneLine(assertThrows(BadInputException.class, () -> RunLedger.open(null)));
    }

    @Test
    void aLedgerFromANewerSqueezeIsRefused() throws Exception {
        ledger.close();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + location);
             Statement s = c.createStatement()) {
            s.execute("INSERT INTO schema_version (version, applied_at) VALUES (99, '2030-01-01T00:00:00.000Z')");
        }
        BadInputException e = assertThrows(BadInputException.class, () -> RunLedger.open(location));
        assertTrue(e.getMessage().contains("schema version 99"), e.getMessage());
    }

    static void assertOneLine(Exception e) {
        assertFalse(e.getMessage().isBlank());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }
}
