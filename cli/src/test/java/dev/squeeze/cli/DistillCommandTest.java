package dev.squeeze.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DistillCommandTest {
    @TempDir
    Path home;

    @Test
    void distilsAndPrintsTheTableWithTheStudentAlone() {
        CliRun teacher = CliRun.run(home, "train", "--model", "lenet-300-100", "--epochs", "2", "--data", CliRun.fixtures());
        String id = teacher.out().lines().findFirst().orElseThrow().split("\\s+")[1];
        CliRun distill = CliRun.run(home, "distill", "--teacher", id, "--student", "mlp-tiny", "--epochs", "2",
                "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, distill.exitCode(), distill.err());
        assertTrue(distill.out().contains("student mlp-tiny alone") && distill.out().contains("student mlp-tiny distilled"),
                distill.out());
        assertTrue(distill.err().contains("computed once"), distill.err());
        assertEquals(2, CliRun.run(home, "runs", "--stage", "distill").out().lines().count());
    }

    @Test
    void badInputIsOneLine() {
        CliRun t = CliRun.run(home, "distill", "--teacher", "x", "--student", "mlp-tiny", "--temperature", "warm");
        assertEquals(ExitCodes.BAD_INPUT, t.exitCode());
        assertTrue(t.err().contains("--temperature must be a positive number or auto"), t.err());
        CliRun missing = CliRun.run(home, "distill", "--teacher", "nope", "--student", "mlp-tiny", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.BAD_INPUT, missing.exitCode());
        assertEquals(1, missing.errorLines(), missing.err());
    }
}
