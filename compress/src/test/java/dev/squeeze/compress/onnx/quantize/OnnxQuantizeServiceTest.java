package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.onnx.inputs.TestInputs;
import dev.squeeze.compress.ledger.RunQuery;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.ExportProvenance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ONNX quantize stage with a real SQLite ledger and run folders, on files written by {@link TestGraphs}. */
class OnnxQuantizeServiceTest {
    @TempDir
    Path home;

    private OnnxQuantizeService service() {
        return new OnnxQuantizeService(new Workspace(home, home.resolve("ledger.db").toString()), TrainingMonitor.SILENT);
    }

    private Path write(String name, byte[] bytes) throws Exception {
        Path file = home.resolve(name);
        Files.write(file, bytes);
        return file;
    }

    @Test
    void quantizesIntoARunFolderAndReusesItForTheSameFileAnywhere() throws Exception {
        Path file = write("block.onnx", TestGraphs.transformerBlock().toByteArray());
        Path out = home.resolve("out/block-int8.onnx");
        Files.createDirectories(out.getParent());
        OnnxQuantizeOutcome first = service().quantize(file, QuantParams.DEFAULTS, out, null);
        assertEquals(6, first.quantizedCount());
        assertTrue(first.integerKernels().contains("DynamicQuantizeMatMul"), first.integerKernels().toString());
        Path model = Path.of(first.model());
        assertEquals("model.onnx", model.getFileName().toString());
        assertTrue(model.getParent().getFileName().toString().startsWith("quantize-"));
        assertTrue(Files.isRegularFile(model.getParent().resolve("outcome.json")));
        assertEquals(Files.size(model), Files.size(out));
        assertEquals(first.int8FileBytes(), Files.size(model));
        assertTrue(first.int8FileBytes() < Files.size(file) / 2);
        assertTrue(first.format().contains("activation × activation"), first.format());

        Map<String, String> metadata = new HashMap<>();
        OnnxMl.ModelProto.parseFrom(Files.readAllBytes(out)).getMetadataPropsList()
                .forEach(e -> metadata.put(e.getKey(), e.getValue()));
        String provenance = metadata.get(ExportProvenance.METADATA_KEY);
        assertTrue(provenance.contains("\"source_sha256\":\"" + first.sourceSha256() + "\""), provenance);
        assertTrue(provenance.contains("\"settings\":{\"mode\":\"dynamic\",\"granularity\":\"channel\",\"keep_float\":[]}"),
                provenance);
        assertEquals(first.runId(), ExportProvenance.read(metadata).orElseThrow().exportRun());

        // The same bytes under another name elsewhere, with --mode dynamic spelled out: the same run.
        Path copy = Files.createDirectories(home.resolve("elsewhere")).resolve("renamed.onnx");
        Files.copy(file, copy);
        OnnxQuantizeOutcome again = service().quantize(copy, QuantParams.SETTINGS.with(QuantParams.DEFAULTS, "mode",
                QuantParams.DYNAMIC), null, null);
        assertEquals(first.runId(), again.runId());
        try (RunLedger ledger = new Workspace(home, home.resolve("ledger.db").toString()).openLedger()) {
            assertEquals(1, ledger.query(RunQuery.all().withStage("quantize")).size());
        }
        // Another setting is another run.
        OnnxQuantizeOutcome tensor = service().quantize(file, QuantParams.SETTINGS.with(QuantParams.DEFAULTS,
                "granularity", dev.squeeze.compress.quant.Granularity.TENSOR), null, null);
        assertTrue(!tensor.runId().equals(first.runId()));
    }

    /** Request bodies of {@code rows} token-id rows each, as a client sends them to {@code squeeze serve}. */
    private Path requestBodies(String folder, String inputName, int files, int rows) throws Exception {
        Path dir = Files.createDirectories(home.resolve(folder));
        java.util.Random r = new java.util.Random(5);
        for (int f = 0; f < files; f++) {
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < rows * TestGraphs.TOKENS; i++) data.append(i == 0 ? "" : ",").append(r.nextInt((int) TestGraphs.VOCAB));
            Files.writeString(dir.resolve("request-" + f + ".json"), "{\"inputs\":[{\"name\":\"" + inputName
                    + "\",\"shape\":[" + rows + "," + TestGraphs.TOKENS + "],\"datatype\":\"INT64\",\"data\":[" + data + "]}]}");
        }
        return dir;
    }

    @Test
    void theUsersInputsMeasureWhatInt8CostAndNameTheRun() throws Exception {
        Path file = write("tokens.onnx", TestGraphs.tokenModel().toByteArray());
        Path inputs = requestBodies("requests", "input_ids", 3, 4);
        OnnxQuantizeOutcome measured = service().quantize(file, DYNAMIC, null, inputs);
        var figures = measured.figures().output("sentence");
        assertEquals(12, figures.examples(), "every example held out: dynamic mode calibrates on none");
        assertTrue(figures.cosineMean() > 0.9999 && figures.cosineWorst() > 0.999, figures.toText());
        assertTrue(figures.relativeL2() < 0.01, figures.toText());
        assertTrue(measured.format().contains("cost    on 12 examples of your inputs"), measured.format());
        String provenance = ExportProvenance.METADATA_KEY;
        Map<String, String> metadata = new HashMap<>();
        OnnxMl.ModelProto.parseFrom(Files.readAllBytes(Path.of(measured.model()))).getMetadataPropsList()
                .forEach(e -> metadata.put(e.getKey(), e.getValue()));
        assertTrue(metadata.get(provenance).contains("\"figures\":{\"examples\":12"), metadata.get(provenance));

        // Measured on other inputs, or on none, is another run; the same inputs again, the same run.
        assertEquals(measured.runId(), service().quantize(file, DYNAMIC, null, inputs).runId());
        OnnxQuantizeOutcome plain = service().quantize(file, QuantParams.DEFAULTS, null, null);
        assertTrue(plain.figures() == null && !plain.runId().equals(measured.runId()));

        // Inputs that do not fit the model are refused before any work, naming the input.
        Path wrong = requestBodies("wrong", "ids", 1, 2);
        var e = assertThrows(BadInputException.class, () -> service().quantize(file, QuantParams.SETTINGS.with(
                DYNAMIC, "granularity", dev.squeeze.compress.quant.Granularity.TENSOR), null, wrong));
        assertTrue(e.getMessage().contains("ids"), e.getMessage());
        try (RunLedger ledger = new Workspace(home, home.resolve("ledger.db").toString()).openLedger()) {
            assertEquals(2, ledger.query(RunQuery.all().withStage("quantize")).size(), "the refused one recorded nothing");
        }
    }

    /** Dynamic mode spelled out: with inputs, the default (auto) is static. */
    private static final QuantParams DYNAMIC = QuantParams.SETTINGS.with(QuantParams.DEFAULTS, "mode", QuantParams.DYNAMIC);

    private static QuantParams budget(String text) {
        return budget(DYNAMIC, text);
    }

    private static QuantParams budget(QuantParams base, String text) {
        var spec = QuantParams.SETTINGS.setting("accuracy-budget").orElseThrow();
        return QuantParams.SETTINGS.with(base, "accuracy-budget", spec.parse(text, spec.flag()));
    }

    /**
     * One node int8 wrecks the output ({@link TestGraphs#outlier}): the sensitivity lists it first, and a budget that
     * everything int8 fails holds once exactly that node is left float.
     */
    @Test
    void sensitivityFindsTheNodeInt8CannotTakeAndTheBudgetLeavesExactlyItFloat() throws Exception {
        Path file = write("outlier.onnx", TestGraphs.outlier().toByteArray());
        Path inputs = TestGraphs.outlierInputs(home.resolve("requests"), 4, 8);
        OnnxQuantizeOutcome all = service().quantize(file, DYNAMIC, null, inputs);
        assertEquals(3, all.quantizedCount());
        assertTrue(all.figures().output("scores").cosineMean() < 0.9, all.format());
        assertEquals(3, all.sensitivity().size(), all.format());
        OnnxSensitivity worst = all.sensitivity().get(0);
        assertEquals("matmul_1_node", worst.node(), all.format());
        assertTrue(worst.figures().output("scores").cosineMean() < 0.9, all.format());
        for (OnnxSensitivity other : all.sensitivity().subList(1, 3)) {
            assertTrue(other.figures().output("scores").cosineMean() > 0.999, all.format());
        }
        assertTrue(worst.ranked().startsWith("rel-l2 "), "ranked by relative L2 error without a budget: " + worst.ranked());
        assertTrue(all.format().contains("sensitivity (each node int8 alone, on output scores, worst rel-l2 first):"),
                all.format());
        assertTrue(all.withinBudget() && all.budget() == null && all.budgetMet() == null);

        OnnxQuantizeOutcome within = service().quantize(file, budget("cosine>=0.999"), null, inputs);
        assertEquals(Boolean.TRUE, within.budgetMet(), within.format());
        assertEquals(List.of("matmul_1_node"), within.leftFloatForBudget(), within.format());
        assertEquals(2, within.quantizedCount());
        assertTrue(within.candidates().get(0).reason().startsWith("over budget (alone: cosine "), within.format());
        assertTrue(within.figures().output("scores").cosineMean() >= 0.999, within.format());
        assertTrue(within.format().contains("budget  met (cosine>=0.999): cosine "), within.format());
        assertEquals("matmul_1_node", within.sensitivity().get(0).node(), "worst cosine first");
        // The budget is part of the run: another budget (the same nodes int8 or not) is another run.
        assertTrue(!within.runId().equals(all.runId()));
        OnnxQuantizeOutcome looser = service().quantize(file, budget("cosine>=0.99"), null, inputs);
        assertTrue(!looser.runId().equals(within.runId()) && looser.leftFloatForBudget().equals(List.of("matmul_1_node")));
        Map<String, String> metadata = new HashMap<>();
        OnnxMl.ModelProto.parseFrom(Files.readAllBytes(Path.of(within.model()))).getMetadataPropsList()
                .forEach(e -> metadata.put(e.getKey(), e.getValue()));
        assertTrue(metadata.get(ExportProvenance.METADATA_KEY).contains("\"accuracy_budget\":\"cosine>=0.999\""),
                metadata.get(ExportProvenance.METADATA_KEY));

        // Nothing meets it: the closest (at least one node int8) is written, and says so.
        OnnxQuantizeOutcome closest = service().quantize(file, budget("scores:rel-l2<=0.000001"), null, inputs);
        assertEquals(Boolean.FALSE, closest.budgetMet(), closest.format());
        assertTrue(closest.quantizedCount() >= 1 && Files.isRegularFile(Path.of(closest.model())), closest.format());
        assertTrue(closest.figures().output("scores").relativeL2() < all.figures().output("scores").relativeL2());
        assertTrue(closest.budgetLine().startsWith("budget  NOT met (scores:rel-l2<=0.000001): the closest, written, "
                + "has rel-l2 "), closest.budgetLine());
        assertTrue(closest.leftFloatForBudget().contains("matmul_1_node"), closest.format());
    }

    @Test
    void budgetsThatCannotApplyAreRefusedBeforeAnyWork() throws Exception {
        Path file = write("outlier.onnx", TestGraphs.outlier().toByteArray());
        Path inputs = TestGraphs.outlierInputs(home.resolve("requests"), 1, 4);
        var e = assertThrows(BadInputException.class, () -> service().quantize(file, budget("cosine>=0.99"), null, null));
        assertEquals("--accuracy-budget cosine>=0.99 is measured on your inputs; give them with --inputs FILE|DIR (.npz, "
                + ".npy, or a folder of request bodies), or --dataset NAME|FILE.csv for a model that takes a dataset's raw "
                + "features", e.getMessage());
        e = assertThrows(BadInputException.class, () -> service().quantize(file, budget("0.5"), null, inputs));
        assertTrue(e.getMessage().startsWith("--accuracy-budget 0.5 is validation points, for a Squeeze model; for an "
                + "ONNX file bound a figure measured on --inputs"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> service().quantize(file, budget("logits:cosine>=0.99"), null,
                inputs));
        assertTrue(e.getMessage().startsWith("--accuracy-budget logits:cosine>=0.99: the model has no tensor output "
                + "'logits'; its outputs are scores"), e.getMessage());
        // The block's first output is [batch, 8, 64]: no top-1.
        Path block = write("block.onnx", TestGraphs.transformerBlock().toByteArray());
        Path x = Files.createDirectories(home.resolve("x"));
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 2 * TestGraphs.SEQ * TestGraphs.DIM; i++) data.append(i == 0 ? "" : ",").append(i % 7 * 0.1);
        Files.writeString(x.resolve("0.json"), "{\"inputs\":[{\"name\":\"x\",\"shape\":[2," + TestGraphs.SEQ + ","
                + TestGraphs.DIM + "],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}");
        e = assertThrows(BadInputException.class, () -> service().quantize(block, budget("top1-drop<=1"), null, x));
        assertTrue(e.getMessage().startsWith("--accuracy-budget top1-drop<=1: output y "), e.getMessage());
        assertTrue(e.getMessage().endsWith("is not [N, classes] scores, so it has no top-1; bound cosine, cosine-worst, "
                + "rel-l2 or max-abs instead"), e.getMessage());
        try (Stream<Path> files = Files.list(home)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().startsWith("quantize-")).toList(),
                    "no run folder");
        }
    }

    @Test
    void refusalsWriteNothing() throws Exception {
        Path text = write("notes.onnx", "not a model".getBytes());
        var notOnnx = assertThrows(BadInputException.class, () -> service().quantize(text, QuantParams.DEFAULTS, null, null));
        assertTrue(notOnnx.getMessage().startsWith(text + " is not an ONNX model"), notOnnx.getMessage());

        OnnxMl.ModelProto block = TestGraphs.transformerBlock();
        byte[] truncated = java.util.Arrays.copyOf(block.toByteArray(), block.getSerializedSize() / 2);
        Path cut = write("cut.onnx", truncated);
        assertThrows(BadInputException.class, () -> service().quantize(cut, QuantParams.DEFAULTS, null, null));

        Path quantized = write("q.onnx", DynamicQuantizer.quantize(block, DynamicQuantizer.plan(block, java.util.Set.of()),
                dev.squeeze.compress.quant.Granularity.CHANNEL).model().toByteArray());
        var already = assertThrows(BadInputException.class, () -> service().quantize(quantized, QuantParams.DEFAULTS, null, null));
        assertTrue(already.getMessage().startsWith("the model is already quantized"), already.getMessage());

        Path b = write("b.onnx", block.toByteArray());
        var statik = assertThrows(BadInputException.class, () -> service().quantize(b, STATIC, null, null));
        assertEquals("--mode static calibrates activation ranges on your inputs; give calibration inputs with --inputs "
                + "FILE|DIR (.npz, .npy, or a folder of request bodies) or --dataset NAME|FILE.csv, or use --mode dynamic, which needs none",
                statik.getMessage());
        Path one = TestInputs.npz(home.resolve("one.npz"), false, Map.of("x", TestInputs.npy(new float[(int) (
                TestGraphs.SEQ * TestGraphs.DIM)], 1, TestGraphs.SEQ, TestGraphs.DIM)));
        var single = assertThrows(BadInputException.class, () -> service().quantize(b, QuantParams.DEFAULTS, null, one));
        assertTrue(single.getMessage().endsWith(": 1 example, but calibration and held-out evaluation need different "
                + "examples; give at least 2 (hundreds measure better)"), single.getMessage());
        var qat = assertThrows(BadInputException.class, () -> service().quantize(b, QuantParams.SETTINGS.with(STATIC,
                "qat-epochs", 2), null, one));
        assertTrue(qat.getMessage().startsWith("--qat-epochs trains a Squeeze model"), qat.getMessage());
        var convActivations = assertThrows(BadInputException.class, () -> service().quantize(b, QuantParams.SETTINGS
                .with(QuantParams.DEFAULTS, "conv-activations", dev.squeeze.compress.quant.ConvActivations.FLOAT), null, null));
        assertTrue(convActivations.getMessage().startsWith("--conv-activations is built for Squeeze models"),
                convActivations.getMessage());

        try (Stream<Path> files = Files.list(home)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().startsWith("quantize-")).toList(),
                    "no run folder");
        }
    }

    private static final QuantParams STATIC = QuantParams.SETTINGS.with(QuantParams.DEFAULTS, "mode", QuantParams.STATIC);

    /** 64 images of the CNN's input, uniform in [0, 1), as an .npz written the way numpy writes it. */
    private Path cnnImages(String name, long seed) throws Exception {
        float[] pixels = DynamicQuantizerTest.uniform(64 * 3 * 16 * 16, seed);
        return TestInputs.npz(home.resolve(name), true, Map.of("image", TestInputs.npy(pixels, 64, 3, 16, 16)));
    }

    /**
     * Inputs given, the default mode is static: ranges calibrated on three quarters of the examples, each method tried
     * on those and the best kept, what it cost measured on the other quarter.
     */
    @Test
    void inputsMeanStaticModeCalibratedOnPartAndMeasuredOnTheRest() throws Exception {
        Path file = write("cnn.onnx", TestGraphs.cnn().toByteArray());
        Path images = cnnImages("images.npz", 11);
        OnnxQuantizeOutcome auto = service().quantize(file, QuantParams.DEFAULTS, null, images);
        assertEquals("static", auto.mode());
        assertEquals(3, auto.quantizedCount(), auto.format());
        assertTrue(auto.integerKernels().containsAll(List.of("QGemm", "QLinearConv")), auto.integerKernels().toString());
        OnnxCalibration calibration = auto.calibration();
        assertEquals(48, calibration.examples(), "three quarters calibrate");
        assertEquals(16, auto.figures().examples(), "a quarter held out");
        assertEquals("auto", calibration.requested());
        assertEquals(List.of("minmax", "percentile", "entropy"), calibration.trials().stream()
                .map(OnnxCalibration.Trial::method).toList());
        assertEquals("top1-drop on logits", calibration.figure(), "[N, classes] scores: compared by top-1");
        double best = calibration.trials().stream().mapToDouble(OnnxCalibration.Trial::value).min().orElseThrow();
        assertEquals(best, calibration.trials().stream().filter(t -> t.method().equals(calibration.method()))
                .findFirst().orElseThrow().value(), calibration.trials().toString());
        var logits = auto.figures().output("logits");
        // Measured: cosine 0.999976 (worst 0.999966), top-1 agreement 100% on the 16 held-out images.
        assertTrue(logits.cosineMean() > 0.9999 && logits.top1AgreementPct() == 100.0, logits.toText());
        String text = auto.format();
        assertTrue(text.contains("(static: weights symmetric per channel, activations uint8, ranges calibrated by "
                + calibration.method() + ")"), text);
        assertTrue(text.contains("calibration auto: " + calibration.method()), text);
        assertTrue(text.contains("48 calibration examples; by top1-drop on logits: minmax "), text);
        assertTrue(text.contains("cost    on 16 held-out examples of your inputs"), text);
        Map<String, String> metadata = new HashMap<>();
        OnnxMl.ModelProto.parseFrom(Files.readAllBytes(Path.of(auto.model()))).getMetadataPropsList()
                .forEach(e -> metadata.put(e.getKey(), e.getValue()));
        String provenance = metadata.get(ExportProvenance.METADATA_KEY);
        assertTrue(provenance.contains("\"mode\":\"int8 static\""), provenance);
        assertTrue(provenance.contains("\"calibration\":\"auto\",\"percentile\":99.99,\"samples\":1000,\"split_seed\":1"),
                provenance);
        assertTrue(provenance.contains("\"calibration\":{\"requested\":\"auto\",\"method\":\"" + calibration.method()),
                provenance);

        // --mode static spelled out is the same run; the method auto chose, asked for, writes the same graph.
        assertEquals(auto.runId(), service().quantize(file, STATIC, null, images).runId());
        OnnxQuantizeOutcome chosen = service().quantize(file, QuantParams.SETTINGS.with(QuantParams.DEFAULTS,
                "calibration", calibration.method()), null, images);
        assertTrue(!chosen.runId().equals(auto.runId()) && chosen.calibration().trials().isEmpty());
        assertEquals(auto.figures(), chosen.figures());
        // Fewer calibration samples, or dynamic mode on the same inputs, is another run.
        OnnxQuantizeOutcome ten = service().quantize(file, QuantParams.SETTINGS.with(QuantParams.DEFAULTS, "samples", 10),
                null, images);
        assertEquals(10, ten.calibration().examples());
        assertEquals(16, ten.figures().examples(), "the same held-out examples");
        OnnxQuantizeOutcome dynamic = service().quantize(file, DYNAMIC, null, images);
        assertEquals("dynamic", dynamic.mode());
        assertEquals(64, dynamic.figures().examples(), "dynamic mode holds every example out");
        assertTrue(dynamic.calibration() == null && !dynamic.runId().equals(auto.runId()));
        assertTrue(!ten.runId().equals(auto.runId()));
    }

    @Test
    void staticModeOnTheTransformerBlockAndTheTokenModel() throws Exception {
        Path block = write("block.onnx", TestGraphs.transformerBlock().toByteArray());
        Path x = Files.write(home.resolve("x.npy"), TestInputs.npy(DynamicQuantizerTest.gaussian(40 * TestGraphs.SEQ
                * TestGraphs.DIM, 21), 40, TestGraphs.SEQ, TestGraphs.DIM));
        OnnxQuantizeOutcome b = service().quantize(block, QuantParams.DEFAULTS, null, x);
        assertTrue(b.integerKernels().contains("QLinearMatMul"), b.integerKernels().toString());
        assertEquals(6, b.quantizedCount());
        assertEquals("cosine on y", b.calibration().figure(), "y is not [N, classes]: compared by cosine");
        var y = b.figures().output("y");
        // Measured: cosine 0.99960 (worst 0.99879), relative L2 error 0.030 on the 10 held-out rows.
        assertTrue(y.cosineMean() > 0.999 && y.relativeL2() < 0.05, y.toText());

        Path tokens = write("tokens.onnx", TestGraphs.tokenModel().toByteArray());
        Path requests = requestBodies("token-requests", "input_ids", 4, 4);
        OnnxQuantizeOutcome t = service().quantize(tokens, QuantParams.SETTINGS.with(STATIC, "calibration", "entropy"),
                null, requests);
        assertTrue(t.integerKernels().containsAll(List.of("QGemm", "QLinearMatMul")), t.integerKernels().toString());
        assertEquals("entropy", t.calibration().method());
        assertEquals(12, t.calibration().examples());
        var sentence = t.figures().output("sentence");
        assertEquals(4, sentence.examples());
        assertTrue(sentence.cosineMean() > 0.9999, sentence.toText());
    }

    /** The budget search works on static graphs as on dynamic ones: the node int8 cannot take is left float. */
    @Test
    void aBudgetInStaticModeLeavesTheNodeInt8CannotTakeFloat() throws Exception {
        Path file = write("outlier.onnx", TestGraphs.outlier().toByteArray());
        Path inputs = TestGraphs.outlierInputs(home.resolve("requests"), 4, 8);
        OnnxQuantizeOutcome within = service().quantize(file, budget(STATIC, "cosine>=0.999"), null, inputs);
        assertEquals("static", within.mode());
        assertEquals(Boolean.TRUE, within.budgetMet(), within.format());
        assertEquals(List.of("matmul_1_node"), within.leftFloatForBudget(), within.format());
        assertEquals("matmul_1_node", within.sensitivity().get(0).node(), within.format());
        assertEquals("cosine on scores", within.calibration().figure(), "auto compared methods by the budget's figure");
        assertTrue(within.figures().output("scores").cosineMean() >= 0.999, within.format());
        assertTrue(within.integerKernels().contains("QLinearMatMul"), within.integerKernels().toString());
    }
}
