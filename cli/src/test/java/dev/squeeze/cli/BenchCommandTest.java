package dev.squeeze.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCommandTest {
    @TempDir
    Path home;

    @Test
    void benchmarksExportsRecordsThemAndReportsTheFrontier() throws Exception {
        CliRun train = CliRun.run(home, "train", "--model", "mlp-tiny", "--epochs", "1", "--data", CliRun.fixtures());
        String id = train.out().lines().findFirst().orElseThrow().split("\\s+")[1];
        Path models = home.resolve("served");
        Files.createDirectories(models.resolve("tiny"));
        assertEquals(ExitCodes.OK, CliRun.run(home, "export", "--from", id, "--output", models.resolve("tiny/model.onnx").toString(),
                "--data", CliRun.fixtures()).exitCode());
        CliRun quantize = CliRun.run(home, "quantize", "--from", id, "--samples", "200", "--calibration", "minmax", "--data", CliRun.fixtures());
        String int8 = quantize.out().lines().filter(l -> l.startsWith("model")).findFirst().orElseThrow().split("\\s+")[1];
        assertEquals(ExitCodes.OK, CliRun.run(home, "export", "--from", int8, "--output", models.resolve("tiny-int8.onnx").toString(),
                "--data", CliRun.fixtures()).exitCode());

        CliRun bench = CliRun.run(home, "bench", "--models", models.toString(), "--window-ms", "100", "--warmup-ms", "50",
                "--max-windows", "4", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, bench.exitCode(), bench.err());
        assertTrue(bench.out().contains("tiny") && bench.out().contains("tiny-int8") && bench.out().contains("%"), bench.out());
        assertEquals(3, CliRun.run(home, "runs", "--stage", "bench").out().lines().count(), "header and two rows");
        // bench is a stage like the others (run folder bench-<hash> holding its outcome), but never reused: the
        // same benchmark again measures again, a new row each time, into the same folders
        assertEquals(ExitCodes.OK, CliRun.run(home, "bench", "--models", models.toString(), "--window-ms", "100",
                "--warmup-ms", "50", "--max-windows", "4", "--data", CliRun.fixtures()).exitCode());
        assertEquals(5, CliRun.run(home, "runs", "--stage", "bench").out().lines().count(), "header and four rows");
        try (Stream<Path> files = Files.walk(home)) {
            List<Path> outcomes = files.filter(f -> f.getFileName().toString().equals("outcome.json")
                    && f.getParent().getFileName().toString().startsWith("bench-")).toList();
            assertEquals(2, outcomes.size(), outcomes.toString());
        }

        Path report = home.resolve("report");
        CliRun page = CliRun.run(home, "report", "--output", report.toString());
        assertEquals(ExitCodes.OK, page.exitCode(), page.err());
        String html = Files.readString(report.resolve("index.html"));
        assertTrue(html.contains("tiny-int8") && html.contains("<svg") && !html.contains("<script"), html);
    }

    @Test
    void badInputIsOneLine() {
        CliRun neither = CliRun.run(home, "bench");
        assertEquals(ExitCodes.BAD_INPUT, neither.exitCode());
        assertTrue(neither.err().contains("either --models DIR or --url"), neither.err());
        CliRun closed = CliRun.run(home, "bench", "--url", "http://127.0.0.1:9", "--model", "m", "--concurrency", "1");
        assertEquals(ExitCodes.BAD_INPUT, closed.exitCode());
        assertTrue(closed.err().contains("cannot reach"), closed.err());
        CliRun empty = CliRun.run(home, "report", "--output", home.resolve("r").toString());
        assertEquals(ExitCodes.BAD_INPUT, empty.exitCode());
        assertTrue(empty.err().contains("no benchmark"), empty.err());
    }

    @Test
    void aBadMeasurementSettingNamesItsFlag() {
        CliRun windows = CliRun.run(home, "bench", "--models", home.toString(), "--max-windows", "2");
        assertEquals(ExitCodes.BAD_INPUT, windows.exitCode());
        assertEquals(1, windows.errorLines(), windows.err());
        assertTrue(windows.err().contains("--max-windows must be an integer >= 3, got '2'"), windows.err());
        CliRun stability = CliRun.run(home, "bench", "--models", home.toString(), "--stability", "0");
        assertEquals(ExitCodes.BAD_INPUT, stability.exitCode());
        assertTrue(stability.err().contains("--stability must be a number > 0, got '0'"), stability.err());
        // the load test reads the same settings the same way
        CliRun load = CliRun.run(home, "bench", "--url", "http://127.0.0.1:9", "--model", "m", "--warmup-ms", "soon");
        assertEquals(ExitCodes.BAD_INPUT, load.exitCode());
        assertTrue(load.err().contains("--warmup-ms must be an integer >= 0, got 'soon'"), load.err());
    }

    @Test
    void helpShowsEveryMeasurementSettingWithItsDefault() {
        CliRun help = CliRun.run(home, "bench", "--help");
        assertEquals(ExitCodes.OK, help.exitCode());
        for (String option : List.of("--window-ms", "--warmup-ms", "--max-windows", "--min-runs-per-window",
                "--stability", "--threads")) {
            assertTrue(help.out().contains(option), option + " in\n" + help.out());
        }
        assertTrue(help.out().contains("(default: 5)") && help.out().contains("(default: 1000)"), help.out());
    }
}
