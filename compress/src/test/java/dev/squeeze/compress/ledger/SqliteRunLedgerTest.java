package dev.squeeze.compress.ledger;

import dev.squeeze.core.BadInputException;
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

    @Override
    Connection rawConnection() throws Exception {
        return DriverManager.getConnection("jdbc:sqlite:" + location);
    }

    @Override
    String textType() {
        return "TEXT";
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
                for (int version = 1; version <= RunLedger.MIGRATIONS.size(); version++) {
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
        assertTrue(e.getMessage().contains("squeeze runs --rebuild"), e.getMessage());
        assertEquals("x".repeat(4096), Files.readString(junk), "left as it was");
    }

    @Test
    void anEmptyLedgerFileIsRefusedNeverStartedOver() throws Exception {
        ledger.close();
        Files.write(Path.of(location), new byte[0]); // what a full disk or a bad copy leaves behind
        for (RunLedger.Access access : RunLedger.Access.values()) {
            BadInputException e = assertThrows(BadInputException.class, () -> RunLedger.open(location, access));
            assertOneLine(e);
            assertTrue(e.getMessage().contains("ledger " + location + " is empty (0 bytes)"), e.getMessage());
            assertTrue(e.getMessage().contains("nothing was changed: 'squeeze runs --rebuild' moves it aside"),
                    e.getMessage());
        }
        assertThrows(BadInputException.class, () -> RunLedger.openForListing(location));
        assertEquals(0, Files.size(Path.of(location)), "no fresh, empty history written over it");
    }

    @Test
    void aRunKilledWithSigkillIsMarkedKilledWhenTheLedgerIsNextOpened() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), HeldRun.class.getName(),
                location).redirectErrorStream(true).start();
        try {
            var out = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream()));
            String line;
            do {
                line = out.readLine();
            } while (line != null && !line.startsWith("started "));
            assertTrue(line != null, "the child started a run");
            String id = line.substring("started ".length());
            try (RunLedger whileAlive = RunLedger.open(location)) {
                assertEquals(RunStatus.RUNNING, whileAlive.get(id).orElseThrow().status(), "its process holds it");
            }
            child.destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertTrue(child.waitFor(60, TimeUnit.SECONDS));
            assertEquals(137, child.exitValue(), "killed by SIGKILL");
            try (RunLedger afterwards = RunLedger.open(location)) {
                RunRecord killed = afterwards.get(id).orElseThrow();
                assertEquals(RunStatus.KILLED, killed.status());
                assertTrue(killed.notes().startsWith("killed: no process held this run when noticed at "), killed.notes());
            }
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void aLedgerFileWrittenBySchemaVersion2ReadsAsItIsAndMigratesWhenWritten() throws Exception {
        ledger.close();
        Path old = dir.resolve("old/ledger.db");
        Files.createDirectories(old.getParent());
        try (var in = getClass().getResourceAsStream("/ledger/schema-2.db")) {
            Files.copy(in, old); // written by the Squeeze of commit e8b69a3, before run_by
        }
        byte[] before = Files.readAllBytes(old);
        try (RunLedger reader = RunLedger.open(old.toString(), RunLedger.Access.READ_ONLY)) {
            List<RunRecord> runs = reader.query(RunQuery.all().sortedBy("id", false));
            assertEquals(List.of("1a2b3c4d", "5e6f7a8b", "9c0d1e2f"), ids(runs));
            assertEquals(List.of(RunStatus.DONE, RunStatus.INTERRUPTED, RunStatus.RUNNING),
                    runs.stream().map(RunRecord::status).toList(), "read-only: nothing marked");
            assertTrue(runs.stream().allMatch(r -> r.runBy() == null && r.resumes() == null));
        }
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(old)), "reading changed nothing");

        try (RunLedger writer = RunLedger.open(old.toString(), Map.of(), "alice")) {
            RunRecord trained = writer.get("1a2b3c4d").orElseThrow();
            assertEquals(0.84, trained.testAcc());
            assertEquals(25_450L, trained.params());
            assertEquals("written by schema 2", trained.notes());
            assertEquals("1a2b3c4d", writer.get("5e6f7a8b").orElseThrow().parentId());
            assertEquals(RunStatus.KILLED, writer.get("9c0d1e2f").orElseThrow().status(),
                    "left running by a process long gone");
            RunRecord fresh = writer.start(train("mlp-tiny"));
            assertEquals(List.of(fresh.id()), ids(writer.query(RunQuery.all().withRunBy("alice"))));
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + old);
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
            rs.next();
            assertEquals(RunLedger.MIGRATIONS.size(), rs.getInt(1));
        }
    }

    @Test
    void readOnlyModeListsAndWritesNothing() throws Exception {
        RunRecord done = ledger.start(train("done"));
        ledger.finish(done.id(), RunResult.of(0.5, 0.5, 0.5));
        RunRecord orphan = ledger.start(train("orphan"));
        ledger.close(); // leaves 'orphan' running with nobody holding it
        Path folder = Path.of(location).getParent();
        Map<String, Long> filesBefore = files(folder);
        byte[] bytesBefore = Files.readAllBytes(Path.of(location));
        try (ReadOnlyFolder readOnly = new ReadOnlyFolder(folder)) {
            try (RunLedger reader = RunLedger.open(location, RunLedger.Access.READ_ONLY)) {
                assertTrue(reader.readOnly());
                assertEquals(ids(orphan, done), ids(reader.query(RunQuery.all())));
                assertEquals(RunStatus.RUNNING, reader.get(orphan.id()).orElseThrow().status(),
                        "the killed-run check writes, so a read-only open skips it");
                assertThrows(IllegalStateException.class, () -> reader.start(train("x")));
                assertThrows(IllegalStateException.class, () -> reader.addNote(done.id(), "x"));
            }
            // What the listing command opens: read-only here when the folder really is (always for a non-root
            // user; for root where chattr works), read-write where root can write anyway.
            try (RunLedger listing = RunLedger.openForListing(location)) {
                assertEquals(readOnly.effective, listing.readOnly(), "read-only exactly when the folder is");
                assertEquals(2, listing.query(RunQuery.all()).size());
            }
            if (readOnly.effective) {
                assertEquals(filesBefore, files(folder), "no file created, changed or removed");
                assertTrue(java.util.Arrays.equals(bytesBefore, Files.readAllBytes(Path.of(location))));
            } else {
                System.err.println("readOnlyModeListsAndWritesNothing: " + folder + " could not be made read-only for "
                        + "this user (root without chattr support): the forced READ_ONLY mode above is what was tested");
            }
        }
    }

    @Test
    void aLedgerThatDoesNotExistListsAsEmptyAndIsNotCreated() {
        Path missing = dir.resolve("nowhere/ledger.db");
        try (RunLedger listing = RunLedger.openForListing(missing.toString())) {
            assertEquals(List.of(), listing.query(RunQuery.all()));
        }
        assertFalse(Files.exists(missing.getParent()));
    }

    @Test
    void rebuildRestoresTheRowsFromTheRunFolders() throws Exception {
        ledger.close();
        Path home = dir.resolve("home");
        String ledgerFile = home.resolve("ledger.db").toString();
        Files.createDirectories(home.resolve("prune-bbbbbbbbbbbb"));
        List<RunRecord> before;
        try (RunLedger recording = RunLedger.open(ledgerFile, Map.of(), "alice")) {
            RunRecord trained = recording.start(NewRun.of("train", "mlp-tiny", "fashion-mnist",
                            ConfigHash.of(ConfigHashTest.TINY_SGD, ConfigHashTest.DEFAULTS))
                    .withCodeCommit("e8b69a3").withArtifactDir(home.resolve("train-427ececce59b").toString()));
            recording.addNote(trained.id(), "baseline");
            recording.finish(trained.id(), RunResult.of(0.91, 0.85, 0.84).withSizes(25_450L, 25_450L, 110_000L)
                    .withDetails("{\"epochs\":2}"));
            assertTrue(recording.tagSweep(trained.id(), "sw-1"));
            RunRecord level = recording.start(NewRun.of("prune", "mlp-tiny", "fashion-mnist", null)
                    .withParent(trained.id()).withArtifactDir(home.resolve("prune-bbbbbbbbbbbb/level-1").toString()));
            recording.fail(level.id(), RunStatus.FAILED, "disk full");
            recording.start(NewRun.of("train", "lenet-5", "fashion-mnist", null)
                    .withArtifactDir(home.resolve("train-cccccccccccc").toString())); // its process dies
        }
        try (RunLedger reopened = RunLedger.open(ledgerFile)) {
            before = reopened.query(RunQuery.all());
        }
        assertEquals(3, before.size());
        assertTrue(before.stream().anyMatch(r -> r.status() == RunStatus.KILLED));

        for (String suffix : List.of("", "-wal", "-shm")) Files.deleteIfExists(Path.of(ledgerFile + suffix));
        RunLedger.Rebuilt rebuilt = RunLedger.rebuild(ledgerFile, home);
        assertEquals(3, rebuilt.restored());
        assertEquals(null, rebuilt.movedAside());
        try (RunLedger restored = RunLedger.open(ledgerFile)) {
            assertEquals(before, restored.query(RunQuery.all()), "the same rows, every column");
        }
        assertEquals(new RunLedger.Rebuilt(0, 3, null), RunLedger.rebuild(ledgerFile, home), "rebuilding again adds nothing");

        Files.write(Path.of(ledgerFile), new byte[0]);
        RunLedger.Rebuilt fromBroken = RunLedger.rebuild(ledgerFile, home);
        assertEquals(3, fromBroken.restored());
        assertTrue(fromBroken.movedAside().getFileName().toString().startsWith("ledger.db.broken-"), fromBroken.toString());
        assertEquals(0, Files.size(fromBroken.movedAside()), "the broken file kept, renamed");
        try (RunLedger restored = RunLedger.open(ledgerFile)) {
            assertEquals(before, restored.query(RunQuery.all()));
        }
    }

    private static Map<String, Long> files(Path folder) throws Exception {
        Map<String, Long> files = new java.util.TreeMap<>();
        try (var list = Files.list(folder)) {
            for (Path p : list.toList()) {
                files.put(p.getFileName() + "@" + Files.getLastModifiedTime(p).toMillis(), Files.size(p));
            }
        }
        return files;
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
