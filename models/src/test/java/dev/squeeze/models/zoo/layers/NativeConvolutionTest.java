package dev.squeeze.models.zoo.layers;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeConvolutionTest {
    private final DataType savedDefault = Nd4j.defaultFloatingPointType();

    @AfterEach
    void restoreDataType() {
        Nd4j.setDefaultDataTypes(savedDefault, savedDefault);
    }

    /** A small double-precision network: same-padded conv, strided valid conv without bias, max pool, softmax. */
    private static MultiLayerConfiguration tiny(boolean nativeConv, CNN2DFormat format, DataType dataType) {
        return new NeuralNetConfiguration.Builder()
                .seed(12345)
                .dataType(dataType)
                .updater(new NoOp())
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(conv(nativeConv, 3, 3).nOut(3).convolutionMode(ConvolutionMode.Same).dataFormat(format)
                        .activation(Activation.TANH).build())
                .layer(conv(nativeConv, 2, 3).nOut(4).stride(2, 1).hasBias(false)
                        .convolutionMode(ConvolutionMode.Truncate).dataFormat(format).activation(Activation.SIGMOID).build())
                .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(1, 1).dataFormat(format).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(7, 6, 2))
                .build();
    }

    private static ConvolutionLayer.Builder conv(boolean nativeConv, int kh, int kw) {
        return nativeConv ? new NativeConvolution.Builder(kh, kw) : new ConvolutionLayer.Builder(kh, kw);
    }

    private static INDArray oneHot(int rows, int classes, long seed, DataType dataType) {
        INDArray y = Nd4j.zeros(dataType, rows, classes);
        java.util.Random r = new java.util.Random(seed);
        for (int i = 0; i < rows; i++) y.putScalar(i, r.nextInt(classes), 1.0);
        return y;
    }

    @ParameterizedTest
    @EnumSource(CNN2DFormat.class)
    void gradientsMatchFiniteDifferences(CNN2DFormat format) {
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        MultiLayerNetwork net = new MultiLayerNetwork(tiny(true, format, DataType.DOUBLE));
        net.init();
        assertInstanceOf(NativeConvolutionLayer.class, net.getLayer(0));
        assertInstanceOf(NativeConvHelper.class, ((NativeConvolutionLayer) net.getLayer(0)).getHelper());

        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 2 * 7 * 6).subi(0.5);
        INDArray y = oneHot(3, 3, 7, DataType.DOUBLE);
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(net).input(x).labels(y)
                .epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY));
        assertTrue(ok, "gradient check failed for " + format);
    }

    @ParameterizedTest
    @EnumSource(CNN2DFormat.class)
    void agreesWithDl4jsOwnConvolution(CNN2DFormat format) {
        MultiLayerNetwork stock = new MultiLayerNetwork(tiny(false, format, DataType.FLOAT));
        stock.init();
        MultiLayerNetwork nat = new MultiLayerNetwork(tiny(true, format, DataType.FLOAT));
        nat.init();
        assertEquals(stock.params(), nat.params(), "same seed, same parameter layout and initial values");

        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(DataType.FLOAT, 5, 2 * 7 * 6).subi(0.5);
        INDArray y = oneHot(5, 3, 3, DataType.FLOAT);
        assertTrue(stock.output(x).equalsWithEps(nat.output(x), 1e-5));

        stock.setInput(x);
        stock.setLabels(y);
        stock.computeGradientAndScore();
        nat.setInput(x);
        nat.setLabels(y);
        nat.computeGradientAndScore();
        assertEquals(stock.score(), nat.score(), 1e-5);
        Gradient gs = stock.gradient();
        Gradient gn = nat.gradient();
        assertEquals(gs.gradientForVariable().keySet(), gn.gradientForVariable().keySet());
        for (String key : gs.gradientForVariable().keySet()) {
            INDArray a = gs.getGradientFor(key);
            INDArray b = gn.getGradientFor(key);
            double scale = Math.max(1e-3, a.amaxNumber().doubleValue());
            assertTrue(a.sub(b).amaxNumber().doubleValue() <= 1e-4 * scale, key + ": " + a + " vs " + b);
        }
        assertTrue(stock.gradient().gradient().equalsWithEps(nat.gradient().gradient(), 1e-4));
    }

    @Test
    void configurationSurvivesJsonRoundTrip() {
        MultiLayerConfiguration conf = tiny(true, CNN2DFormat.NCHW, DataType.FLOAT);
        String json = conf.toJson();
        assertTrue(json.contains(NativeConvolution.class.getName()), json);
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
        assertEquals(conf, back);
        assertInstanceOf(NativeConvolution.class, back.getConf(0).getLayer());
        assertEquals(ConvolutionMode.Same, ((ConvolutionLayer) back.getConf(0).getLayer()).getConvolutionMode());
        assertNotEquals(conf, tiny(false, CNN2DFormat.NCHW, DataType.FLOAT), "a native layer is not a stock one");
    }
}
