package dev.squeeze.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code squeeze train} writing its run folder onto a real, small tmpfs that fills up mid-run. Mounting needs root
 * (or CAP_SYS_ADMIN): where {@code mount} is refused, as on most developers' machines, these tests are skipped with
 * that reason, and {@code AtomicFilesTest} (compress) still covers the clean-up with an injected "No space left on
 * device".
 */
class DiskFullTrainTest {
    /** Room for the run folder's first checkpoint (about 100 kB for mlp-tiny) but not for the rest. */
    private static final String SIZE = "256k";
    /** What a finished or interrupted run may leave in its folder; anything else is a temporary left behind. */
    private static final Set<String> ARTIFACTS = Set.of("config.json", "rewind-0.zip", "model.zip", "last.zip",
            "history.csv");

    @TempDir
    Path home;
    Path disk;

    @BeforeEach
    void mountSmallTmpfs() throws IOException, InterruptedException {
        disk = Files.createDirectories(home.resolve("small-disk"));
        int rc;
        try {
            Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + SIZE, "tmpfs", disk.toString())
                    .redirectErrorStream(true).start();
            mount.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            rc = mount.waitFor(60, TimeUnit.SECONDS) ? mount.exitValue() : -1;
        } catch (IOException e) {
            rc = -1;
        }
        if (rc != 0) disk = null;
        Assumptions.assumeTrue(rc == 0, "skipped: cannot mount a tmpfs here (needs root); AtomicFilesTest covers the "
                + "clean-up with an injected ENOSPC");
        System.out.println("DiskFullTrainTest: runs on a " + SIZE + " tmpfs at " + disk);
    }

    @AfterEach
    void unmount() throws IOException, InterruptedException {
        if (disk != null) new ProcessBuilder("umount", "-l", disk.toString()).inheritIO().start().waitFor(60, TimeUnit.SECONDS);
    }

    @Test
    void aFullDiskIsOneLineNamingDiskAndFileLeavesNoTemporariesAndMarksTheRunFailed() throws IOException {
        String ledger = home.resolve("ledger.db").toString(); // on another disk: it can still be written
        Captured run = train("--output", disk.toString(), "--ledger", ledger);

        assertEquals(ExitCodes.FAILURE, run.cli.exitCode(), run.cli.err());
        assertOneLineNamingTheDisk(run);
        assertNoTemporaries();

        JsonNode rows = new ObjectMapper().readTree(CliRun.run(home, "runs", "--json", "--ledger", ledger).out());
        assertEquals(1, rows.size());
        assertEquals("failed", rows.get(0).get("status").asText(), rows.toString());
        assertTrue(rows.get(0).get("notes").asText().contains("is full"), rows.toString());
    }

    @Test
    void withTheLedgerOnTheFullDiskTooTheUserStillHearsOfTheDiskNotOfTheLedger() throws IOException {
        Captured run = train("--output", disk.toString());

        assertEquals(ExitCodes.FAILURE, run.cli.exitCode(), run.cli.err());
        assertOneLineNamingTheDisk(run);
        assertNoTemporaries();
    }

    /** stderr as picocli's writer and as System.err, where the JDK's zip file system printed its stack trace. */
    private record Captured(CliRun cli, String systemErr) {
    }

    private Captured train(String... where) {
        List<String> args = new java.util.ArrayList<>(List.of("train", "--model", "mlp-tiny", "--epochs", "2",
                "--data", CliRun.fixtures()));
        args.addAll(List.of(where));
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            return new Captured(CliRun.run(home, args.toArray(String[]::new)), captured.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(original);
        }
    }

    private void assertOneLineNamingTheDisk(Captured run) {
        String err = run.cli.err();
        List<String> errors = err.lines().filter(l -> l.startsWith("squeeze ")).toList();
        assertEquals(1, errors.size(), err);
        String line = errors.get(0);
        assertTrue(line.matches("squeeze train: error: could not write " + java.util.regex.Pattern.quote(disk.toString())
                + "/train-[0-9a-f]+/[a-z0-9-]+\\.zip: the disk " + java.util.regex.Pattern.quote(disk.toString())
                + " \\(tmpfs\\).* is full; .*"), line);
        for (String text : List.of(err, run.systemErr)) {
            assertFalse(text.contains("Exception") || text.contains("\tat "), "no stack trace without --verbose:\n" + text);
        }
        assertFalse(err.contains("--verbose"), "nothing more to see with --verbose: " + err);
    }

    private void assertNoTemporaries() throws IOException {
        try (Stream<Path> files = Files.walk(disk)) {
            List<String> left = files.filter(Files::isRegularFile)
                    .filter(f -> !ARTIFACTS.contains(f.getFileName().toString()))
                    // The ledger row's copy (RunFolderRows), written when the run started: an artifact, not a temporary.
                    .filter(f -> !f.getFileName().toString().matches("ledger-row-[0-9a-f]+\\.json"))
                    .filter(f -> !f.getParent().getFileName().toString().equals(".locks"))
                    .filter(f -> !f.getFileName().toString().startsWith("ledger.db"))
                    // the row's copy that `squeeze runs --rebuild` reads: part of the run, not a temporary
                    .filter(f -> !f.getFileName().toString().startsWith("ledger-row-"))
                    .map(f -> disk.relativize(f).toString()).toList();
            assertEquals(List.of(), left, "temporaries left on the full disk");
        }
    }
}
