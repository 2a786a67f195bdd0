package dev.squeeze.compress.quant;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.saved.EvaluationService;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunStatus;
import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.network.Dl4jLayers;
import dev.squeeze.compress.network.FloatLinear;
import dev.squeeze.compress.network.StepNetwork;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.DatasetLocator;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code squeeze quantize} through the real training loop, fixture data and a real SQLite ledger. */
class QuantizeServiceTest {
    @TempDir
    static Path home;
    private static TrainOutcome dense;

    private static final TrainParams DENSE = TrainParams.of("mlp-tiny", "fashion-mnist", 2, 60, 1e-3, 5, 3, 0.1, 0.8);

    private static Workspace workspace() {
        return new Workspace(home, home.resolve("ledger.db").toString());
    }

    private static QuantizeService service() {
        return new QuantizeService(workspace(), new DatasetLocator(null, null, null), TrainingMonitor.SILENT);
    }

    private static QuantParams params(String calibration, Granularity g, List<Integer> keep, int qat, Double budget) {
        return new QuantParams(null, calibration, QuantParams.DEFAULT_PERCENTILE, 500, g, new ArrayList<>(keep), qat, budget,
                QuantParams.AUTO);
    }

    /** The settings with {@code --bits 4 --block-size B --keep-8bit ...}. */
    private static QuantParams fourBit(QuantParams p, int blockSize, List<Integer> keep8bit) {
        QuantParams out = QuantParams.SETTINGS.with(p, "bits", QuantParams.FOUR_BITS);
        out = QuantParams.SETTINGS.with(out, "block-size", blockSize);
        return QuantParams.SETTINGS.with(out, "keep-8bit", keep8bit);
    }

    @BeforeAll
    static void trainDense() {
        dense = new TrainingService(workspace(), new DatasetLocator(null, null, null), TrainingMonitor.SILENT)
                .train(DENSE, Fixtures.fashionMnistDir(), false);
    }

    @Test
    void quantizesARunRecordsItAndTheFileReproducesTheReportedAccuracy() {
        QuantizeOutcome out = service().quantize(dense.run().id(), QuantParams.DEFAULTS, Fixtures.fashionMnistDir());
        assertEquals(List.of("minmax", "percentile", "entropy"), out.trials().stream().map(QuantizeOutcome.Trial::calibration).toList());
        assertEquals(out.trials().stream().mapToDouble(QuantizeOutcome.Trial::valAcc).max().orElseThrow(), out.kept().valAcc());
        assertEquals(2, out.sensitivity().size(), "one row per dense layer of mlp-tiny");
        // mlp-tiny after 2 epochs on 1,800 examples, tested on 500: 20 examples; the real numbers are in BENCHMARKS.md.
        assertTrue(out.floatTestAcc() - out.int8TestAcc() <= 0.04, out.format());
        assertTrue(out.int8FileBytes() <= 0.30 * out.floatFileBytes(), out.format());

        Path file = Path.of(out.model());
        assertTrue(ModelFile.isInt8(file));
        double reloaded = new EvaluationService(new DatasetLocator(null, null, null))
                .evaluateTestSet(file, null, Fixtures.fashionMnistDir()).accuracy();
        assertEquals(out.int8TestAcc(), reloaded, 0.0);

        try (RunLedger ledger = RunLedger.open(workspace().ledgerLocation())) {
            RunRecord row = ledger.get(out.runId()).orElseThrow();
            assertEquals(QuantizeService.STAGE, row.stage());
            assertEquals(RunStatus.DONE, row.status());
            assertEquals(dense.run().id(), row.parentId());
            assertEquals(out.int8TestAcc(), row.testAcc(), 0.0);
            assertEquals(out.int8FileBytes(), row.fileBytes());
        }
        QuantizeOutcome again = service().quantize(dense.run().id(), QuantParams.DEFAULTS, Fixtures.fashionMnistDir());
        assertEquals(out.runId(), again.runId(), "the same settings reuse the finished run");
    }

    @Test
    void keepFloatLeavesALayerInFloatAndQatAddsAFineTunedTrial() {
        QuantizeOutcome out = service().quantize(dense.run().id(),
                params("entropy", Granularity.TENSOR, List.of(0), 1, null), Fixtures.fashionMnistDir());
        assertEquals(2, out.trials().size());
        assertEquals(1, out.kept().qatEpochs(), "asked-for QAT is kept");
        assertEquals(List.of(0), out.keptFloat());
        var net = QuantizedModelFile.load(Path.of(out.model())).network();
        assertTrue(net.linearSteps().get(0) instanceof FloatLinear);
        assertTrue(net.linearSteps().get(1) instanceof Int8Linear);
        assertTrue(Files.isRegularFile(Path.of(out.model()).getParent().resolve("qat").resolve("model.zip")));
    }

    @Test
    void aBudgetIsMetByCalibrationOrElseQatIsTried() {
        QuantizeOutcome out = service().quantize(dense.run().id(), params("minmax", Granularity.TENSOR, List.of(), 0, 0.0),
                Fixtures.fashionMnistDir());
        boolean calibrationSufficed = out.trials().get(0).drop() <= 0;
        if (calibrationSufficed) {
            assertTrue(out.budgetMet());
            assertEquals(1, out.trials().size());
        } else {
            assertEquals(QuantParams.BUDGET_QAT_EPOCHS, out.trials().get(1).qatEpochs());
            assertEquals(out.kept().drop() <= 0, out.budgetMet());
            if (!out.budgetMet()) assertTrue(out.format().contains("NOT met"), out.format());
        }
    }

    @Test
    void refusesInt8FilesUnknownLayersAndLayersItCannotQuantize() {
        QuantizeOutcome out = service().quantize(dense.run().id(), params("minmax", Granularity.CHANNEL, List.of(), 0, null),
                Fixtures.fashionMnistDir());
        var again = assertThrows(BadInputException.class, () -> service().quantize(out.model(), QuantParams.DEFAULTS, null));
        assertTrue(again.getMessage().contains("already an int8 model"), again.getMessage());

        var keep = assertThrows(BadInputException.class, () -> service().quantize(dense.run().id(),
                params("minmax", Granularity.CHANNEL, List.of(7), 0, null), Fixtures.fashionMnistDir()));
        assertTrue(keep.getMessage().contains("--keep-float 7") && keep.getMessage().contains("0 dense"), keep.getMessage());

        var conf = new NeuralNetConfiguration.Builder().list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.RELU).build())
                .layer(new org.deeplearning4j.nn.conf.layers.LSTM.Builder().nOut(3).build())
                .layer(new OutputLayer.Builder().nOut(2).activation(Activation.SOFTMAX).build())
                .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.feedForward(4)).build();
        MultiLayerNetwork bn = new MultiLayerNetwork(conf);
        bn.init();
        var layer = assertThrows(BadInputException.class, () -> Dl4jLayers.toFloatNetwork(bn, new long[]{4}));
        assertTrue(layer.getMessage().startsWith("layer 1 (LSTM) is not supported"), layer.getMessage());
    }

    @Test
    void aHiddenActivationInt8CannotComputeNamesTheLayerAndTheWayOut() {
        var conf = new NeuralNetConfiguration.Builder().list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder().nOut(2).activation(Activation.SOFTMAX).build())
                .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.feedForward(4)).build();
        MultiLayerNetwork tanh = new MultiLayerNetwork(conf);
        tanh.init();
        StepNetwork f = Dl4jLayers.toFloatNetwork(tanh, new long[]{4});
        List<ActivationQuant> points = List.of(ActivationQuant.fromRange(-1, 1), ActivationQuant.fromRange(-1, 1));
        var e = assertThrows(BadInputException.class, () -> NetworkQuantizer.quantize(f, points, Granularity.CHANNEL, java.util.Set.of()));
        assertTrue(e.getMessage().contains("tanh") && e.getMessage().contains("--keep-float 0"), e.getMessage());
        assertFalse(NetworkQuantizer.quantize(f, points, Granularity.CHANNEL, java.util.Set.of(0)).isFullyFloat());
    }

    @Test
    void fourBitsQuantizeTheDenseLayersStorePackedCodesAndListEachLayersLossAtFourBits() {
        QuantizeOutcome int8 = service().quantize(dense.run().id(), QuantParams.DEFAULTS, Fixtures.fashionMnistDir());
        QuantizeOutcome out = service().quantize(dense.run().id(),
                fourBit(QuantParams.DEFAULTS, 32, List.of()), Fixtures.fashionMnistDir());
        assertTrue(out.fourBit());
        assertEquals(List.of(), out.kept8bit());
        assertEquals(2, out.sensitivity().size());
        assertTrue(out.sensitivity().stream().allMatch(x -> x.bits() == 4), out.format());
        assertTrue(out.format().contains("--keep-8bit") && out.format().contains("int4 blocks of 32"), out.format());

        var written = QuantizedModelFile.load(Path.of(out.model())).network();
        assertTrue(written.linearSteps().stream().allMatch(s -> s instanceof Int4Linear), written.linearSteps().toString());
        // Codes two to a byte and a float scale per 32 weights: well under the int8 file (about 0.56 of its weights).
        assertTrue(out.int8FileBytes() < 0.7 * int8.int8FileBytes(), out.int8FileBytes() + " vs " + int8.int8FileBytes());
        double reloaded = new EvaluationService(new DatasetLocator(null, null, null))
                .evaluateTestSet(Path.of(out.model()), null, Fixtures.fashionMnistDir()).accuracy();
        assertEquals(out.int8TestAcc(), reloaded, 0.0, "the file computes what quantize reported");
        assertTrue(out.floatTestAcc() - out.int8TestAcc() <= 0.06, out.format());
        assertNotEquals(int8.runId(), out.runId());
    }

    @Test
    void keep8bitMakesAMixedModelAndQatTrainsAtFourBits() {
        QuantizeOutcome out = service().quantize(dense.run().id(),
                fourBit(params("minmax", Granularity.CHANNEL, List.of(), 1, null), 16, List.of(0)), Fixtures.fashionMnistDir());
        assertEquals(List.of(0), out.kept8bit());
        assertEquals(1, out.kept().qatEpochs(), "asked-for QAT is kept");
        var net = QuantizedModelFile.load(Path.of(out.model())).network();
        assertTrue(net.linearSteps().get(0) instanceof Int8Linear);
        Int4Linear last = (Int4Linear) net.linearSteps().get(1);
        assertEquals(16, last.weights().blockSize());
        assertTrue(out.format().contains("8-bit   layers [0]"), out.format());
    }

    @Test
    void badFourBitSettingsAreRefusedSayingWhatToGive() {
        String run = dense.run().id();
        java.util.function.Function<QuantParams, String> refused = p -> assertThrows(BadInputException.class,
                () -> service().quantize(run, p, Fixtures.fashionMnistDir())).getMessage();
        String bits = refused.apply(QuantParams.SETTINGS.with(QuantParams.DEFAULTS, "bits", 3));
        assertTrue(bits.startsWith("--bits 3:") && bits.contains("--bits 8 or --bits 4"), bits);
        String block = refused.apply(fourBit(QuantParams.DEFAULTS, 48, List.of()));
        assertTrue(block.startsWith("--block-size 48 is not a power of two") && block.contains("16, 32, 64"), block);
        String noLayer = refused.apply(fourBit(QuantParams.DEFAULTS, 32, List.of(7)));
        assertTrue(noLayer.startsWith("--keep-8bit 7 is not a dense layer of this model") && noLayer.contains("0 dense"), noLayer);
        String every = refused.apply(fourBit(QuantParams.DEFAULTS, 32, List.of(0, 1)));
        assertTrue(every.contains("leaves no dense layer at 4 bits") && every.contains("--bits 8"), every);
        String both = refused.apply(fourBit(params("minmax", Granularity.CHANNEL, List.of(0), 0, null), 32, List.of(0)));
        assertTrue(both.contains("kept float or at 8 bits, not both"), both);
        String without = refused.apply(QuantParams.SETTINGS.with(QuantParams.DEFAULTS, "keep-8bit", List.of(0)));
        assertTrue(without.startsWith("--keep-8bit 0 keeps layers at 8 bits in a 4-bit model; give it with --bits 4"), without);
        String blockWithout = refused.apply(QuantParams.SETTINGS.with(QuantParams.DEFAULTS, "block-size", 64));
        assertTrue(blockWithout.startsWith("--block-size sets the blocks of 4-bit weights; give it with --bits 4"), blockWithout);
    }
}
