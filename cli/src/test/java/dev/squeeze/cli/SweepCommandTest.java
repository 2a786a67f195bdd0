package dev.squeeze.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squeeze.compress.sweep.SweepGrid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code squeeze sweep} as a user runs it: exit code, the table on stdout, progress on stderr, the trials in runs. */
class SweepCommandTest {
    @TempDir
    Path home;

    private CliRun sweep(String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("sweep", "--model", "mlp-tiny", "--epochs", "2",
                "--data", CliRun.fixtures()));
        args.addAll(List.of(more));
        return CliRun.run(home, args.toArray(String[]::new));
    }

    @Test
    void sweepPrintsTheSensitivityTableAndItsTrialsAreInRuns() throws IOException {
        CliRun run = sweep("--grid", "lr=1e-3,3e-2;batch=32,128", "--parallel", "2");
        assertEquals(ExitCodes.OK, run.exitCode(), run.err());
        String id = run.out().lines().findFirst().orElseThrow().split("[ :]")[1];
        assertTrue(id.matches("sw-[0-9a-f]{12}"), run.out());
        assertTrue(run.out().contains("4 trials, 4 finished (0 reused), 0 failed"), run.out());
        assertTrue(run.out().contains("RANK  SETTING"), run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.matches("\\s+1 {2}(lr|batch) .*")), run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.matches("\\s+2 {2}(lr|batch) .*")), run.out());
        assertTrue(run.out().contains("\nbest    run "), run.out());
        assertEquals(4, run.err().lines().filter(l -> l.matches("trial \\d/4 lr=.* batch=\\d+: val .*")).count(), run.err());
        assertFalse(run.out().contains("epoch"), "progress stays on stderr");

        CliRun runs = CliRun.run(home, "runs", "--sweep", id);
        assertEquals(ExitCodes.OK, runs.exitCode(), runs.err());
        assertEquals(5, runs.out().lines().count(), "a header and the four trials:\n" + runs.out());
        assertEquals(4, runs.out().lines().filter(l -> l.contains(" mlp-tiny ") && l.contains(" done ")).count(), runs.out());
        assertTrue(CliRun.run(home, "runs", "--sweep", "sw-000000000000").out().contains("(no runs)"));

        CliRun again = sweep("--grid", "batch=128,32;lr=0.03,0.001", "--json");
        assertEquals(ExitCodes.OK, again.exitCode(), again.err());
        JsonNode json = new ObjectMapper().readTree(again.out());
        assertEquals(id, json.get("sweep_id").asText(), "the same grid written another way is the same sweep");
        assertEquals(4, json.get("trials").size());
        json.get("trials").forEach(t -> assertTrue(t.get("reused").asBoolean(), t.toString()));
        assertEquals(2, json.get("sensitivity").get("settings").size());
        assertEquals(5, CliRun.run(home, "runs").out().lines().count(), "no new rows");
    }

    @Test
    void allTrialsFailingIsAFailure() {
        CliRun run = sweep("--grid", "lr=1e29,1e30");
        assertEquals(ExitCodes.FAILURE, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("0 finished (0 reused), 2 failed"), run.out());
        assertTrue(run.out().contains("best    no trial finished"), run.out());
        assertEquals(2, run.out().lines().filter(l -> l.startsWith("failed  trial ")).count(), run.out());
    }

    @Test
    void badGridsAndOptionsAreBadInputOnOneLine() throws IOException {
        for (String[] args : List.of(
                new String[]{"sweep", "--model", "mlp-tiny", "--grid", "lrate=1e-3"},
                new String[]{"sweep", "--model", "mlp-tiny", "--grid", "lr=1e-3,-1"},
                new String[]{"sweep", "--grid", "lr=1e-3"},
                new String[]{"sweep", "--model", "mlp-tiny", "--grid", "lr=1e-3", "--parallel", "0"},
                new String[]{"sweep", "--model", "mlp-tiny", "--grid", "lr=1e-3", "--random", "0"},
                new String[]{"sweep", "--model", "mlp-tiny", "--grid", "lr=1e-3", "--data", home.resolve("nowhere").toString()})) {
            CliRun run = CliRun.run(home, args);
            assertEquals(ExitCodes.BAD_INPUT, run.exitCode(), String.join(" ", args) + "\n" + run.err());
            assertEquals(1, run.errorLines(), run.err());
            assertTrue(run.out().isEmpty(), run.out());
        }
        assertTrue(CliRun.run(home, "sweep", "--model", "mlp-tiny", "--grid", "lrate=1").err()
                .contains("valid keys: " + String.join(", ", SweepGrid.KEYS)));
        try (Stream<Path> files = Files.walk(home)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("train-")), "nothing trained");
        }
    }

    @Test
    void helpExplainsTheGridAndParallelTrials() {
        CliRun help = CliRun.run(home, "sweep", "--help");
        assertEquals(ExitCodes.OK, help.exitCode());
        assertTrue(help.out().replaceAll("\\s+", " ").contains("Grid keys: " + String.join(", ", SweepGrid.KEYS) + "."),
                help.out());
        assertTrue(help.out().contains("2-core machine --parallel 2"), help.out());
        assertTrue(CliRun.run(home, "--help").out().lines().anyMatch(l -> l.trim().startsWith("sweep ")));
    }
}
