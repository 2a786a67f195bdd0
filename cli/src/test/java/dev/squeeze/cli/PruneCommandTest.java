package dev.squeeze.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PruneCommandTest {
    @TempDir
    Path home;

    @Test
    void prunesATrainedRunAndListsTheLevelsInTheLedger() {
        CliRun train = CliRun.run(home, "train", "--model", "mlp-tiny", "--epochs", "2", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, train.exitCode(), train.err());
        String id = train.out().lines().findFirst().orElseThrow().split("\\s+")[1];

        CliRun prune = CliRun.run(home, "prune", "--from", id, "--levels", "2", "--control", "reinit", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, prune.exitCode(), prune.err());
        assertTrue(prune.out().contains("REINIT ACC") && prune.out().contains("ticket  "), prune.out());
        assertTrue(prune.out().lines().anyMatch(l -> l.matches("2 +64\\.\\d% .*")), "level 2 keeps ~64% of weights:\n" + prune.out());

        CliRun runs = CliRun.run(home, "runs", "--stage", "prune");
        assertEquals(3, runs.out().lines().count(), "header and two levels:\n" + runs.out());
        assertEquals(3, CliRun.run(home, "runs", "--stage", "prune-control").out().lines().count());
    }

    @Test
    void badInputIsOneLine() {
        CliRun unknown = CliRun.run(home, "prune", "--from", "nope", "--levels", "2");
        assertEquals(ExitCodes.BAD_INPUT, unknown.exitCode());
        assertTrue(unknown.err().contains("no run or model file 'nope'"), unknown.err());

        CliRun rewind = CliRun.run(home, "prune", "--from", "x", "--levels", "2", "--rewind-to", "soon");
        assertEquals(ExitCodes.BAD_INPUT, rewind.exitCode());
        assertTrue(rewind.err().contains("--rewind-to must be 0"), rewind.err());

        CliRun levels = CliRun.run(home, "prune", "--from", "x", "--levels", "0");
        assertEquals(ExitCodes.BAD_INPUT, levels.exitCode());
        assertEquals(1, levels.err().lines().count(), levels.err());
    }
}
