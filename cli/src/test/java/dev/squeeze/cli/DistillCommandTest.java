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
        assertTrue(t.err().contains("--temperature must be a number > 0, or auto, got 'warm'"), t.err());
        CliRun missing = CliRun.run(home, "distill", "--teacher", "nope", "--student", "mlp-tiny", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.BAD_INPUT, missing.exitCode());
        assertEquals(1, missing.errorLines(), missing.err());
    }

    /** distill's options are made from DistillParams' settings: a bad value names the flag, refused before any work. */
    @Test
    void badSettingsNameTheirFlag() {
        CliRun alpha = CliRun.run(home, "distill", "--teacher", "x", "--student", "mlp-tiny", "--alpha", "1.5");
        assertEquals(ExitCodes.BAD_INPUT, alpha.exitCode());
        assertEquals(1, alpha.errorLines(), alpha.err());
        assertTrue(alpha.err().contains("--alpha must be a number from 0 to 1, got '1.5'"), alpha.err());
        CliRun temperature = CliRun.run(home, "distill", "--teacher", "x", "--student", "mlp-tiny", "--temperature", "0");
        assertEquals(ExitCodes.BAD_INPUT, temperature.exitCode());
        assertTrue(temperature.err().contains("--temperature must be a number > 0, or auto, got '0'"), temperature.err());
        CliRun patience = CliRun.run(home, "distill", "--teacher", "x", "--student", "mlp-tiny", "--patience", "0");
        assertEquals(ExitCodes.BAD_INPUT, patience.exitCode());
        assertTrue(patience.err().contains("--patience must be an integer >= 1, got '0'"), patience.err());
    }

    @Test
    void helpShowsEachSettingsDefault() {
        CliRun help = CliRun.run(home, "distill", "--help");
        assertEquals(ExitCodes.OK, help.exitCode());
        String out = help.out().replaceAll("\\s+", " ");
        assertTrue(out.contains("--temperature=T|auto Softmax temperature of the soft term. auto tries 2, 4 and 8 and keeps "
                + "the best on validation (default: 4)."), help.out());
        assertTrue(out.contains("--alpha=A Weight of the soft term; 1 - alpha weighs the hard labels. (default: 0.9)"),
                help.out());
        assertTrue(out.contains("--epochs=N") && out.contains("--lr-decay=F"), "the student's training settings: " + help.out());
    }
}
