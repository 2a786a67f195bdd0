package dev.squeeze.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code squeeze runs} over real SQLite ledgers: rebuilding a lost one, listing a read-only one, experimenters. */
class RunsCommandTest {
    @TempDir
    Path home;

    private String train(String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--model", "mlp-tiny", "--data", CliRun.fixtures()));
        args.addAll(List.of(extra));
        CliRun train = CliRun.run(home, args.toArray(String[]::new));
        assertEquals(ExitCodes.OK, train.exitCode(), train.err());
        return train.out().lines().findFirst().orElseThrow().split("\\s+")[1];
    }

    private JsonNode runsJson(String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("runs", "--json"));
        args.addAll(List.of(extra));
        CliRun runs = CliRun.run(home, args.toArray(String[]::new));
        assertEquals(ExitCodes.OK, runs.exitCode(), runs.err());
        return new ObjectMapper().readTree(runs.out());
    }

    @Test
    void aLostOrEmptyLedgerIsRebuiltFromTheRunFolders() throws IOException {
        String trained = train("--epochs", "2");
        train("--epochs", "1", "--batch", "30");
        CliRun quantize = CliRun.run(home, "quantize", "--from", trained, "--samples", "300", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, quantize.exitCode(), quantize.err());
        JsonNode before = runsJson();
        assertEquals(3, before.size());
        Path ledger = home.resolve("ledger.db");

        for (String suffix : List.of("", "-wal", "-shm")) Files.deleteIfExists(Path.of(ledger + suffix));
        CliRun rebuild = CliRun.run(home, "runs", "--rebuild", "--json");
        assertEquals(ExitCodes.OK, rebuild.exitCode(), rebuild.err());
        assertTrue(rebuild.err().contains("3 runs restored, 0 already there"), rebuild.err());
        assertEquals(before, new ObjectMapper().readTree(rebuild.out()), "ids, stages, hashes, parents, statuses, metrics");

        // A 0-byte ledger (a full disk, a bad copy) is refused by every command, and nothing overwrites it.
        Files.write(ledger, new byte[0]);
        CliRun runs = CliRun.run(home, "runs");
        assertEquals(ExitCodes.BAD_INPUT, runs.exitCode());
        assertEquals(1, runs.err().lines().count(), runs.err());
        assertTrue(runs.err().contains("is empty (0 bytes)") && runs.err().contains("squeeze runs --rebuild"), runs.err());
        assertFalse(runs.out().contains("(no runs)"));
        CliRun trainAgain = CliRun.run(home, "train", "--model", "mlp-tiny", "--epochs", "1", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.BAD_INPUT, trainAgain.exitCode(), trainAgain.err());
        assertEquals(0, Files.size(ledger), "train did not start a fresh history over it");

        CliRun fromEmpty = CliRun.run(home, "runs", "--rebuild", "--json");
        assertEquals(ExitCodes.OK, fromEmpty.exitCode(), fromEmpty.err());
        assertTrue(fromEmpty.err().contains("moved the unreadable ledger aside to " + ledger + ".broken-"), fromEmpty.err());
        assertEquals(before, new ObjectMapper().readTree(fromEmpty.out()));
    }

    @Test
    void aReadOnlyHomeStillLists() throws Exception {
        String id = train("--epochs", "1");
        List<Path> made = new ArrayList<>();
        try {
            for (Path file : List.of(home.resolve("ledger.db"), home)) {
                if (Files.exists(file)) made.add(readOnly(file));
            }
            boolean effective = !Files.isWritable(home);
            CliRun table = CliRun.run(home, "runs");
            assertEquals(ExitCodes.OK, table.exitCode(), table.err());
            assertTrue(table.out().contains(id) && table.out().contains("done"), table.out());
            assertEquals(id, runsJson().get(0).get("id").asText());
            if (!effective) {
                System.err.println("aReadOnlyHomeStillLists: " + home + " could not be made read-only for this user "
                        + "(root without chattr): listing was tested on a writable home only");
            }
        } finally {
            for (Path path : made) writable(path);
        }
    }

    /** Read-only by permission bits, and immutable for root, whom permission bits do not stop. */
    private static Path readOnly(Path path) throws Exception {
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(Files.isDirectory(path) ? "r-xr-xr-x" : "r--r--r--"));
        if (Files.isWritable(path)) {
            try {
                new ProcessBuilder("chattr", "+i", path.toString()).redirectErrorStream(true).start().waitFor();
            } catch (IOException noChattr) {
                // permission bits are all there is
            }
        }
        return path;
    }

    private static void writable(Path path) throws Exception {
        try {
            new ProcessBuilder("chattr", "-i", path.toString()).redirectErrorStream(true).start().waitFor();
        } catch (IOException noChattr) {
            // never made immutable
        }
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(Files.isDirectory(path) ? "rwxr-xr-x" : "rw-r--r--"));
    }

    @Test
    void theExperimenterIsRecordedShownAndFiltered() throws IOException {
        Map<String, String> carol = Map.of("SQUEEZE_HOME", home.toString(), "SQUEEZE_USER", "carol");
        CliRun byEnv = CliRun.run(carol, "train", "--model", "mlp-tiny", "--epochs", "1", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, byEnv.exitCode(), byEnv.err());
        String dave = train("--epochs", "2", "--by", "dave");

        CliRun table = CliRun.run(home, "runs");
        assertTrue(table.out().lines().findFirst().orElseThrow().contains(" BY "), table.out());
        assertTrue(table.out().contains(" carol ") && table.out().contains(" dave "), table.out());
        JsonNode daves = runsJson("--by", "dave");
        assertEquals(1, daves.size());
        assertEquals(dave, daves.get(0).get("id").asText());
        assertEquals("dave", daves.get(0).get("run_by").asText());
        assertEquals("carol", runsJson("--by", "carol").get(0).get("run_by").asText());

        CliRun blank = CliRun.run(home, "train", "--model", "mlp-tiny", "--by", " ", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.BAD_INPUT, blank.exitCode());
        assertTrue(blank.err().contains("--by needs a name"), blank.err());
    }
}
