package dev.squeeze.compress.distill;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunQuery;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.onnx.ExportService;
import dev.squeeze.compress.onnx.OnnxGraph;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.Sha256;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.LabeledData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code distill --teacher model.onnx}: a teacher trained two epochs on the Fashion-MNIST fixture through the real
 * loop and exported through the real export path, run in ONNX Runtime on raw pixels; a real SQLite ledger.
 */
class OnnxTeacherTest {
    @TempDir
    static Path home;
    private static TrainOutcome teacher;
    private static Path teacherOnnx;

    private static final TrainParams STUDENT = TrainParams.of("mlp-tiny", "fashion-mnist", 2, 60, 1e-3, 3, 3, 0.1, 0.8);

    private static Workspace workspace() {
        return new Workspace(home, home.resolve("ledger.db").toString());
    }

    private static DistillService service() {
        return new DistillService(workspace(), new DatasetLocator(null, null, null), TrainingMonitor.SILENT);
    }

    @BeforeAll
    static void trainAndExportTheTeacher() {
        DatasetLocator locator = new DatasetLocator(null, null, null);
        teacher = new TrainingService(workspace(), locator, TrainingMonitor.SILENT).train(
                TrainParams.of("lenet-300-100", "fashion-mnist", 2, 60, 1e-3, 1, 3, 0.1, 0.8), Fixtures.fashionMnistDir(), false);
        teacherOnnx = home.resolve("teacher.onnx");
        new ExportService(workspace(), locator, TrainingMonitor.SILENT).export(teacher.run().id(), teacherOnnx, 17,
                Fixtures.fashionMnistDir());
    }

    @Test
    void theSoftTargetsAreTheTeachersOnnxRuntimeLogitsOnRawPixels() throws Exception {
        Dataset dataset = DatasetLoader.load("fashion-mnist", Fixtures.fashionMnistDir());
        LabeledData raw = TrainingData.carve(dataset, STUDENT.validationFraction()).train();
        OnnxTeacher onnx = OnnxTeacher.read(teacherOnnx, dataset);
        // What distill computes for an ONNX teacher alone.
        float[] logits = TeacherLogits.average(List.of(), List.of(onnx.logits(raw, s -> { })), raw);
        int k = dataset.classNames().size();
        assertEquals(raw.size() * k, logits.length);

        // A session of our own on the file, fed raw pixels [n, 1, 28, 28] by hand, for a few rows.
        int[] rows = {0, 1, 7, raw.size() - 1};
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(Files.readAllBytes(teacherOnnx), new OrtSession.SessionOptions())) {
            for (int row : rows) {
                float[] pixels = Arrays.copyOfRange(raw.features(), row * 784, (row + 1) * 784);
                try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), new long[]{1, 1, 28, 28});
                     OrtSession.Result out = session.run(Map.of("input", in))) {
                    float[] expected = ((float[][]) out.get("logits").orElseThrow().getValue())[0];
                    float[] got = Arrays.copyOfRange(logits, row * k, (row + 1) * k);
                    assertArrayEquals(expected, got, 1e-4f, "row " + row);
                }
            }
        }
        // The raw pixels normalized in the graph give the logits of the DL4J teacher fed normalized pixels.
        float[] dl4j = TeacherLogits.average(List.of(ModelFile.load(teacher.paths().model(), false)), raw);
        for (int row : rows) {
            for (int j = 0; j < k; j++) assertEquals(dl4j[row * k + j], logits[row * k + j], 1e-3, "row " + row);
        }
        // And the soft targets the student learns from are their tempered softmax.
        float[] soft = TeacherLogits.softTargets(logits, k, 4.0);
        for (int row : rows) {
            double sum = 0;
            for (int j = 0; j < k; j++) sum += soft[row * k + j];
            assertEquals(1.0, sum, 1e-5);
        }
    }

    @Test
    void distilsFromAnOnnxTeacherAndRecordsItsSha256() throws Exception {
        DistillOutcome outcome = service().distill(List.of(teacherOnnx.toString()), STUDENT, List.of(4.0), 0.7,
                Fixtures.fashionMnistDir());
        String sha = Sha256.hex(Files.readAllBytes(teacherOnnx));
        assertEquals(1, outcome.teachers().size());
        DistillOutcome.Row row = outcome.teachers().get(0);
        assertNull(row.runId(), "an ONNX teacher has no run");
        assertTrue(row.what().contains("teacher.onnx") && row.what().contains(sha.substring(0, 12)), row.what());
        // Its test accuracy, measured in ONNX Runtime, is the exported graph's: the teacher run's own.
        assertEquals(teacher.run().testAcc(), row.testAccuracy(), 0.01);
        assertTrue(outcome.best().testAccuracy() > 0.5, outcome.format());

        try (RunLedger ledger = workspace().openLedger()) {
            RunRecord run = ledger.query(RunQuery.all().withStage(DistillService.STAGE)).get(0);
            assertTrue(run.configJson().contains("sha256:" + sha), run.configJson());
            assertTrue(run.details().contains("\"sha256\":\"" + sha + "\""), run.details());
            assertNull(run.parentId());
        }
        // The same file again: the same run.
        DistillOutcome again = service().distill(List.of(teacherOnnx.toString()), STUDENT, List.of(4.0), 0.7,
                Fixtures.fashionMnistDir());
        assertEquals(outcome.best().runId(), again.best().runId());
    }

    @Test
    void aTeacherWithAnotherClassCountIsRefusedNamingItsOutput() throws Exception {
        OnnxGraph g = new OnnxGraph("three");
        String x = g.input("pixels", OnnxMl.TensorProto.DataType.FLOAT, -1, 1, 28, 28);
        float[] w = new float[784 * 3];
        Arrays.fill(w, 0.001f);
        g.output("scores", g.gemm(g.flatten(x), g.floats("w", w, 784, 3), g.floats("b", new float[3], 3)),
                OnnxMl.TensorProto.DataType.FLOAT, -1, 3);
        Path three = home.resolve("three-classes.onnx");
        int trainedBefore = trainRuns();
        Files.write(three, g.model(8, 17, "test", "three classes", Map.of()).toByteArray());
        var e = assertThrows(BadInputException.class, () -> service().distill(List.of(three.toString()), STUDENT,
                List.of(4.0), 0.7, Fixtures.fashionMnistDir()));
        assertTrue(e.getMessage().contains("scores FP32 [batch, 3]") && e.getMessage().contains("10 classes"),
                e.getMessage());

        OnnxGraph small = new OnnxGraph("small");
        String y = small.input("x", OnnxMl.TensorProto.DataType.FLOAT, -1, 4);
        small.output("logits", small.gemm(y, small.floats("w", new float[40], 4, 10), small.floats("b", new float[10], 10)),
                OnnxMl.TensorProto.DataType.FLOAT, -1, 10);
        Path four = home.resolve("four-features.onnx");
        Files.write(four, small.model(8, 17, "test", "four features", Map.of()).toByteArray());
        var input = assertThrows(BadInputException.class, () -> service().distill(List.of(four.toString()), STUDENT,
                List.of(4.0), 0.7, Fixtures.fashionMnistDir()));
        assertTrue(input.getMessage().contains("x FP32 [batch, 4]") && input.getMessage().contains("784 features"),
                input.getMessage());
        assertEquals(trainedBefore, trainRuns(), "refused before the student trained");
    }

    private static int trainRuns() {
        try (RunLedger ledger = workspace().openLedger()) {
            return ledger.query(RunQuery.all()).size();
        }
    }

    @Test
    void probabilitiesAreRecognisedAsSuch() {
        assertTrue(OnnxTeacher.probabilities(new float[]{0.25f, 0.75f, 1f, 0f}, 2));
        assertTrue(!OnnxTeacher.probabilities(new float[]{0.25f, 0.75f, 2f, -1f}, 2));
    }
}
