package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunQuery;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.onnx.ExportOutcome;
import dev.squeeze.compress.onnx.ExportService;
import dev.squeeze.compress.onnx.OnnxGraph;
import dev.squeeze.compress.onnx.inputs.DatasetInputs;
import dev.squeeze.compress.onnx.inputs.InputBatch;
import dev.squeeze.compress.onnx.inputs.ModelSignature;
import dev.squeeze.compress.onnx.inputs.OutputFigures;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.quant.QuantizeService;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.ExportProvenance;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.LabeledData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code quantize --from model.onnx --dataset}: a float model trained two epochs on the Fashion-MNIST fixture through
 * the real loop, exported through the real export path, quantized and measured on the fixture's test split in ONNX
 * Runtime; a real SQLite ledger.
 */
class OnnxQuantizeDatasetTest {
    @TempDir
    static Path home;
    private static Path floatModel;
    private static ExportOutcome exported;

    private static Workspace workspace() {
        return new Workspace(home, home.resolve("ledger.db").toString());
    }

    private static OnnxQuantizeService service() {
        return new OnnxQuantizeService(workspace(), new DatasetLocator(null, null, null), TrainingMonitor.SILENT);
    }

    private static OnnxData fashionMnist() {
        return OnnxData.dataset("fashion-mnist", Fixtures.fashionMnistDir(), null);
    }

    @BeforeAll
    static void trainAndExport() {
        DatasetLocator locator = new DatasetLocator(null, null, null);
        var trained = new TrainingService(workspace(), locator, TrainingMonitor.SILENT).train(
                TrainParams.of("mlp-tiny", "fashion-mnist", 2, 60, 1e-3, 5, 3, 0.1, 0.8), Fixtures.fashionMnistDir(), false);
        floatModel = home.resolve("float.onnx");
        exported = new ExportService(workspace(), locator, TrainingMonitor.SILENT).export(trained.run().id(), floatModel,
                17, Fixtures.fashionMnistDir());
    }

    @Test
    void measuresFloatAndInt8AccuracyOnTheTestSplitAndRecordsIt() throws Exception {
        Dataset data = DatasetLoader.load("fashion-mnist", Fixtures.fashionMnistDir());
        OnnxQuantizeOutcome o = service().quantizeOn(floatModel, QuantParams.DEFAULTS, null, fashionMnist());

        assertEquals("fashion-mnist", o.dataset());
        assertEquals(data.test().size(), o.figures().examples(), "every test example, nothing else");
        OutputFigures accuracy = o.figures().accuracy();
        assertNotNull(accuracy, o.format());
        // The float model's accuracy is what export measured for the same file in ONNX Runtime on the same test split.
        assertEquals(100 * exported.onnxTestAccuracy(), accuracy.floatAccuracyPct(), 1e-9);
        assertEquals(accuracy.floatAccuracyPct() - accuracy.quantizedAccuracyPct(), accuracy.accuracyDropPoints(), 1e-12);
        assertTrue(o.format().contains("on the fashion-mnist test split"), o.format());
        assertTrue(o.format().contains("accuracy " + String.format(java.util.Locale.ROOT, "%.2f%% float -> %.2f%% int8",
                accuracy.floatAccuracyPct(), accuracy.quantizedAccuracyPct())), o.format());

        try (RunLedger ledger = workspace().openLedger()) {
            RunRecord row = ledger.get(o.runId()).orElseThrow();
            assertEquals("fashion-mnist", row.dataset());
            assertEquals(accuracy.quantizedAccuracyPct() / 100, row.testAcc(), 1e-12);
            assertTrue(row.configJson().contains("dataset:fashion-mnist sha256:"), row.configJson());
        }
        Map<String, String> metadata = new HashMap<>();
        OnnxMl.ModelProto.parseFrom(Files.readAllBytes(Path.of(o.model()))).getMetadataPropsList()
                .forEach(e -> metadata.put(e.getKey(), e.getValue()));
        ExportProvenance.AccuracyAtExport at = ExportProvenance.read(metadata).orElseThrow().accuracyAtExport();
        assertEquals(accuracy.quantizedAccuracyPct() / 100, at.testAccuracy(), 1e-12);
        assertEquals(data.test().size(), at.examples());
        assertEquals("fashion-mnist", at.dataset(), "bench measures on the dataset the provenance names");

        // The same file and dataset again: the same run; a bound on the accuracy drop is another.
        assertEquals(o.runId(), service().quantizeOn(floatModel, QuantParams.DEFAULTS, null, fashionMnist()).runId());
        OnnxQuantizeOutcome budgeted = service().quantizeOn(floatModel, QuantParams.SETTINGS.with(QuantParams.DEFAULTS,
                "accuracyBudget", "accuracy-drop<=100"), null, fashionMnist());
        assertNotEquals(o.runId(), budgeted.runId());
        assertEquals(Boolean.TRUE, budgeted.budgetMet());
        assertTrue(budgeted.budgetLine().contains("accuracy-drop"), budgeted.budgetLine());
    }

    @Test
    void calibrationComesFromTheTrainingSplitAndEvaluationIsTheWholeTestSplit() {
        Dataset data = DatasetLoader.load("fashion-mnist", Fixtures.fashionMnistDir());
        ModelSignature signature = ModelSignature.of(floatModel);
        DatasetInputs inputs = DatasetInputs.of(data, signature, 300);

        assertEquals(300, inputs.calibrationExamples());
        assertArrayEquals(QuantizeService.sample(data.train(), 300).features(), features(inputs.calibration()),
                "the calibration examples are the seeded sample of the training split");
        assertArrayEquals(data.test().features(), features(inputs.evaluation()), "the evaluation examples are the test split");
        assertArrayEquals(Arrays.stream(data.test().labels()).asLongStream().toArray(), inputs.evaluationLabels());
        // Each row laid out as the model's input declares it: [batch, 1, 28, 28].
        long[] shape = inputs.evaluation().get(0).inputs().get(signature.inputs().get(0).name()).shape();
        assertArrayEquals(new long[]{32, 1, 28, 28}, shape);
        assertTrue(inputs.split().calibration().equals(inputs.calibration())
                && inputs.split().evaluation().equals(inputs.evaluation()));

        // Another subset of the data is another dataset in the run's identity.
        LabeledData fewer = data.test().head(100);
        Dataset cut = new Dataset() {
            public String name() { return data.name(); }
            public List<String> classNames() { return data.classNames(); }
            public long[] inputShape() { return data.inputShape(); }
            public LabeledData train() { return data.train(); }
            public LabeledData test() { return fewer; }
            public List<dev.squeeze.models.data.FeatureColumn> columns() { return data.columns(); }
        };
        assertNotEquals(inputs.sha256(), DatasetInputs.of(cut, signature, 300).sha256());
        assertEquals(inputs.sha256(), DatasetInputs.of(data, signature, 10).sha256(), "the content, not the sample size");
    }

    private static float[] features(List<InputBatch> batches) {
        int n = batches.stream().mapToInt(b -> b.inputs().values().iterator().next().size()).sum();
        float[] out = new float[n];
        int at = 0;
        for (InputBatch b : batches) {
            float[] part = (float[]) b.inputs().values().iterator().next().data();
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        return out;
    }

    @Test
    void aModelThatDoesNotTakeTheDatasetsFeaturesIsRefusedNamingItsInput() throws Exception {
        Path cnn = home.resolve("cnn.onnx");
        Files.write(cnn, TestGraphs.cnn().toByteArray());
        var e = assertThrows(BadInputException.class, () -> service().quantizeOn(cnn, QuantParams.DEFAULTS, null,
                fashionMnist()));
        assertTrue(e.getMessage().contains("image FP32 [batch, 3, 16, 16]") && e.getMessage().contains("768 values")
                && e.getMessage().contains("784 features"), e.getMessage());

        OnnxGraph g = new OnnxGraph("two");
        String a = g.input("a", OnnxMl.TensorProto.DataType.FLOAT, -1, 784);
        String b = g.input("b", OnnxMl.TensorProto.DataType.FLOAT, -1, 784);
        float[] w = new float[784 * 10];
        Arrays.fill(w, 0.01f);
        g.output("scores", g.matMul(g.add(a, b), g.floats("w", w, 784, 10)), OnnxMl.TensorProto.DataType.FLOAT, -1, 10);
        Path two = home.resolve("two.onnx");
        Files.write(two, g.model(8, 17, "test", "two inputs", Map.of()).toByteArray());
        var twoInputs = assertThrows(BadInputException.class, () -> service().quantizeOn(two, QuantParams.DEFAULTS, null,
                fashionMnist()));
        assertTrue(twoInputs.getMessage().contains("2 inputs (a FP32 [batch, 784], b FP32 [batch, 784])"),
                twoInputs.getMessage());
        try (RunLedger ledger = workspace().openLedger()) {
            assertTrue(ledger.query(RunQuery.all().withStage("quantize")).stream()
                    .noneMatch(r -> r.model().equals("cnn.onnx") || r.model().equals("two.onnx")), "refused before any run");
        }
    }

    @Test
    void datasetAndInputsTogetherAreRefusedAndAnAccuracyBudgetNeedsLabels() throws Exception {
        var both = assertThrows(BadInputException.class, () -> new OnnxData(home, "fashion-mnist", null, null));
        assertTrue(both.getMessage().contains("--inputs and --dataset"), both.getMessage());

        Path model = home.resolve("outlier.onnx");
        Files.write(model, TestGraphs.outlier().toByteArray());
        Path inputs = TestGraphs.outlierInputs(home.resolve("requests"), 2, 4);
        var unlabelled = assertThrows(BadInputException.class, () -> service().quantizeOn(model,
                QuantParams.SETTINGS.with(QuantParams.DEFAULTS, "accuracyBudget", "accuracy-drop<=1"), null,
                OnnxData.inputs(inputs)));
        assertTrue(unlabelled.getMessage().contains("needs labels"), unlabelled.getMessage());
    }
}
