package dev.squeeze.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
        assertTrue(levels.err().contains(": --levels must be an integer >= 1, got '0'"), levels.err());

        assertBadValue("--rate must be a number > 0 and < 1, got '1'", "--rate", "1");
        assertBadValue("--rewind-to must be 0, an iteration like 500it, or an epoch like 1ep, got 'soon'", "--rewind-to", "soon");
        assertBadValue("--scope must be one of layer, global, got 'all'", "--scope", "all");
        assertBadValue("--control must be one of none, reinit, random, got 'shuffle'", "--control", "shuffle");
        assertBadValue("--structure must be one of none, neurons, channels, got 'filters'", "--structure", "filters");
        assertBadValue("control applies to unstructured pruning; leave it out when structure is set",
                "--structure", "neurons", "--control", "reinit");
    }

    /** A bad setting is refused before anything runs, in one line naming its flag. */
    private void assertBadValue(String message, String... args) {
        List<String> all = new ArrayList<>(List.of("prune", "--from", "x"));
        all.addAll(List.of(args));
        CliRun run = CliRun.run(home, all.toArray(String[]::new));
        assertEquals(ExitCodes.BAD_INPUT, run.exitCode(), run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains(": " + message), run.err());
    }

    @Test
    void helpShowsEverySettingWithItsDefault() {
        String help = CliRun.run(home, "prune", "--help").out();
        for (String line : new String[]{"--levels=N", "Pruning rounds. (default: 5)", "--rate=F", "--rewind-to=POINT",
                "--scope=layer|global", "--control=none|reinit|random", "--structure=none|neurons|channels"}) {
            assertTrue(help.contains(line), line + " in\n" + help);
        }
    }
}
