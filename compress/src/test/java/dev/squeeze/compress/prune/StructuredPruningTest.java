package dev.squeeze.compress.prune;

import dev.squeeze.models.zoo.Network;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.ShuffledBatches;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.Trainer;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.core.BadInputException;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Structured pruning of real zoo networks, briefly trained on real (fixture) Fashion-MNIST. */
class StructuredPruningTest {
    private static TrainingData data;
    private static INDArray testFeatures;
    private static MultiLayerNetwork mlpInitial;
    private static MultiLayerNetwork mlp;
    private static MultiLayerNetwork lenet5;

    @TempDir
    Path tmp;

    @BeforeAll
    static void train() {
        data = Fixtures.fashionMnist();
        testFeatures = data.test().toDataSet().getFeatures();
        mlpInitial = Trainer.newNetwork(TrainParams.of("lenet-300-100"), data).asStack();
        mlp = mlpInitial.clone();
        fit(mlp, 1);
        lenet5 = Trainer.newNetwork(TrainParams.of("lenet-5"), data).asStack();
        fit(lenet5, 1);
    }

    private static void fit(MultiLayerNetwork net, int epochs) {
        var batches = new ShuffledBatches(data.train(), 60, 1);
        for (int epoch = 1; epoch <= epochs; epoch++) {
            for (int step = 0; step < batches.batchesPerEpoch(); step++) net.fit(batches.batch(epoch, step));
        }
    }

    @Test
    void neuronsShrinkLenet300100ToTheStrongestUnits() {
        float[] before = mlp.params().toFloatVector();
        StructuredSelection keep = StructuredPruning.select(mlp, 0.2, Structure.NEURONS);
        assertEquals("784-240-80-10", keep.describe());
        assertArrayEquals(new int[]{784, 240, 80, 10}, keep.widths());
        assertArrayEquals(strongestColumns(mlp.getParam("0_W"), 240), keep.kept(0));
        assertArrayEquals(strongestColumns(mlp.getParam("1_W"), 80), keep.kept(1));
        assertFalse(keep.layer(2).pruned(), "the output layer keeps its classes");

        MultiLayerNetwork small = StructuredPruning.apply(mlp, keep);
        assertEquals(784 * 240 + 240 + 240 * 80 + 80 + 80 * 10 + 10, small.numParams());
        assertArrayEquals(before, mlp.params().toFloatVector(), "the source is not changed");
        assertEquals(300, mlp.layerSize(0));

        MultiLayerNetwork masked = masked(mlp, keep);
        assertClose(masked.output(testFeatures, false), small.output(testFeatures, false), 1e-5);
    }

    @Test
    void aSelectionFromTheTrainedNetworkCutsTheRewoundOne() {
        StructuredSelection keep = StructuredPruning.select(mlp, 0.2, Structure.NEURONS);
        MultiLayerNetwork ticket = StructuredPruning.apply(mlpInitial, keep);
        // The kept units' initial weights: W columns of layer 0, then W rows (inputs) and columns of layer 1.
        float[][] w0 = mlpInitial.getParam("0_W").toFloatMatrix();
        float[][] w1 = mlpInitial.getParam("1_W").toFloatMatrix();
        float[][] cut0 = ticket.getParam("0_W").toFloatMatrix();
        float[][] cut1 = ticket.getParam("1_W").toFloatMatrix();
        int[] k0 = keep.kept(0);
        int[] k1 = keep.kept(1);
        for (int r = 0; r < 784; r += 97) {
            for (int c = 0; c < k0.length; c++) assertEquals(w0[r][k0[c]], cut0[r][c]);
        }
        for (int r = 0; r < k0.length; r++) {
            for (int c = 0; c < k1.length; c++) assertEquals(w1[k0[r]][k1[c]], cut1[r][c]);
        }
        assertEquals(0, ticket.getIterationCount(), "a fresh optimizer starts Adam's bias correction over");
        assertEquals(mlpInitial.getLayerWiseConfigurations().getConf(0).getSeed(),
                ticket.getLayerWiseConfigurations().getConf(0).getSeed());
    }

    @Test
    void channelsShrinkLenet5AndTheFileRoundTrips() throws Exception {
        StructuredSelection keep = StructuredPruning.select(lenet5, 0.5, Structure.CHANNELS);
        assertEquals("1-3-8-120-84-10", keep.describe());
        assertArrayEquals(strongestFilters(lenet5.getParam("0_W"), 3), keep.kept(0));
        assertArrayEquals(strongestFilters(lenet5.getParam("2_W"), 8), keep.kept(2));
        assertFalse(keep.layer(4).pruned(), "dense layers are left alone in CHANNELS mode");

        MultiLayerNetwork small = StructuredPruning.apply(lenet5, keep);
        long expected = (3 * 25 + 3) + (8 * 3 * 25 + 8) + (8 * 5 * 5 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10);
        assertEquals(expected, small.numParams());
        assertTrue(small.numParams() < lenet5.numParams());
        assertEquals(16, ((CnnToFeedForwardPreProcessor) lenet5.getLayerWiseConfigurations().getInputPreProcess(4))
                .getNumChannels(), "the source's flattening is not changed");

        INDArray expectedOut = masked(lenet5, keep).output(testFeatures, false);
        INDArray smallOut = small.output(testFeatures, false);
        assertClose(expectedOut, smallOut, 1e-4);

        Path full = tmp.resolve("full.zip");
        Path cut = tmp.resolve("cut.zip");
        ModelFile.save(full, Network.of(lenet5), info("lenet-5"));
        ModelFile.save(cut, Network.of(small), info("lenet-5"));
        MultiLayerNetwork loaded = ModelFile.load(cut, false).network().asStack();
        assertEquals(small.numParams(), loaded.numParams());
        assertClose(smallOut, loaded.output(testFeatures, false), 0);
        assertTrue(Files.size(cut) < Files.size(full), Files.size(cut) + " vs " + Files.size(full));
    }

    @Test
    void neuronsOnLenet5CutOnlyItsHiddenDenseLayers() {
        StructuredSelection keep = StructuredPruning.select(lenet5, 0.5, Structure.NEURONS);
        assertEquals("1-6-16-60-42-10", keep.describe());
        MultiLayerNetwork small = StructuredPruning.apply(lenet5, keep);
        assertEquals((6 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 60 + 60) + (60 * 42 + 42) + (42 * 10 + 10), small.numParams());
        assertClose(masked(lenet5, keep).output(testFeatures, false), small.output(testFeatures, false), 1e-4);
    }

    @Test
    void theSmallerNetworkRetrains() {
        MultiLayerNetwork small = StructuredPruning.apply(mlp, StructuredPruning.select(mlp, 0.5, Structure.NEURONS));
        double pruned = Evaluator.evaluate(Network.of(small), data.test(), data.classNames()).accuracy();
        fit(small, 2);
        double retrained = Evaluator.evaluate(Network.of(small), data.test(), data.classNames()).accuracy();
        assertTrue(Double.isFinite(small.score()));
        assertTrue(retrained > 0.7 && retrained >= pruned - 0.02,
                "784-150-50-10 retrained 2 epochs on 1,800 examples: " + retrained + " (right after pruning " + pruned + ")");
    }

    @Test
    void edgeFractionsKeepAllOrOneUnit() {
        StructuredSelection none = StructuredPruning.select(mlp, 0, Structure.NEURONS);
        assertEquals("784-300-100-10", none.describe());
        MultiLayerNetwork same = StructuredPruning.apply(mlp, none);
        assertArrayEquals(mlp.params().toFloatVector(), same.params().toFloatVector());

        StructuredSelection one = StructuredPruning.select(lenet5, 1, Structure.CHANNELS);
        assertEquals("1-1-1-120-84-10", one.describe());
        assertClose(masked(lenet5, one).output(testFeatures, false),
                StructuredPruning.apply(lenet5, one).output(testFeatures, false), 1e-4);
    }

    @Test
    void refusesWhatItCannotDo() {
        assertThrows(BadInputException.class, () -> StructuredPruning.select(mlp, 0.5, Structure.CHANNELS));
        assertThrows(BadInputException.class, () -> StructuredPruning.select(mlp, 1.5, Structure.NEURONS));
        assertThrows(BadInputException.class, () -> StructuredPruning.select(mlp, Double.NaN, Structure.NEURONS));
        StructuredSelection fromCnn = StructuredPruning.select(lenet5, 0.5, Structure.CHANNELS);
        assertThrows(IllegalArgumentException.class, () -> StructuredPruning.apply(mlp, fromCnn));
        var setting = PruneParams.SETTINGS.setting("structure").orElseThrow();
        assertEquals(Structure.CHANNELS, setting.parse("Channels", "--structure"));
        assertEquals(Structure.NONE, setting.parse("none", "--structure"));
        assertThrows(BadInputException.class, () -> setting.parse("weights", "--structure"));
        assertThrows(IllegalArgumentException.class, () -> StructuredPruning.select(mlp, 0.5, Structure.NONE));
    }

    /** A copy of {@code net} whose dropped units have zero incoming weights and bias. */
    private static MultiLayerNetwork masked(MultiLayerNetwork net, StructuredSelection keep) {
        MultiLayerNetwork copy = net.clone();
        for (StructuredSelection.LayerKeep layer : keep.layers()) {
            INDArray w = copy.getParam(layer.index() + "_W");
            INDArray b = copy.getParam(layer.index() + "_b");
            for (int unit = 0; unit < layer.width(); unit++) {
                if (Arrays.binarySearch(layer.kept(), unit) >= 0) continue;
                b.putScalar(unit, 0);
                if (w.rank() == 2) {
                    for (int r = 0; r < w.rows(); r++) w.putScalar(r, unit, 0);
                } else {
                    // A whole filter: one contiguous block of the [out, in, kH, kW] kernel in 'c' order.
                    double[] flat = w.dup('c').data().asDouble();
                    int block = flat.length / layer.width();
                    Arrays.fill(flat, unit * block, (unit + 1) * block, 0);
                    w.assign(Nd4j.create(flat, w.shape(), 'c').castTo(w.dataType()));
                }
            }
        }
        return copy;
    }

    /** The {@code k} dense units with the largest column norm, computed here element by element. */
    private static int[] strongestColumns(INDArray w, int k) {
        double[][] m = w.toDoubleMatrix();
        double[] norms = new double[m[0].length];
        for (double[] row : m) for (int c = 0; c < row.length; c++) norms[c] += row[c] * row[c];
        return top(norms, k);
    }

    private static int[] strongestFilters(INDArray w, int k) {
        double[][] m = w.reshape(w.size(0), -1).toDoubleMatrix();
        double[] norms = new double[m.length];
        for (int f = 0; f < m.length; f++) for (double v : m[f]) norms[f] += v * v;
        return top(norms, k);
    }

    private static int[] top(double[] norms, int k) {
        return IntStream.range(0, norms.length).boxed().sorted(Comparator.comparingDouble(j -> -norms[j]))
                .limit(k).mapToInt(Integer::intValue).sorted().toArray();
    }

    private static void assertClose(INDArray expected, INDArray actual, double tolerance) {
        assertArrayEquals(expected.shape(), actual.shape());
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= tolerance, "largest difference " + diff + " > " + tolerance);
    }

    private static ModelInfo info(String model) {
        return new ModelInfo(model, "fashion-mnist", null, data.inputShape(), data.classNames(), data.normalization(),
                "test", "test", 1, Double.NaN);
    }
}
