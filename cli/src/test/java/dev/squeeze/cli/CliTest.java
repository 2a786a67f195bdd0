package dev.squeeze.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The commands as a user runs them, in-process: exit code, stdout and stderr. */
class CliTest {
    @TempDir
    Path home;

    @Test
    void helpListsEveryCommandWithOneLineEach() {
        CliRun run = CliRun.run(home, "--help");
        assertEquals(ExitCodes.OK, run.exitCode());
        for (String command : new String[]{"train", "eval", "runs", "models"}) {
            assertTrue(run.out().lines().anyMatch(l -> l.trim().startsWith(command + " ")), command + " in:\n" + run.out());
        }
    }

    @Test
    void trainEvalRunsAndNoteWorkTogether() throws IOException {
        CliRun train = CliRun.run(home, "train", "--model", "mlp-tiny", "--epochs", "2", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, train.exitCode(), train.err());
        assertTrue(train.out().contains("accuracy    train"), train.out());
        assertTrue(train.err().contains("epoch   1"), "per-epoch progress on stderr: " + train.err());
        // 1,800 training examples: --refit auto trains again on all 2,000 for the epochs the validation chose.
        assertTrue(train.err().contains("refit: a fresh network trained on all 2000 examples"), train.err());
        String id = train.out().lines().findFirst().orElseThrow().split("\\s+")[1];
        String modelFile = train.out().lines().filter(l -> l.startsWith("model file")).findFirst().orElseThrow()
                .split("\\s+")[2];

        CliRun again = CliRun.run(home, "train", "--model", "mlp-tiny", "--epochs", "2", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, again.exitCode());
        assertTrue(again.out().contains("reused"), again.out());

        CliRun eval = CliRun.run(home, "eval", "--model-file", modelFile, "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, eval.exitCode(), eval.err());
        assertTrue(eval.out().contains("confusion matrix"), eval.out());
        assertTrue(eval.out().contains("Ankle boot"), eval.out());

        CliRun note = CliRun.run(home, "runs", "note", id.substring(0, 6), "first try");
        assertEquals(ExitCodes.OK, note.exitCode(), note.err());

        CliRun table = CliRun.run(home, "runs", "--model", "mlp-tiny");
        assertEquals(ExitCodes.OK, table.exitCode(), table.err());
        assertTrue(table.out().contains(id) && table.out().contains("first try"), table.out());
        assertTrue(CliRun.run(home, "runs", "--model", "lenet-5").out().lines().noneMatch(l -> l.contains(id)));

        JsonNode json = new ObjectMapper().readTree(CliRun.run(home, "runs", "--json").out());
        assertEquals(1, json.size());
        assertEquals(id, json.get(0).get("id").asText());
    }

    @Test
    void unknownModelIsBadInputOnOneLine() {
        CliRun run = CliRun.run(home, "train", "--model", "resnet-9000", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.BAD_INPUT, run.exitCode());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains("unknown model 'resnet-9000'") && run.err().contains("lenet-300-100"), run.err());
        assertNothingWritten();
    }

    @Test
    void negativeEpochsIsBadInput() {
        CliRun run = CliRun.run(home, "train", "--model", "mlp-tiny", "--epochs", "-3");
        assertEquals(ExitCodes.BAD_INPUT, run.exitCode());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains("--epochs must be an integer >= 1, got '-3'"), run.err());
        assertNothingWritten();
    }

    @Test
    void badToleranceOrRefitIsBadInputNamingTheFlag() {
        CliRun tolerance = CliRun.run(home, "train", "--model", "mlp-tiny", "--tolerance", "-1");
        assertEquals(ExitCodes.BAD_INPUT, tolerance.exitCode());
        assertEquals(1, tolerance.err().lines().count(), tolerance.err());
        assertTrue(tolerance.err().contains("--tolerance must be a number >= 0, got '-1'"), tolerance.err());
        CliRun refit = CliRun.run(home, "train", "--model", "mlp-tiny", "--refit", "sometimes");
        assertEquals(ExitCodes.BAD_INPUT, refit.exitCode());
        assertTrue(refit.err().contains("--refit must be one of auto, always, never, got 'sometimes'"), refit.err());
        assertNothingWritten();
    }

    @Test
    void missingDatasetIsBadInput() {
        CliRun run = CliRun.run(home, "train", "--model", "mlp-tiny", "--data", home.resolve("nowhere").toString());
        assertEquals(ExitCodes.BAD_INPUT, run.exitCode());
        assertEquals(1, run.errorLines(), run.err());
        assertTrue(run.err().contains("nowhere"), run.err());
        assertNothingWritten();
    }

    @Test
    void corruptDatasetFileIsBadInputNamingTheFile() throws IOException {
        Path data = Files.createDirectories(home.resolve("data"));
        try (Stream<Path> files = Files.list(Path.of(CliRun.fixtures()))) {
            for (Path f : files.toList()) Files.copy(f, data.resolve(f.getFileName()));
        }
        Path images = data.resolve("train-images-idx3-ubyte.gz");
        byte[] whole = Files.readAllBytes(images);
        Files.write(images, Arrays.copyOf(whole, whole.length / 3));

        CliRun run = CliRun.run(home, "train", "--model", "mlp-tiny", "--data", data.toString());
        assertEquals(ExitCodes.BAD_INPUT, run.exitCode());
        assertEquals(1, run.errorLines(), run.err());
        assertTrue(run.err().contains("train-images-idx3-ubyte.gz"), run.err());
        assertNothingWritten();
    }

    @Test
    void unwritableOutputIsBadInputAndNothingIsWritten() throws IOException {
        Path file = Files.writeString(home.resolve("a-file"), "in the way");
        CliRun run = CliRun.run(home, "train", "--model", "mlp-tiny", "--data", CliRun.fixtures(),
                "--output", file.resolve("runs").toString());
        assertEquals(ExitCodes.BAD_INPUT, run.exitCode());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains("not writable") && run.err().contains("--output"), run.err());
        try (Stream<Path> files = Files.list(home)) {
            assertEquals(1, files.count(), "only the file that was already there");
        }
    }

    @Test
    void corruptModelFileIsBadInput() throws IOException {
        Path bogus = Files.writeString(home.resolve("model.zip"), "not a model");
        CliRun run = CliRun.run(home, "eval", "--model-file", bogus.toString(), "--data", CliRun.fixtures());
        assertEquals(ExitCodes.BAD_INPUT, run.exitCode());
        assertEquals(1, run.err().lines().count(), run.err());
    }

    @Test
    void divergedTrainingExitsWithFailureAndSaysWhatToTry() {
        CliRun run = CliRun.run(home, "train", "--model", "mlp-tiny", "--lr", "1e30", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.FAILURE, run.exitCode());
        assertTrue(run.err().contains("learning rate is likely too high"), run.err());
        assertTrue(CliRun.run(home, "runs").out().contains("failed"));
    }

    @Test
    void verboseAddsTheStackTrace() {
        CliRun run = CliRun.run(home, "train", "--verbose", "--model", "nope", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.BAD_INPUT, run.exitCode());
        assertTrue(run.err().contains("at dev.squeeze"), run.err());
    }

    private void assertNothingWritten() {
        try (Stream<Path> files = Files.walk(home)) {
            assertFalse(files.anyMatch(f -> (Files.isDirectory(f) && f.getFileName().toString().startsWith("train-"))
                    || f.getFileName().toString().endsWith(".zip")), "no run folder or model file");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
