package dev.squeeze.cli;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.onnx.OnnxGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code squeeze quantize --from FILE.onnx}: an ONNX file, recognised by its content, quantized dynamically. */
class QuantizeOnnxCommandTest {
    private static final OnnxMl.TensorProto.DataType F = OnnxMl.TensorProto.DataType.FLOAT;

    @TempDir
    Path home;

    /** x [batch, 8, 64] projected by a constant 64×64 MatMul, attention-like activation × activation MatMuls. */
    private static byte[] attention(boolean withWeights) {
        Random r = new Random(11);
        OnnxGraph g = new OnnxGraph("attention");
        String x = g.input("x", F, -1, 8, 64);
        String q = x;
        if (withWeights) {
            float[] w = new float[64 * 64];
            for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() / 8);
            q = g.matMul(x, g.floats("wq", w, 64, 64));
        }
        String context = g.matMul(g.softmax(g.matMul(q, g.transpose(x, 0, 2, 1))), x);
        g.output("y", context, F, -1, 8, 64);
        return g.model(8, 17, "test", "", Map.of()).toByteArray();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        Path f = home.resolve(name);
        Files.write(f, bytes);
        return f;
    }

    @Test
    void quantizesAnOnnxFileRecognisedByItsContentAndReusesTheRun() throws IOException {
        Path model = file("model.bin", attention(true)); // no .onnx extension: the content says ONNX
        Path out = home.resolve("model-int8.onnx");
        CliRun run = CliRun.run(home, "quantize", "--from", model.toString(), "--onnx-output", out.toString());
        assertEquals(ExitCodes.OK, run.exitCode(), run.err());
        assertTrue(run.out().contains("NODE") && run.out().contains("WHY LEFT FLOAT"), run.out());
        assertEquals(2, run.out().lines().filter(l -> l.contains("activation × activation")).count(), run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.contains("[64, 64]") && l.contains("yes")), run.out());
        assertTrue(run.out().contains("1 of 3 candidates"), run.out());
        assertTrue(Files.size(out) < Files.size(model), "smaller");
        String runLine = run.out().lines().filter(l -> l.startsWith("run ")).findFirst().orElseThrow();

        CliRun again = CliRun.run(home, "quantize", "--from", model.toString(), "--json");
        assertEquals(ExitCodes.OK, again.exitCode(), again.err());
        assertTrue(again.out().contains("\"runId\" : \"" + runLine.split("\\s+")[1] + "\""), again.out());
        assertEquals(2, CliRun.run(home, "runs", "--stage", "quantize").out().lines().count(), "header and one run");

        CliRun twice = CliRun.run(home, "quantize", "--from", out.toString());
        assertEquals(ExitCodes.BAD_INPUT, twice.exitCode());
        assertEquals(1, twice.errorLines(), twice.err());
        assertTrue(twice.err().contains("already quantized"), twice.err());
    }

    @Test
    void inputsAFolderOfRequestBodiesMeasureWhatInt8Cost() throws IOException {
        Path model = file("attention.onnx", attention(true));
        Path requests = Files.createDirectories(home.resolve("requests"));
        Random r = new Random(3);
        for (int f = 0; f < 2; f++) {
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < 2 * 8 * 64; i++) data.append(i == 0 ? "" : ",").append(String.format(java.util.Locale.ROOT,
                    "%.4f", r.nextGaussian()));
            Files.writeString(requests.resolve(f + ".json"), "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,8,64],"
                    + "\"datatype\":\"FP32\",\"data\":[" + data + "]}]}");
        }
        CliRun run = CliRun.run(home, "quantize", "--from", model.toString(), "--inputs", requests.toString(), "--mode",
                "dynamic");
        assertEquals(ExitCodes.OK, run.exitCode(), run.err());
        assertTrue(run.out().contains("cost    on 4 examples of your inputs, int8 against float:"), run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.trim().startsWith("y: cosine mean")), run.out());

        CliRun squeezeModel = CliRun.run(home, "quantize", "--from", "nosuchrun", "--inputs", requests.toString());
        assertEquals(ExitCodes.BAD_INPUT, squeezeModel.exitCode());
        assertTrue(squeezeModel.err().contains("--inputs is for ONNX files"), squeezeModel.err());
    }

    @Test
    void refusalsAreOneLineWithExitCode2AndWriteNothing() throws IOException {
        Path junk = file("junk.onnx", "{\"not\": \"onnx\"}".getBytes());
        CliRun notOnnx = CliRun.run(home, "quantize", "--from", junk.toString());
        assertEquals(ExitCodes.BAD_INPUT, notOnnx.exitCode());
        assertEquals(1, notOnnx.errorLines(), notOnnx.err());
        assertTrue(notOnnx.err().contains("is not an ONNX model"), notOnnx.err());

        Path none = file("none.onnx", attention(false));
        CliRun nothing = CliRun.run(home, "quantize", "--from", none.toString());
        assertEquals(ExitCodes.BAD_INPUT, nothing.exitCode());
        assertEquals(1, nothing.errorLines(), nothing.err());
        assertTrue(nothing.err().contains("no node of the model is worth quantizing"), nothing.err());

        Path model = file("model.onnx", attention(true));
        CliRun statik = CliRun.run(home, "quantize", "--from", model.toString(), "--mode", "static");
        assertEquals(ExitCodes.BAD_INPUT, statik.exitCode());
        assertEquals(1, statik.errorLines(), statik.err());
        assertTrue(statik.err().contains("--mode static calibrates activation ranges on your inputs; give calibration "
                + "inputs with --inputs FILE|DIR"), statik.err());
        CliRun keep = CliRun.run(home, "quantize", "--from", model.toString(), "--keep-float", "nope");
        assertEquals(ExitCodes.BAD_INPUT, keep.exitCode());
        assertTrue(keep.err().contains("--keep-float nope: no MatMul, Gemm, Conv or Gather node of that name"), keep.err());

        try (Stream<Path> files = Files.walk(home)) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().startsWith("quantize-")), "no run folder");
        }
    }

    /**
     * x [batch, 64] through three MatMuls with Tanh between; the first's row 0 is 100 where its other weights are about
     * 0.12 and the inputs' feature 0 is 0: in float the row adds nothing, in int8 (scale 100/127 per column) it rounds
     * the rest of every column to zero. The other two nodes cost little.
     */
    private static byte[] outlier() {
        Random r = new Random(4);
        OnnxGraph g = new OnnxGraph("outlier");
        String x = g.input("x", F, -1, 64);
        String h = x;
        for (int layer = 0; layer < 3; layer++) {
            int outs = layer == 2 ? 32 : 64;
            float[] w = new float[64 * outs];
            for (int i = 0; i < w.length; i++) w[i] = layer == 0 && i < outs ? 100f : (float) (r.nextGaussian() / 8);
            h = g.matMul(h, g.floats("w" + layer, w, 64, outs));
            if (layer < 2) h = g.activation("Tanh", h, Map.of());
        }
        g.output("scores", h, F, -1, 32);
        return g.model(8, 17, "test", "", Map.of()).toByteArray();
    }

    private Path outlierInputs() throws IOException {
        Path requests = Files.createDirectories(home.resolve("outlier-requests"));
        Random r = new Random(6);
        for (int f = 0; f < 2; f++) {
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < 8 * 64; i++) data.append(i == 0 ? "" : ",").append(i % 64 == 0 ? "0" : String.format(
                    java.util.Locale.ROOT, "%.4f", r.nextGaussian()));
            Files.writeString(requests.resolve(f + ".json"), "{\"inputs\":[{\"name\":\"x\",\"shape\":[8,64],"
                    + "\"datatype\":\"FP32\",\"data\":[" + data + "]}]}");
        }
        return requests;
    }

    @Test
    void theBudgetLeavesTheMostSensitiveNodeFloatOrExitsWith1WritingTheClosest() throws IOException {
        Path model = file("outlier.onnx", outlier());
        Path inputs = outlierInputs();
        CliRun held = CliRun.run(home, "quantize", "--from", model.toString(), "--inputs", inputs.toString(),
                "--accuracy-budget", "cosine>=0.999", "--mode", "dynamic");
        assertEquals(ExitCodes.OK, held.exitCode(), held.err());
        List<String> lines = held.out().lines().toList();
        int table = lines.indexOf(lines.stream().filter(l -> l.startsWith("sensitivity (each node int8 alone, on output "
                + "scores, worst cosine first):")).findFirst().orElseThrow(() -> new AssertionError(held.out())));
        assertTrue(lines.get(table + 2).trim().startsWith("matmul_1_node"), "worst first:\n" + held.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("matmul_1_node") && l.contains("over budget (alone: cosine ")),
                held.out());
        assertTrue(held.out().contains("2 of 3 candidates"), held.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("budget  met (cosine>=0.999): cosine ")
                && l.endsWith("on scores, 2 of 3 nodes int8, left float: matmul_1_node")), held.out());

        Path out = home.resolve("closest.onnx");
        CliRun closest = CliRun.run(home, "quantize", "--from", model.toString(), "--inputs", inputs.toString(),
                "--accuracy-budget", "max-abs<=0", "--onnx-output", out.toString(), "--json", "--mode", "dynamic");
        assertEquals(ExitCodes.FAILURE, closest.exitCode(), closest.out());
        assertTrue(Files.isRegularFile(out), "the closest is written");
        assertEquals(1, closest.err().lines().filter(l -> l.startsWith("budget  NOT met (max-abs<=0): the closest, "
                + "written, has max-abs ")).count(), closest.err());
        assertTrue(closest.out().contains("\"budgetMet\" : false"), closest.out());
        assertTrue(closest.out().contains("\"sensitivity\" : [ {"), closest.out());
    }

    @Test
    void aBudgetWithoutInputsOrMalformedIsRefusedWithExitCode2() throws IOException {
        Path model = file("outlier.onnx", outlier());
        CliRun noInputs = CliRun.run(home, "quantize", "--from", model.toString(), "--accuracy-budget", "cosine>=0.99");
        assertEquals(ExitCodes.BAD_INPUT, noInputs.exitCode());
        assertEquals(1, noInputs.errorLines(), noInputs.err());
        assertTrue(noInputs.err().contains("--accuracy-budget cosine>=0.99 is measured on your inputs; give them with "
                + "--inputs"), noInputs.err());
        CliRun malformed = CliRun.run(home, "quantize", "--from", model.toString(), "--accuracy-budget", "cosine=>0.99");
        assertEquals(ExitCodes.BAD_INPUT, malformed.exitCode());
        assertEquals(1, malformed.errorLines(), malformed.err());
        assertTrue(malformed.err().contains("--accuracy-budget must be points for a Squeeze model (a number from 0 to "
                + "100) or, for an ONNX file, a bound on a figure: cosine>=X, "), malformed.err());
        CliRun points = CliRun.run(home, "quantize", "--from", model.toString(), "--accuracy-budget", "0.5", "--inputs",
                outlierInputs().toString());
        assertEquals(ExitCodes.BAD_INPUT, points.exitCode());
        assertTrue(points.err().contains("--accuracy-budget 0.5 is validation points, for a Squeeze model"), points.err());
        CliRun squeezeModel = CliRun.run(home, "quantize", "--from", "nosuchrun", "--accuracy-budget", "cosine>=0.99");
        assertEquals(ExitCodes.BAD_INPUT, squeezeModel.exitCode());
        assertTrue(squeezeModel.err().contains("--accuracy-budget cosine>=0.99 bounds a figure measured on an ONNX "
                + "file's inputs; a Squeeze model's budget is"), squeezeModel.err());
        try (Stream<Path> files = Files.walk(home)) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().startsWith("quantize-")), "no run folder");
        }
    }

    /** --inputs alone means static mode: calibrated on part of them, measured on the rest, integer kernels checked. */
    @Test
    void inputsAloneQuantizeStaticallyAndModeStaticWithAMethodToo() throws IOException {
        Path model = file("outlier.onnx", outlier());
        Path inputs = outlierInputs(); // 16 rows: 12 calibrate, 4 held out
        CliRun auto = CliRun.run(home, "quantize", "--from", model.toString(), "--inputs", inputs.toString(),
                "--keep-float", "matmul_1_node");
        assertEquals(ExitCodes.OK, auto.exitCode(), auto.err());
        assertTrue(auto.out().contains("2 of 3 candidates (static: weights symmetric per channel, activations uint8, "
                + "ranges calibrated by "), auto.out());
        assertTrue(auto.out().lines().anyMatch(l -> l.startsWith("calibration auto: ") && l.contains("on 12 calibration "
                + "examples; by top1-drop on scores: minmax ")), auto.out());
        // matmul_2 writes uint8 into matmul_3, which writes the float scores: QLinearMatMul, then MatMulIntegerToFloat.
        assertTrue(auto.out().contains("kernels MatMulIntegerToFloat, QLinearMatMul"), auto.out());
        assertTrue(auto.out().contains("cost    on 4 held-out examples of your inputs"), auto.out());

        CliRun percentile = CliRun.run(home, "quantize", "--from", model.toString(), "--inputs", inputs.toString(),
                "--keep-float", "matmul_1_node", "--mode", "static", "--calibration", "percentile", "--percentile", "99.9",
                "--json");
        assertEquals(ExitCodes.OK, percentile.exitCode(), percentile.err());
        assertTrue(percentile.out().contains("\"mode\" : \"static\""), percentile.out());
        assertTrue(percentile.out().contains("\"method\" : \"percentile\""), percentile.out());
        assertTrue(percentile.out().contains("\"percentile\" : 99.9"), percentile.out());
        assertEquals(3, CliRun.run(home, "runs", "--stage", "quantize").out().lines().count(), "header and two runs");
    }

    @Test
    void helpShowsTheOnnxOptions() {
        String help = CliRun.run(home, "quantize", "--help").out().replaceAll("\\s+", " "); // as picocli wraps it
        for (String line : new String[]{"--mode=MODE", "--onnx-output=FILE", "--keep-float=LAYER|NODE", "ONNX file",
                "--accuracy-budget=POINTS|FIGURE", "on the first output", "OUTPUT:", "top1-drop<=POINTS", "worst first"}) {
            assertTrue(help.contains(line), line + " in\n" + help);
        }
    }
}
