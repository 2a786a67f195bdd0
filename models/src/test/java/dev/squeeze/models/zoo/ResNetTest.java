package dev.squeeze.models.zoo;

import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.ImageDataset;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.data.Normalization;
import dev.squeeze.models.zoo.layers.NativeBatchNormalization;
import dev.squeeze.models.zoo.layers.NativeBatchNormalizationLayer;
import dev.squeeze.models.zoo.layers.NativeConvolution;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResNetTest {

    @Test
    void resnet8HasEightWeightedLayersOnItsMainPathAndTwoProjections() {
        Network net = ModelZoo.get("resnet-8").build(new BuildSettings(1, 1e-3, new long[]{1, 28, 28}, 10));
        assertInstanceOf(Network.Graph.class, net);
        List<String> weighted = net.layers().stream().filter(l -> l.layer().numParams() > 0
                && !(l.config() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization)).map(Network.NamedLayer::name).toList();
        assertEquals(List.of("stem", "s1_conv1", "s1_conv2", "s2_conv1", "s2_conv2", "s2_proj", "s3_conv1", "s3_conv2",
                "s3_proj", "output").stream().sorted().toList(), weighted.stream().sorted().toList());
        // Under the 2-conv CNN's 100K parameters of the Fashion-MNIST benchmark.
        assertTrue(net.numParams() < 100_000, "parameters: " + net.numParams());
    }

    @Test
    void takesFlatRowsOfGreyOrColourImagesAndLearnsAFixtureBatch() {
        for (long[] shape : new long[][]{{1, 28, 28}, {3, 32, 32}}) {
            Network net = ModelZoo.get("resnet-tiny").build(new BuildSettings(7, 3e-3, shape, 4));
            int features = (int) (shape[0] * shape[1] * shape[2]);
            INDArray x = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 16, features);
            INDArray y = Nd4j.zeros(16, 4);
            for (int i = 0; i < 16; i++) y.putScalar(i, i % 4, 1);
            INDArray out = net.output(x);
            assertArrayEquals(new long[]{16, 4}, out.shape());
            net.fit(new DataSet(x, y));
            double first = net.score();
            for (int i = 0; i < 30; i++) net.fit(new DataSet(x, y));
            assertTrue(net.score() < first, "loss " + first + " -> " + net.score());
        }
    }

    @Test
    void savedAndRestoredItComputesTheSameAndKeepsTheNativeConvolutionsAndBatchNorms(@TempDir Path dir) throws Exception {
        ImageDataset data = DatasetLoader.load("fashion-mnist",
                Path.of(System.getProperty("squeeze.fixtures", "src/test/fixtures"), "fashion-mnist"));
        LabeledData test = Normalization.global(data.train()).apply(data.test()).head(20);
        Network net = ModelZoo.get("resnet-tiny").build(new BuildSettings(3, 1e-3, data.inputShape(), 10));
        net.fit(Normalization.global(data.train()).apply(data.train()).head(32).toDataSet());
        File file = dir.resolve("g.zip").toFile();
        ModelSerializer.writeModel(net.model(), file, false);
        ComputationGraph back = ModelSerializer.restoreComputationGraph(file, false);
        INDArray features = test.toDataSet().getFeatures();
        assertEquals(0, net.output(features).sub(back.outputSingle(false, features)).amaxNumber().doubleValue(), 1e-6);
        ComputationGraphConfiguration conf = back.getConfiguration();
        assertInstanceOf(NativeConvolution.class, ((LayerVertex) conf.getVertices().get("s1_conv1")).getLayerConf().getLayer());
        assertInstanceOf(NativeBatchNormalization.class, ((LayerVertex) conf.getVertices().get("s1_bn1")).getLayerConf().getLayer());
        assertInstanceOf(NativeBatchNormalizationLayer.class, back.getLayer("s2_proj_bn"));
    }
}
