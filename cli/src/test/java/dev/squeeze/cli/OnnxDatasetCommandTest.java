package dev.squeeze.cli;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.onnx.OnnxGraph;
import dev.squeeze.core.Sha256;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code quantize --from model.onnx --dataset} and {@code distill --teacher model.onnx}, on a model trained one epoch
 * on the Fashion-MNIST fixture and exported by {@code squeeze export}.
 */
class OnnxDatasetCommandTest {
    @TempDir
    static Path home;
    private static Path exported;

    @BeforeAll
    static void trainAndExport() {
        CliRun train = CliRun.run(home, "train", "--model", "mlp-tiny", "--epochs", "1", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, train.exitCode(), train.err());
        String id = train.out().lines().findFirst().orElseThrow().split("\\s+")[1];
        exported = home.resolve("float.onnx");
        CliRun export = CliRun.run(home, "export", "--from", id, "--output", exported.toString(), "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, export.exitCode(), export.err());
    }

    @Test
    void quantizeMeasuresAccuracyOnTheDatasetsTestSplit() {
        CliRun q = CliRun.run(home, "quantize", "--from", exported.toString(), "--dataset", "fashion-mnist",
                "--data", CliRun.fixtures(), "--accuracy-budget", "accuracy-drop<=100");
        assertEquals(ExitCodes.OK, q.exitCode(), q.err());
        assertTrue(q.out().contains("cost    on 500 examples of the fashion-mnist test split"), q.out());
        assertTrue(q.out().lines().anyMatch(l -> l.startsWith("accuracy ") && l.contains("% float -> ")
                && l.contains("% int8 (drop ")), q.out());
        assertTrue(q.out().contains("budget  met (accuracy-drop<=100)"), q.out());
        String runs = CliRun.run(home, "runs", "--stage", "quantize").out();
        assertTrue(runs.contains("fashion-mnist"), runs);

        CliRun both = CliRun.run(home, "quantize", "--from", exported.toString(), "--dataset", "fashion-mnist",
                "--inputs", exported.toString());
        assertEquals(ExitCodes.BAD_INPUT, both.exitCode());
        assertEquals(1, both.errorLines(), both.err());
        assertTrue(both.err().contains("--inputs and --dataset"), both.err());

        CliRun penguins = CliRun.run(home, "quantize", "--from", exported.toString(), "--dataset",
                Path.of(System.getProperty("squeeze.fixtures"), "penguins", "penguins.csv").toString());
        assertEquals(ExitCodes.BAD_INPUT, penguins.exitCode(), penguins.err());
        assertTrue(penguins.err().contains("input FP32 [batch, 1, 28, 28]") && penguins.err().contains("penguins.csv"),
                penguins.err());

        CliRun squeezeModel = CliRun.run(home, "quantize", "--from", "nope", "--dataset", "fashion-mnist");
        assertEquals(ExitCodes.BAD_INPUT, squeezeModel.exitCode());
        assertTrue(squeezeModel.err().contains("--dataset is for ONNX files"), squeezeModel.err());
    }

    @Test
    void distillTakesAnOnnxTeacherAndRefusesOneWithAnotherClassCount() throws Exception {
        CliRun d = CliRun.run(home, "distill", "--teacher", exported.toString(), "--student", "mlp-tiny", "--epochs", "1",
                "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, d.exitCode(), d.err());
        String sha = Sha256.hex(Files.readAllBytes(exported)).substring(0, 12);
        assertTrue(d.out().contains("teacher float.onnx (sha256 " + sha + ")"), d.out());
        assertTrue(d.out().contains("student mlp-tiny distilled"), d.out());

        OnnxGraph g = new OnnxGraph("three");
        String x = g.input("pixels", OnnxMl.TensorProto.DataType.FLOAT, -1, 784);
        g.output("scores", g.gemm(x, g.floats("w", new float[784 * 3], 784, 3), g.floats("b", new float[3], 3)),
                OnnxMl.TensorProto.DataType.FLOAT, -1, 3);
        Path three = home.resolve("three.onnx");
        Files.write(three, g.model(8, 17, "test", "", Map.of()).toByteArray());
        CliRun refused = CliRun.run(home, "distill", "--teacher", three.toString(), "--student", "mlp-tiny",
                "--data", CliRun.fixtures());
        assertEquals(ExitCodes.BAD_INPUT, refused.exitCode(), refused.err());
        assertEquals(1, refused.errorLines(), refused.err());
        assertTrue(refused.err().contains("scores FP32 [batch, 3]") && refused.err().contains("10 classes"), refused.err());
    }
}
