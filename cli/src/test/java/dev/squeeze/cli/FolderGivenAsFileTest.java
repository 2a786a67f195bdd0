package dev.squeeze.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A folder where a model file belongs is called a folder, by every command that takes a model file. */
class FolderGivenAsFileTest {
    @TempDir
    Path home;

    @Test
    void everyCommandThatTakesAModelFileSaysAFolderIsAFolder() throws IOException {
        String folder = Files.createDirectories(home.resolve("exported")).toString();
        String[][] commands = {
                {"eval", "--model-file", folder, "--data", CliRun.fixtures()},
                {"quantize", "--from", folder, "--data", CliRun.fixtures()},
                {"export", "--from", folder, "--output", home.resolve("m.onnx").toString()},
                {"prune", "--from", folder, "--levels", "1", "--data", CliRun.fixtures()},
                {"distill", "--teacher", folder, "--student", "mlp-tiny", "--data", CliRun.fixtures()},
        };
        for (String[] args : commands) {
            CliRun run = CliRun.run(home, args);
            assertEquals(ExitCodes.BAD_INPUT, run.exitCode(), args[0] + ": " + run.err());
            assertEquals(1, run.errorLines(), run.err());
            assertTrue(run.err().contains(folder + " is a folder, not a model file"), args[0] + ": " + run.err());
            assertFalse(run.err().contains("does not exist") || run.err().contains("no run or model file"), run.err());
        }
    }
}
