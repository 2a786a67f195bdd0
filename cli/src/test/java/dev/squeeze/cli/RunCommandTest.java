package dev.squeeze.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code squeeze run} end to end on the fixture images with mlp-tiny: every stage, then the same recipe again. */
class RunCommandTest {
    @TempDir
    Path home;

    private static final String RECIPE = """
            name: tiny end to end
            dataset: fashion-mnist
            train:
              model: mlp-tiny
              epochs: 2
            doctor: true
            distill:
              enabled: true
              student: mlp-tiny
              epochs: 1
            prune:
              levels: 1
              rate: 0.5
            quantize:
              samples: 200
              calibration: minmax
            bench:
              window_ms: 100
              warmup_ms: 50
              max_windows: 3
            serve: false
            """;

    @Test
    void everyStageRunsAndASecondRunReusesThem() throws Exception {
        Path recipe = home.resolve("recipe.yaml");
        Files.writeString(recipe, RECIPE);
        CliRun first = CliRun.run(home, "run", recipe.toString(), "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, first.exitCode(), first.err());
        for (String model : new String[]{"mlp-tiny", "mlp-tiny-distilled", "ticket", "mlp-tiny-int8", "mlp-tiny-distilled-int8", "ticket-int8"}) {
            assertTrue(first.out().contains(model), model + " in\n" + first.out());
        }
        String folder = first.out().lines().filter(l -> l.startsWith("models")).findFirst().orElseThrow().split("\\s+")[1];
        assertTrue(Files.isRegularFile(Path.of(folder, "ticket-int8", "model.onnx")));
        assertTrue(Files.isRegularFile(Path.of(folder).getParent().resolve("report").resolve("index.html")));
        for (String stage : new String[]{"train", "distill", "prune", "quantize", "export", "bench"}) {
            assertTrue(CliRun.run(home, "runs", "--stage", stage).out().lines().count() > 1, "a " + stage + " row");
        }
        long trainRows = CliRun.run(home, "runs", "--stage", "train").out().lines().count();
        long exportRows = CliRun.run(home, "runs", "--stage", "export").out().lines().count();
        long benchRows = CliRun.run(home, "runs", "--stage", "bench").out().lines().count();

        CliRun second = CliRun.run(home, "run", recipe.toString(), "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, second.exitCode(), second.err());
        assertEquals(trainRows, CliRun.run(home, "runs", "--stage", "train").out().lines().count(), "training reused");
        assertEquals(exportRows, CliRun.run(home, "runs", "--stage", "export").out().lines().count(),
                "exports reused by their stage's rule: no progress file of the recipe's own");
        assertTrue(CliRun.run(home, "runs", "--stage", "bench").out().lines().count() > benchRows,
                "a benchmark measures this machine now: run again");
        assertFalse(Files.exists(Path.of(folder).getParent().resolve("progress.json")));
        assertTrue(second.out().contains("ticket-int8"), second.out());

        CliRun explain = CliRun.run(home, "run", recipe.toString(), "--explain", "--set", "prune.levels=4");
        assertEquals(ExitCodes.OK, explain.exitCode(), explain.err());
        assertTrue(explain.out().contains("levels: 4") && explain.out().contains("recipe hash"), explain.out());
    }

    @Test
    void aPlainDl4jModelIsImportedQuantizedExportedAndBenchmarked() throws Exception {
        CliRun train = CliRun.run(home, "train", "--model", "mlp-tiny", "--epochs", "1", "--data", CliRun.fixtures());
        String model = train.out().lines().filter(l -> l.startsWith("model file")).findFirst().orElseThrow().split("\\s+")[2];
        // What a user has: the network saved by DL4J itself, without squeeze's metadata.
        var net = org.deeplearning4j.util.ModelSerializer.restoreMultiLayerNetwork(Path.of(model).toFile(), false);
        Path plain = home.resolve("my-dl4j-model.zip");
        org.deeplearning4j.util.ModelSerializer.writeModel(net, plain.toFile(), false);

        Path recipe = home.resolve("own.yaml");
        Files.writeString(recipe, "train:\n  from: " + plain + "\ndoctor: false\ndistill: false\nprune: false\n"
                + "quantize:\n  samples: 200\n  calibration: minmax\nbench:\n  window_ms: 100\n  warmup_ms: 50\n"
                + "  max_windows: 3\nserve: false\n");
        CliRun run = CliRun.run(home, "run", recipe.toString(), "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, run.exitCode(), run.err());
        assertTrue(run.out().contains("model-int8") && run.err().contains("importing the DL4J model"), run.out() + run.err());

        Files.writeString(recipe, "train:\n  from: " + plain + "\n");
        CliRun refused = CliRun.run(home, "run", recipe.toString(), "--data", CliRun.fixtures());
        assertEquals(ExitCodes.BAD_INPUT, refused.exitCode());
        assertTrue(refused.err().contains("set distill: false and prune: false"), refused.err());
    }

    @Test
    void aBadRecipeNamesTheLine() throws Exception {
        Path recipe = home.resolve("bad.yaml");
        Files.writeString(recipe, "train:\n  model: mlp-tiny\n  epochz: 3\n");
        CliRun bad = CliRun.run(home, "run", recipe.toString());
        assertEquals(ExitCodes.BAD_INPUT, bad.exitCode());
        assertTrue(bad.err().contains("line 3") && bad.err().contains("epochz"), bad.err());
    }
}
