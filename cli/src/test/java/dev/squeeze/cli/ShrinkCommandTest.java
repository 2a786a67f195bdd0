package dev.squeeze.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code squeeze shrink} and the recipe's shrink section on the fixture images, with mlp-tiny trained one epoch. */
class ShrinkCommandTest {
    @TempDir
    Path home;

    /** Timing windows short enough for a test: what is measured and chosen is checked, not how fast. */
    private static final String[] QUICK = {"--window-ms", "1", "--warmup-ms", "0", "--max-windows", "3",
            "--min-runs-per-window", "1", "--stability", "1000", "--callers", "1"};

    private String train() {
        CliRun train = CliRun.run(home, "train", "--model", "mlp-tiny", "--epochs", "1", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, train.exitCode(), train.err());
        return train.out().lines().filter(l -> l.startsWith("run ")).findFirst().orElseThrow().split("\\s+")[1];
    }

    private CliRun shrink(String... args) {
        String[] all = new String[args.length + QUICK.length + 3];
        all[0] = "shrink";
        System.arraycopy(args, 0, all, 1, args.length);
        System.arraycopy(QUICK, 0, all, 1 + args.length, QUICK.length);
        all[all.length - 2] = "--data";
        all[all.length - 1] = CliRun.fixtures();
        return CliRun.run(home, all);
    }

    @Test
    void searchesWritesTheChosenModelAndRunsAsARecipeStage() throws Exception {
        String id = train();
        Path output = home.resolve("small.onnx");
        CliRun shrink = shrink("--from", id, "--budget", "100", "--try", "structured,quantize", "--levels", "1",
                "--output", output.toString());
        assertEquals(ExitCodes.OK, shrink.exitCode(), shrink.err());
        // int8, int4, int8/15, int8/31, int8/15t and int8/31t of the trained model, then the neurons level as float and
        // the same six: one progress line each, in that order.
        assertEquals(13, shrink.err().lines().filter(l -> l.startsWith("candidate ")).count(), shrink.err());
        assertTrue(shrink.err().lines().filter(l -> l.startsWith("candidate ")).findFirst().orElseThrow()
                .startsWith("candidate 1: int8 of trained model"), shrink.err());
        assertTrue(shrink.out().contains("neurons L1"), shrink.out());
        assertTrue(shrink.out().contains("<- chosen"), shrink.out());
        assertTrue(Files.size(output) > 0);
        String searchId = shrink.out().lines().filter(l -> l.startsWith("runs ")).findFirst().orElseThrow()
                .split("--sweep ")[1].split("'")[0];
        CliRun runs = CliRun.run(home, "runs", "--sweep", searchId, "--stage", "shrink-candidate");
        assertEquals(15, runs.out().lines().count(), "a header, the dense model and 13 candidates:\n" + runs.out());

        // Not a training run: the int8 model the search made.
        String quantized = CliRun.run(home, "runs", "--stage", "quantize").out().lines().skip(1).findFirst()
                .orElseThrow().split("\\s+")[0];
        CliRun notTrain = shrink("--from", quantized);
        assertEquals(ExitCodes.BAD_INPUT, notTrain.exitCode(), notTrain.err());
        assertTrue(notTrain.err().contains("is not a finished 'train' run"), notTrain.err());

        // A recipe stage: the chosen model joins the exported models as 'shrunk'.
        Path recipe = home.resolve("recipe.yaml");
        Files.writeString(recipe, """
                train:
                  model: mlp-tiny
                  epochs: 1
                doctor: false
                prune: false
                quantize: false
                shrink:
                  budget: 100
                  try: quantize
                bench:
                  window_ms: 1
                  warmup_ms: 0
                  max_windows: 3
                  min_runs_per_window: 1
                  stability: 1000
                  callers: 1
                """);
        CliRun run = CliRun.run(home, "run", recipe.toString(), "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, run.exitCode(), run.err());
        String models = run.out().lines().filter(l -> l.startsWith("models")).findFirst().orElseThrow().split("\\s+")[1];
        assertTrue(Files.isRegularFile(Path.of(models, "shrunk", "model.onnx")), run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.matches(".*shrink: int(8|4|8/15t?|8/31t?) of trained model.*")),
                run.out());
    }

    @Test
    void badInputIsRefusedWithOneLine() {
        CliRun budget = CliRun.run(home, "shrink", "--from", "abc", "--budget", "0");
        assertEquals(ExitCodes.BAD_INPUT, budget.exitCode());
        assertTrue(budget.err().contains("--budget must be a number > 0 and <= 100, got '0'"), budget.err());
        CliRun target = CliRun.run(home, "shrink", "--from", "abc", "--target", "speed");
        assertEquals(ExitCodes.BAD_INPUT, target.exitCode());
        assertTrue(target.err().contains("--target must be one of size, latency"), target.err());
        CliRun kind = CliRun.run(home, "shrink", "--from", "abc", "--try", "quantize,int3");
        assertEquals(ExitCodes.BAD_INPUT, kind.exitCode());
        assertTrue(kind.err().contains("--try"), kind.err());
        CliRun unknown = CliRun.run(home, "shrink", "--from", "nosuchrun");
        assertEquals(ExitCodes.BAD_INPUT, unknown.exitCode());
        assertTrue(unknown.err().contains("no run or model file 'nosuchrun'"), unknown.err());
        assertEquals(1, unknown.errorLines(), unknown.err());
    }

    @Test
    void helpTeachesTheSearch() {
        CliRun help = CliRun.run(home, "shrink", "--help");
        assertEquals(ExitCodes.OK, help.exitCode());
        for (String text : new String[]{"--budget", "(default: 0.5)", "--target", "--try", "--students", "--output",
                "VALIDATION", "Ctrl-C", "--window-ms"}) {
            assertTrue(help.out().contains(text), text + " in\n" + help.out());
        }
    }
}
