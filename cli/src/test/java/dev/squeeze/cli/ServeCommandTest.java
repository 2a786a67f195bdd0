package dev.squeeze.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServeCommandTest {
    @TempDir
    Path home;

    @Test
    void aMissingModelFolderIsOneLineAndExitCode2() {
        CliRun serve = CliRun.run(home, "serve", "--models", home.resolve("nowhere").toString());
        assertEquals(ExitCodes.BAD_INPUT, serve.exitCode());
        assertEquals(1, serve.errorLines(), serve.err());
        assertTrue(serve.err().contains("is not a folder"), serve.err());
    }

    @Test
    void helpListsTheEndpoints() {
        CliRun help = CliRun.run(home, "serve", "--help");
        assertEquals(ExitCodes.OK, help.exitCode());
        assertTrue(help.out().contains("/v2/models/NAME/infer") && help.out().contains("/metrics"), help.out());
    }
}
