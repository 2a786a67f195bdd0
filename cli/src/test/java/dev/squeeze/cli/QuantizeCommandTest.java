package dev.squeeze.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantizeCommandTest {
    @TempDir
    Path home;

    @Test
    void quantizesARunAndEvalReadsTheInt8File() {
        CliRun train = CliRun.run(home, "train", "--model", "mlp-tiny", "--epochs", "2", "--data", CliRun.fixtures());
        String id = train.out().lines().findFirst().orElseThrow().split("\\s+")[1];
        CliRun quantize = CliRun.run(home, "quantize", "--from", id, "--samples", "300", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, quantize.exitCode(), quantize.err());
        assertTrue(quantize.out().contains("(kept)") && quantize.out().contains("VAL ACC WITH ONLY THIS LAYER INT8"),
                quantize.out());
        String model = quantize.out().lines().filter(l -> l.startsWith("model")).findFirst().orElseThrow().split("\\s+")[1];
        String testLine = quantize.out().lines().filter(l -> l.startsWith("test")).findFirst().orElseThrow();
        String int8Acc = testLine.replaceAll(".*-> int8 ([0-9.]+%).*", "$1");
        CliRun eval = CliRun.run(home, "eval", "--model-file", model, "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, eval.exitCode(), eval.err());
        assertTrue(eval.out().contains(int8Acc), "eval of the int8 file reports " + int8Acc + ":\n" + eval.out());
        assertEquals(2, CliRun.run(home, "runs", "--stage", "quantize").out().lines().count(), "header and one run");
    }

    @Test
    void badInputIsOneLineWithExitCode2() {
        CliRun g = CliRun.run(home, "quantize", "--from", "x", "--granularity", "row");
        assertEquals(ExitCodes.BAD_INPUT, g.exitCode());
        assertTrue(g.err().contains("--granularity must be one of channel, tensor"), g.err());
        CliRun c = CliRun.run(home, "quantize", "--from", "x", "--calibration", "mse");
        assertEquals(ExitCodes.BAD_INPUT, c.exitCode());
        assertTrue(c.err().contains("--calibration must be one of auto, minmax, percentile, entropy, got 'mse'"), c.err());
        assertBadValue("--percentile must be a number > 50 and <= 100, got '50'", "--percentile", "50");
        assertBadValue("--samples must be an integer >= 1, got '0'", "--samples", "0");
        assertBadValue("--keep-float must be a comma-separated list of integers >= 0 or names, got '0,-1'", "--keep-float", "0,-1");
        assertBadValue("--qat-epochs must be an integer >= 0, got '-1'", "--qat-epochs", "-1");
        assertBadValue("--accuracy-budget must be a number from 0 to 100, or null, got '101'", "--accuracy-budget", "101");
        assertBadValue("--block-size must be an integer >= 16, got '8'", "--block-size", "8");
        CliRun bits = CliRun.run(home, "quantize", "--from", "x", "--bits", "3");
        assertEquals(ExitCodes.BAD_INPUT, bits.exitCode(), bits.err());
        assertTrue(bits.err().contains("--bits 3: quantize writes 8-bit weights (the default) or 4-bit weights of the "
                + "dense layers; give --bits 8 or --bits 4"), bits.err());
        CliRun missing = CliRun.run(home, "quantize", "--from", "nope", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.BAD_INPUT, missing.exitCode());
        assertEquals(1, missing.errorLines(), missing.err());
    }

    /** A bad setting is refused before anything runs, in one line naming its flag. */
    private void assertBadValue(String message, String flag, String value) {
        CliRun run = CliRun.run(home, "quantize", "--from", "x", flag, value);
        assertEquals(ExitCodes.BAD_INPUT, run.exitCode(), run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains(": " + message), run.err());
    }

    @Test
    void helpShowsEverySettingWithItsDefault() {
        String help = CliRun.run(home, "quantize", "--help").out();
        for (String line : new String[]{"--calibration=METHOD", "--percentile=P", "--samples=N", "--granularity=channel|tensor",
                "--keep-float=LAYER", "--qat-epochs=N", "--accuracy-budget=POINTS", "(default: 99.99)", "(default: auto)",
                "(default: 1000)", "(default: channel)", "--bits=8|4", "--block-size=N", "--keep-8bit=LAYER",
                "(default: 8)", "(default: 32)"}) {
            // Help wraps its descriptions: "(default: 32)" may be split over two lines.
            assertTrue(help.replaceAll("\\s+", " ").contains(line), line + " in\n" + help);
        }
    }
}
