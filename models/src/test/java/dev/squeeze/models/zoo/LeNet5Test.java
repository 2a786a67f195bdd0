package dev.squeeze.models.zoo;

import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.ImageDataset;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.data.Normalization;
import dev.squeeze.models.data.TrainValSplit;
import dev.squeeze.models.zoo.layers.NativeConvolution;
import dev.squeeze.models.zoo.layers.NativeConvolutionLayer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LeNet5Test {
    private static final BuildSettings SETTINGS = new BuildSettings(42, 1e-3, new long[]{784}, 10);

    private static LabeledData train;
    private static LabeledData test;

    @BeforeAll
    static void loadFixtures() {
        ImageDataset data = DatasetLoader.load("fashion-mnist",
                Path.of(System.getProperty("squeeze.fixtures", "src/test/fixtures"), "fashion-mnist"));
        Normalization norm = Normalization.global(data.train());
        train = norm.apply(data.train());
        test = norm.apply(data.test());
    }

    private static MultiLayerNetwork newNet() {
        MultiLayerNetwork net = new MultiLayerNetwork(new LeNet5().configuration(SETTINGS));
        net.init();
        return net;
    }

    private static List<DataSet> batches(LabeledData data, int batch, long seed) {
        int[] order = TrainValSplit.permutation(data.size(), seed);
        List<DataSet> out = new ArrayList<>();
        for (int from = 0; from + batch <= data.size(); from += batch) out.add(data.toDataSet(order, from, from + batch));
        return out;
    }

    @Test
    void isRegisteredWithTheClassicShape() {
        MultiLayerNetwork net = newNet();
        // 6*25+6, 16*6*25+16, 400*120+120, 120*84+84, 84*10+10
        assertEquals(156 + 2416 + 48120 + 10164 + 850, net.numParams());
        assertArrayEquals(new long[]{6, 1, 5, 5}, net.getParam("0_W").shape());
        assertArrayEquals(new long[]{16, 6, 5, 5}, net.getParam("2_W").shape());
        assertArrayEquals(new long[]{400, 120}, net.getParam("4_W").shape());
        assertInstanceOf(NativeConvolution.class, net.getLayerWiseConfigurations().getConf(0).getLayer());
        assertInstanceOf(NativeConvolutionLayer.class, net.getLayer(2));
        INDArray out = net.output(train.toDataSet(null, 0, 3).getFeatures());
        assertArrayEquals(new long[]{3, 10}, out.shape());
    }

    @Test
    void conv1WeightsAreALiveViewOfTheParameters() {
        MultiLayerNetwork net = newNet();
        INDArray w = net.getParam("0_W");
        w.muli(0);
        assertEquals(0.0, net.params().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 150)).amaxNumber().doubleValue());
        assertTrue(net.params().amaxNumber().doubleValue() > 0);
    }

    @Test
    void fixedSeedGivesIdenticalRuns() {
        List<DataSet> data = batches(train, 60, 1).subList(0, 5);
        MultiLayerNetwork a = newNet();
        MultiLayerNetwork b = newNet();
        for (DataSet d : data) {
            a.fit(d);
            b.fit(d);
        }
        assertEquals(a.params(), b.params());
        assertEquals(a.getUpdater().getStateViewArray(), b.getUpdater().getStateViewArray());
    }

    @Test
    void saveAndRestoreKeepConfigurationParametersAndUpdater(@TempDir Path dir) throws Exception {
        MultiLayerNetwork net = newNet();
        for (DataSet d : batches(train, 60, 2).subList(0, 3)) net.fit(d);
        File file = dir.resolve("lenet5.zip").toFile();
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork back = ModelSerializer.restoreMultiLayerNetwork(file, true);

        MultiLayerConfiguration conf = back.getLayerWiseConfigurations();
        assertEquals(net.getLayerWiseConfigurations(), conf);
        assertInstanceOf(NativeConvolutionLayer.class, back.getLayer(0));
        assertEquals(net.params(), back.params());
        assertEquals(net.getUpdater().getStateViewArray(), back.getUpdater().getStateViewArray());
        INDArray x = test.toDataSet(null, 0, 20).getFeatures();
        assertEquals(net.output(x), back.output(x));

        // training continues identically from the restored copy
        DataSet next = batches(train, 60, 3).get(0);
        net.fit(next);
        back.fit(next);
        assertEquals(net.params(), back.params());
    }

    @Test
    void learnsFashionMnistFixtures() {
        MultiLayerNetwork net = newNet();
        for (int epoch = 0; epoch < 3; epoch++) {
            for (DataSet d : batches(train, 60, 100 + epoch)) net.fit(d);
        }
        INDArray predicted = Nd4j.argMax(net.output(test.toDataSet().getFeatures()), 1);
        int correct = 0;
        for (int i = 0; i < test.size(); i++) if (predicted.getInt(i) == test.labels()[i]) correct++;
        double accuracy = (double) correct / test.size();
        System.out.printf("lenet-5, 3 epochs on %d fixture images: test accuracy %.3f on %d%n",
                train.size(), accuracy, test.size());
        assertTrue(accuracy >= 0.70, "test accuracy " + accuracy + " after 3 epochs on " + train.size() + " images");
    }
}
