package dev.squeeze.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExportCommandTest {
    @TempDir
    Path home;

    @Test
    void exportsARunToOnnxAndRecordsIt() {
        CliRun train = CliRun.run(home, "train", "--model", "mlp-tiny", "--epochs", "1", "--data", CliRun.fixtures());
        String id = train.out().lines().findFirst().orElseThrow().split("\\s+")[1];
        Path out = home.resolve("tiny.onnx");
        CliRun export = CliRun.run(home, "export", "--from", id, "--output", out.toString(), "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, export.exitCode(), export.err());
        assertTrue(Files.isRegularFile(out));
        assertTrue(export.out().contains("in ONNX Runtime") && export.out().contains("top-1 agreement 100.00%"), export.out());
        assertEquals(2, CliRun.run(home, "runs", "--stage", "export").out().lines().count(), "header and one run");
        assertTrue(export.out().contains("(no weight smaller sparse)"), "an unpruned model has nothing sparse: " + export.out());

        CliRun dense = CliRun.run(home, "export", "--from", id, "--output", home.resolve("dense.onnx").toString(),
                "--sparse", "never", "--json", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, dense.exitCode(), dense.err());
        assertTrue(dense.out().contains("\"sparse\" : \"never\"") && dense.out().contains("\"sparseInitializers\" : [ ]")
                && dense.out().contains("\"denseFileBytes\""), dense.out());
    }

    /** --sparse is a setting too: a bad value names the flag and the values it takes. */
    @Test
    void sparseIsASettingNamedByItsFlag() {
        CliRun export = CliRun.run(home, "export", "--from", "x", "--output", home.resolve("x.onnx").toString(),
                "--sparse", "always");
        assertEquals(ExitCodes.BAD_INPUT, export.exitCode());
        assertEquals(1, export.errorLines(), export.err());
        assertTrue(export.err().contains("--sparse") && export.err().contains("auto, int64, never"), export.err());
        assertTrue(CliRun.run(home, "export", "--help").out().replaceAll("\\s+", " ").contains("never. (default: auto)"));
    }

    @Test
    void aFileThatIsNotAModelExitsWith2AndWritesNothing() throws Exception {
        Path junk = home.resolve("junk.zip");
        Files.writeString(junk, "nope");
        Path out = home.resolve("junk.onnx");
        CliRun export = CliRun.run(home, "export", "--from", junk.toString(), "--output", out.toString());
        assertEquals(ExitCodes.BAD_INPUT, export.exitCode());
        assertEquals(1, export.errorLines(), export.err());
        assertTrue(export.err().contains("not a squeeze model file"), export.err());
        assertFalse(Files.exists(out));
    }

    /** export's options are made from ExportParams' settings: a bad opset names the flag, and --help its default. */
    @Test
    void opsetIsASettingNamedByItsFlag() {
        Path out = home.resolve("never.onnx");
        CliRun export = CliRun.run(home, "export", "--from", "x", "--output", out.toString(), "--opset", "12");
        assertEquals(ExitCodes.BAD_INPUT, export.exitCode());
        assertEquals(1, export.errorLines(), export.err());
        assertTrue(export.err().contains("--opset must be an integer from 13 to 21, got '12'"), export.err());
        assertFalse(Files.exists(out));
        CliRun help = CliRun.run(home, "export", "--help");
        assertTrue(help.out().replaceAll("\\s+", " ").contains(
                "--opset=N ONNX opset; 13 is the first with per-channel int8. (default: 17)"), help.out());
    }
}
