package dev.squeeze.compress.onnx;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.prune.PruneControl;
import dev.squeeze.compress.prune.PruneOutcome;
import dev.squeeze.compress.prune.PruneParams;
import dev.squeeze.compress.prune.PruneScope;
import dev.squeeze.compress.prune.PruneService;
import dev.squeeze.compress.prune.Structure;
import dev.squeeze.compress.quant.ConvActivations;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.quant.QuantizeOutcome;
import dev.squeeze.compress.quant.QuantizeService;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.core.ExportProvenance;
import dev.squeeze.core.BadInputException;
import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.LabeledData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code squeeze export} of real runs (trained, quantized, pruned) on fixture data, with a real SQLite ledger. */
class ExportServiceTest {
    @TempDir
    static Path home;
    private static TrainOutcome dense;

    private static final TrainParams DENSE = TrainParams.of("mlp-tiny", "fashion-mnist", 2, 60, 1e-3, 5, 3, 0.1, 0.8);

    private static Workspace workspace() {
        return new Workspace(home, home.resolve("ledger.db").toString());
    }

    private static DatasetLocator locator() {
        return new DatasetLocator(null, null, null);
    }

    private static ExportOutcome export(String from, Path output) {
        return new ExportService(workspace(), locator(), TrainingMonitor.SILENT).export(from, output, 17, Fixtures.fashionMnistDir());
    }

    private static ExportOutcome export(String from, Path output, SparseStorage sparse) {
        return new ExportService(workspace(), locator(), TrainingMonitor.SILENT).export(from, output,
                new ExportParams(null, 17, sparse), Fixtures.fashionMnistDir());
    }

    /** Probabilities ONNX Runtime computes with the file at {@code onnx} for every fixture test example. */
    private static float[][] onnxRuntime(Path onnx) throws Exception {
        LabeledData raw = DatasetLoader.load("fashion-mnist", Fixtures.fashionMnistDir()).test();
        try (OnnxRuntimeModel ort = new OnnxRuntimeModel(Files.readAllBytes(onnx), new long[]{1, 28, 28}, 1, null)) {
            return ort.runAll(OnnxExporter.PROBABILITIES, raw);
        }
    }

    @BeforeAll
    static void trainDense() {
        dense = new TrainingService(workspace(), locator(), TrainingMonitor.SILENT).train(DENSE, Fixtures.fashionMnistDir(), false);
    }

    private static Map<String, String> metadata(Path onnx) throws Exception {
        Map<String, String> out = new HashMap<>();
        for (var e : OnnxMl.ModelProto.parseFrom(Files.readAllBytes(onnx)).getMetadataPropsList()) out.put(e.getKey(), e.getValue());
        return out;
    }

    @Test
    void aFloatExportCarriesItsLabelsInputAndProvenanceAndRecordsARun() throws Exception {
        Path out = home.resolve("float.onnx");
        ExportOutcome o = export(dense.run().id(), out);
        assertEquals(dense.run().testAcc(), o.onnxTestAccuracy(), 0.0, "ORT on raw pixels = DL4J on normalized ones");
        assertEquals(1.0, o.top1Agreement());
        assertTrue(o.maxAbsDifference() <= 1e-4, o.format());

        OnnxMl.ModelProto model = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(out));
        assertEquals(8, model.getIrVersion());
        assertEquals(17, model.getOpsetImport(0).getVersion());
        assertEquals(OnnxGraph.BATCH, model.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).getDimParam());
        var dims = model.getGraph().getInput(0).getType().getTensorType().getShape().getDimList();
        assertEquals(java.util.List.of(1L, 28L, 28L), dims.subList(1, 4).stream().map(d -> d.getDimValue()).toList());
        Map<String, String> meta = metadata(out);
        JsonNode classes = new ObjectMapper().readTree(meta.get("classes"));
        assertEquals(10, classes.size());
        assertEquals("T-shirt/top", classes.get(0).asText());
        assertTrue(meta.get("input").contains("raw pixel values 0-255"), meta.get("input"));
        ExportProvenance p = ExportProvenance.read(meta).orElseThrow();
        assertEquals(o.runId(), p.exportRun());
        assertEquals(dense.run().id(), p.sourceRun());
        assertEquals(dense.run().configHash(), p.sourceConfigHash());
        assertEquals(new ExportProvenance.ParentRun(dense.run().id(), "train"), p.parentRuns().get(0));
        assertEquals("float", p.mode());
        assertEquals(o.onnxTestAccuracy(), p.accuracyAtExport().testAccuracy(), 0.0);
        assertEquals("fashion-mnist", p.accuracyAtExport().dataset());
        assertEquals("1.0.0-M2.1", p.libraries().deeplearning4j());
        assertFalse(p.libraries().onnxruntime().isEmpty());
        // The stored JSON keeps the field names files were first exported with (bench and serve read old files too).
        JsonNode raw = new ObjectMapper().readTree(meta.get(ExportProvenance.METADATA_KEY));
        assertEquals(dense.run().id() + " (train)", raw.get("parent_runs").get(0).asText());
        assertEquals(o.onnxTestAccuracy(), raw.get("accuracy_at_export").get("test_accuracy").asDouble(), 0.0);

        try (RunLedger ledger = RunLedger.open(workspace().ledgerLocation())) {
            RunRecord row = ledger.get(o.runId()).orElseThrow();
            assertEquals(ExportService.STAGE, row.stage());
            assertEquals(dense.run().id(), row.parentId());
            assertEquals(Files.size(out), row.fileBytes());
        }
    }

    @Test
    void anIdenticalExportIsReusedAndCopiedToEachOutput() throws Exception {
        ExportOutcome first = export(dense.run().id(), home.resolve("reuse-a.onnx"));
        ExportOutcome second = export(dense.run().id(), home.resolve("reuse-b.onnx"));
        assertEquals(first.runId(), second.runId(), "the finished export is reused, not measured again");
        assertEquals(home.resolve("reuse-b.onnx").toString(), second.output());
        assertArrayEquals(Files.readAllBytes(home.resolve("reuse-a.onnx")), Files.readAllBytes(home.resolve("reuse-b.onnx")));
        try (RunLedger ledger = RunLedger.open(workspace().ledgerLocation())) {
            RunRecord row = ledger.get(first.runId()).orElseThrow();
            Path folder = Path.of(row.artifactDir());
            assertEquals("export-" + row.configHash(), folder.getFileName().toString(), "a run folder named by the hash");
            assertTrue(Files.isRegularFile(folder.resolve("outcome.json")));
            assertArrayEquals(Files.readAllBytes(folder.resolve("model.onnx")), Files.readAllBytes(home.resolve("reuse-a.onnx")));
        }
        ExportOutcome newOpset = new ExportService(workspace(), locator(), TrainingMonitor.SILENT)
                .export(dense.run().id(), home.resolve("reuse-c.onnx"), 18, Fixtures.fashionMnistDir());
        assertNotEquals(first.runId(), newOpset.runId(), "other settings, another export");
    }

    @Test
    void aFourBitExportIsWrittenAtOpset21AndRunsOnMatMulNBits() throws Exception {
        QuantParams fourBit = QuantParams.SETTINGS.with(QuantParams.DEFAULTS, "bits", QuantParams.FOUR_BITS);
        QuantizeOutcome q = new QuantizeService(workspace(), locator(), TrainingMonitor.SILENT)
                .quantize(dense.run().id(), fourBit, Fixtures.fashionMnistDir());
        var forced = assertThrows(BadInputException.class, () -> new ExportService(workspace(), locator(),
                TrainingMonitor.SILENT).export(q.model(), home.resolve("int4-19.onnx"), 19, Fixtures.fashionMnistDir()));
        assertTrue(forced.getMessage().startsWith("--opset 19: this model has 4-bit weights")
                && forced.getMessage().contains("give --opset 21"), forced.getMessage());
        assertFalse(Files.exists(home.resolve("int4-19.onnx")));

        Path out = home.resolve("int4.onnx");
        ExportOutcome o = export(q.model(), out);   // the default opset, raised
        assertEquals("int4", o.mode());
        assertEquals(21, o.opset());
        assertEquals(21, OnnxMl.ModelProto.parseFrom(Files.readAllBytes(out)).getOpsetImport(0).getVersion());
        assertEquals("MatMulNBits", o.fusedOperators(), o.format());
        // ONNX Runtime's default accuracy level quantizes activations inside MatMulNBits: top-1 is compared.
        assertTrue(o.top1Agreement() >= 0.98, o.format());
        ExportOutcome int8 = export(new QuantizeService(workspace(), locator(), TrainingMonitor.SILENT)
                .quantize(dense.run().id(), QuantParams.DEFAULTS, Fixtures.fashionMnistDir()).model(), home.resolve("8.onnx"));
        // Half a byte a weight instead of one, less a float scale per 32 weights: 0.375 bytes a weight saved.
        assertTrue(int8.fileBytes() - o.fileBytes() >= 0.35 * o.params(), o.fileBytes() + " vs " + int8.fileBytes());
        assertEquals("int4", ExportProvenance.read(metadata(out)).orElseThrow().mode());
    }

    @Test
    void anInt8ExportRunsOnIntegerKernelsAndAgreesWithTheNd4jInt8Model() throws Exception {
        QuantizeOutcome q = new QuantizeService(workspace(), locator(), TrainingMonitor.SILENT)
                .quantize(dense.run().id(), QuantParams.DEFAULTS, Fixtures.fashionMnistDir());
        Path out = home.resolve("int8.onnx");
        ExportOutcome o = export(q.model(), out);
        assertEquals("int8", o.mode());
        assertTrue(o.fusedOperators().contains("QGemm"), o.format());
        assertTrue(o.top1Agreement() >= 0.995, o.format());
        assertTrue(Math.abs(o.onnxTestAccuracy() - q.int8TestAcc()) <= 0.002 + 1e-9, o.format());
        ExportOutcome f = export(dense.run().id(), home.resolve("float-for-int8.onnx"));
        assertTrue(o.fileBytes() < 0.35 * f.fileBytes(), "int8 ONNX is about a quarter of the float one: " + o.fileBytes()
                + " vs " + f.fileBytes());
        ExportProvenance p = ExportProvenance.read(metadata(out)).orElseThrow();
        assertEquals(q.runId(), p.sourceRun());
        assertEquals("int8", p.mode());
        assertEquals(java.util.List.of("quantize", "train"), p.parentStages(), "quantize run, then the training run");
    }

    @Test
    void prunedTicketsReportTheirZerosAndStructuredOnesArePhysicallySmaller() {
        PruneService prune = new PruneService(workspace(), locator(), TrainingMonitor.SILENT);
        PruneOutcome ticket = prune.prune(new PruneParams(null, 2, 0.5, "0", PruneScope.LAYER, PruneControl.NONE),
                dense.run().id(), Fixtures.fashionMnistDir());
        ExportOutcome zeros = export(ticket.ticket().toString(), home.resolve("ticket.onnx"), SparseStorage.NEVER);
        assertTrue(zeros.nonzeroParams() < 0.4 * zeros.params(), zeros.format());
        assertTrue(zeros.zippedBytes() < 0.75 * zeros.fileBytes(), "zeros compress: " + zeros.format());
        assertTrue(zeros.sparseInitializers().isEmpty() && zeros.denseFileBytes() == zeros.fileBytes(), zeros.format());

        PruneOutcome structured = prune.prune(new PruneParams(null, 1, 0.5, "0", PruneScope.LAYER, PruneControl.NONE,
                Structure.NEURONS), dense.run().id(), Fixtures.fashionMnistDir());
        ExportOutcome smaller = export(structured.ticket().toString(), home.resolve("structured.onnx"));
        ExportOutcome full = export(dense.run().id(), home.resolve("dense-again.onnx"));
        assertTrue(smaller.params() < 0.6 * full.params() && smaller.fileBytes() < 0.6 * full.fileBytes(),
                smaller.format() + full.format());
    }

    /**
     * A ticket with its hidden layer at about 10% is written with that layer sparse, float and int8: ONNX Runtime
     * computes exactly what it computes with the dense file of the same weights, the int8 file still runs on integer
     * kernels, and both files are smaller. The unpruned model's export has nothing sparse.
     */
    @Test
    void prunedWeightsAreWrittenSparseAndComputeWhatTheDenseFileDoes() throws Exception {
        PruneOutcome ticket = new PruneService(workspace(), locator(), TrainingMonitor.SILENT).prune(
                new PruneParams(null, 3, 0.55, "0", PruneScope.LAYER, PruneControl.NONE), dense.run().id(),
                Fixtures.fashionMnistDir());
        QuantizeOutcome int8 = new QuantizeService(workspace(), locator(), TrainingMonitor.SILENT)
                .quantize(ticket.ticket().toString(), QuantParams.DEFAULTS, Fixtures.fashionMnistDir());
        for (String from : List.of(ticket.ticket().toString(), int8.model())) {
            boolean isInt8 = from.equals(int8.model());
            Path sparseFile = home.resolve((isInt8 ? "int8" : "float") + "-sparse.onnx");
            Path denseFile = home.resolve((isInt8 ? "int8" : "float") + "-dense.onnx");
            ExportOutcome sparse = export(from, sparseFile);
            ExportOutcome dense = export(from, denseFile, SparseStorage.NEVER);
            assertEquals("auto", sparse.sparse());
            // The output layer loses half the rate (38% left): smaller sparse as float (6 bytes a value with its
            // int16 index, against 4 for every element), not as int8 (3 against 1).
            assertEquals(isInt8 ? 1 : 2, sparse.sparseInitializers().size(), sparse.format());
            SparseInitializers.SparseTensor hidden = sparse.sparseInitializers().get(0);
            assertEquals(List.of(784L, 32L), hidden.shape());
            assertEquals(isInt8 ? "INT8" : "FLOAT", hidden.type());
            if (isInt8) {
                // An int8 weight has at most 255 values: packed, 8-bit codes and their gaps, is smaller than 3 bytes a
                // value with its int16 index.
                assertTrue(hidden.packing().startsWith("packed, "), hidden.toString());
            } else {
                assertEquals("INT16", hidden.indexType(), "784x32 elements: int16 indices");
                assertNull(hidden.packing());
            }
            assertTrue(hidden.density() > 0.07 && hidden.density() < 0.12, sparse.format());
            assertEquals(Files.size(sparseFile), sparse.fileBytes());
            assertTrue(sparse.fileBytes() < 0.5 * sparse.denseFileBytes(), sparse.format());
            assertTrue(Math.abs(sparse.denseFileBytes() - dense.fileBytes()) < 64, "the same file but for its run ids: "
                    + sparse.denseFileBytes() + " vs " + dense.fileBytes());
            assertTrue(sparse.format().contains("sparse  " + hidden.name() + " [784, 32]"), sparse.format());
            assertEquals(0, OnnxMl.ModelProto.parseFrom(Files.readAllBytes(denseFile)).getGraph().getSparseInitializerCount());
            assertEquals(sparse.sparseInitializers().stream().filter(t -> t.packing() == null).count(),
                    OnnxMl.ModelProto.parseFrom(Files.readAllBytes(sparseFile)).getGraph().getSparseInitializerCount());

            float[][] want = onnxRuntime(denseFile);
            float[][] got = onnxRuntime(sparseFile);
            for (int i = 0; i < want.length; i++) assertArrayEquals(want[i], got[i], "example " + i);
            assertEquals(dense.onnxTestAccuracy(), sparse.onnxTestAccuracy(), 0.0);
            assertEquals(dense.fusedOperators(), sparse.fusedOperators());
            if (isInt8) assertTrue(sparse.fusedOperators().contains("QGemm"), sparse.format());
            // --json and the ledger's outcome carry the sparse tensors.
            ExportOutcome read = Json.read(sparse.json(), ExportOutcome.class);
            assertEquals(sparse.sparseInitializers(), read.sparseInitializers());
            assertEquals(sparse.denseFileBytes(), read.denseFileBytes());
        }
        ExportOutcome unpruned = export(dense.run().id(), home.resolve("unpruned.onnx"));
        assertTrue(unpruned.sparseInitializers().isEmpty(), unpruned.format());
        assertEquals(unpruned.fileBytes(), unpruned.denseFileBytes());
        assertTrue(unpruned.format().contains("(no weight smaller sparse)"), unpruned.format());
        // Fashion-MNIST's normalization is one mean and std for every pixel: written as one value each, not 784.
        Map<String, OnnxMl.TensorProto> constants = new HashMap<>();
        OnnxMl.ModelProto.parseFrom(Files.readAllBytes(home.resolve("unpruned.onnx"))).getGraph().getInitializerList()
                .forEach(t -> constants.put(t.getName(), t));
        assertEquals(List.of(), constants.get("normalization_mean").getDimsList());
        assertEquals(List.of(), constants.get("normalization_inverse_std").getDimsList());
    }

    /**
     * Weight sharing at 15 values (Deep Compression's) of an int8 ticket: each pruned layer packs its non-zero weights
     * as 4-bit codes and their gaps, the file is smaller than the unshared int8 ticket's, and ONNX Runtime, which
     * unpacks them at load and still runs its integer kernels, computes the accuracy the int8 model computes in ND4J.
     */
    @Test
    void sharedWeightsOfAPrunedInt8ModelArePackedInFourBitCodes() throws Exception {
        PruneOutcome ticket = new PruneService(workspace(), locator(), TrainingMonitor.SILENT).prune(
                new PruneParams(null, 3, 0.55, "0", PruneScope.LAYER, PruneControl.NONE), dense.run().id(),
                Fixtures.fashionMnistDir());
        QuantizeService quantize = new QuantizeService(workspace(), locator(), TrainingMonitor.SILENT);
        QuantizeOutcome int8 = quantize.quantize(ticket.ticket().toString(), QuantParams.DEFAULTS, Fixtures.fashionMnistDir());
        QuantizeOutcome shared = quantize.quantize(ticket.ticket().toString(),
                QuantParams.SETTINGS.with(QuantParams.DEFAULTS, "weightSharing", 15), Fixtures.fashionMnistDir());
        assertNotEquals(int8.runId(), shared.runId(), "another setting, another run");
        ExportOutcome unshared = export(int8.model(), home.resolve("unshared.onnx"));
        ExportOutcome packed = export(shared.model(), home.resolve("shared.onnx"));
        SparseInitializers.SparseTensor hidden = packed.sparseInitializers().get(0);
        assertTrue(hidden.packing().contains("4-bit codes of "), packed.format());
        assertTrue(packed.fileBytes() < unshared.fileBytes(), packed.format() + unshared.format());
        assertEquals(shared.int8TestAcc(), packed.onnxTestAccuracy(), 1e-9, "ONNX Runtime computes what ND4J does");
        assertEquals(1.0, packed.top1Agreement(), 0.0);
        assertTrue(packed.fusedOperators().contains("QGemm"), packed.format());
        assertTrue(packed.format().contains("packed, "), packed.format());
    }

    /**
     * {@code quantize --conv-activations float} of a CNN, with quantization-aware training (the convolutions' weights
     * fake-quantized, their activations float): the run's notes and console table say so, and the export is checked as
     * every int8 export is (ONNX Runtime's top-1 against ND4J's), with the dense layers on the integer kernels and the
     * convolutions on the float one.
     */
    @Test
    void floatConvolutionActivationsExportRunsConvolutionsInFloatAndDenseLayersInInt8() {
        TrainOutcome lenet5 = new TrainingService(workspace(), locator(), TrainingMonitor.SILENT).train(
                TrainParams.of("lenet-5", "fashion-mnist", 1, 60, 1e-3, 5, 1, 0.1, 0.8), Fixtures.fashionMnistDir(), false);
        QuantizeOutcome q = new QuantizeService(workspace(), locator(), TrainingMonitor.SILENT).quantize(
                lenet5.run().id(), QuantParams.SETTINGS.with(QuantParams.SETTINGS.with(QuantParams.DEFAULTS,
                        "convActivations", ConvActivations.FLOAT), "qatEpochs", 1), Fixtures.fashionMnistDir());
        assertEquals(1, q.kept().qatEpochs(), "the quantization-aware training's model is kept: " + q.trials());
        try (RunLedger ledger = RunLedger.open(workspace().ledgerLocation())) {
            String notes = ledger.get(q.runId()).orElseThrow().notes();
            assertTrue(notes.contains("float convolutions"), notes);
        }
        assertTrue(q.format().contains("int8 channel, float convolutions"), "the console table says so too: " + q.format());
        ExportOutcome o = export(q.model(), home.resolve("float-convolutions.onnx"));
        assertTrue(o.fusedOperators().contains("QGemm") && !o.fusedOperators().contains("QLinearConv"), o.format());
        assertTrue(o.top1Agreement() >= 0.995, o.format());
        assertEquals(q.int8TestAcc(), o.onnxTestAccuracy(), 0.005, o.format());
    }

    @Test
    void badInputLeavesNoFileBehind() throws Exception {
        Path notAModel = home.resolve("notes.txt");
        Files.writeString(notAModel, "not a model");
        Path out = home.resolve("never.onnx");
        var e = assertThrows(BadInputException.class, () -> export(notAModel.toString(), out));
        assertTrue(e.getMessage().contains("not a squeeze model file"), e.getMessage());
        assertFalse(Files.exists(out));
        try (var files = Files.list(home)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().contains("never.onnx")), "no partial file");
        }
        var dir = assertThrows(BadInputException.class, () -> export(dense.run().id(), home));
        assertTrue(dir.getMessage().contains("is a folder"), dir.getMessage());
        var opset = assertThrows(BadInputException.class, () -> new ExportService(workspace(), locator(), TrainingMonitor.SILENT)
                .export(dense.run().id(), out, 11, null));
        assertEquals("opset must be an integer from 13 to 21, got 11", opset.getMessage());
    }
}
