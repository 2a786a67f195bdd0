package dev.squeeze.compress.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.squeeze.compress.network.ActivationQuant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The int8 QDQ layers {@link QdqNodes} writes for a 784-300-100-10 MLP, against the same layers with every
 * quantization parameter written as values (bias scales, weight zero points, int32 bias codes), as Squeeze wrote them
 * before and ONNX Runtime's quantizer writes them: in real ONNX Runtime sessions both fuse into QGemm alone, compute
 * the same logits bit for bit, and the computed form is the smaller file.
 */
class QdqNodesTest {
    private static final int[] SIZES = {784, 300, 100, 10};
    private static final int ROWS = 32;
    private static final ActivationQuant INPUT = new ActivationQuant(1f / 255, 0);
    private static final ActivationQuant HIDDEN = new ActivationQuant(0.05f, 0);

    @TempDir
    Path tmp;

    /** One layer's int8 codes [in, out], scales per output channel and int32 bias codes, from a fixed seed. */
    private record Layer(byte[] codes, float[] scales, int[] bias) {
        static Layer random(int in, int out, Random r, int biasRange) {
            byte[] codes = new byte[in * out];
            for (int i = 0; i < codes.length; i++) codes[i] = (byte) (r.nextInt(255) - 127);
            float[] scales = new float[out];
            for (int j = 0; j < out; j++) scales[j] = (0.5f + r.nextFloat()) / 127 / (float) Math.sqrt(in);
            int[] bias = new int[out];
            for (int j = 0; j < out; j++) bias[j] = r.nextInt(2 * biasRange + 1) - biasRange;
            return new Layer(codes, scales, bias);
        }
    }

    private static Layer[] layers(int biasRange) {
        Random r = new Random(23);
        Layer[] layers = new Layer[SIZES.length - 1];
        for (int l = 0; l < layers.length; l++) layers[l] = Layer.random(SIZES[l], SIZES[l + 1], r, biasRange);
        return layers;
    }

    /** The MLP as the exporter writes it: {@link QdqNodes#int8Weight} and {@link QdqNodes#int32Bias}. */
    private static OnnxMl.ModelProto computed(Layer[] layers) {
        return mlp(layers, (g, layer, in, out, input) -> {
            QdqNodes.Int8Weight w = QdqNodes.int8Weight(g, layer.codes(), new long[]{in, out}, layer.scales(), 1, true);
            return new String[]{w.dequantized(), QdqNodes.int32Bias(g, layer.bias(), input.scale(), w)};
        });
    }

    /** The same MLP with every quantization parameter written as values. */
    private static OnnxMl.ModelProto written(Layer[] layers) {
        return mlp(layers, (g, layer, in, out, input) -> {
            String w = g.dequantizeLinear(g.int8s(g.fresh("w_int8"), layer.codes(), in, out),
                    g.floats(g.fresh("w_scale"), layer.scales(), out), g.int8s(g.fresh("w_zero"), new byte[out], out), 1);
            float[] biasScales = new float[out];
            for (int j = 0; j < out; j++) biasScales[j] = input.scale() * layer.scales()[j];
            String b = g.dequantizeLinear(g.int32s(g.fresh("b_int32"), layer.bias(), out),
                    g.floats(g.fresh("b_scale"), biasScales, out), null, 0);
            return new String[]{w, b};
        });
    }

    private interface LayerWriter {
        /** The weight's and the bias's DequantizeLinear outputs. */
        String[] write(OnnxGraph g, Layer layer, int in, int out, ActivationQuant input);
    }

    private static OnnxMl.ModelProto mlp(Layer[] layers, LayerWriter writer) {
        OnnxGraph g = new OnnxGraph("int8-mlp");
        String x = g.input(OnnxExporter.INPUT, DataType.FLOAT, -1, SIZES[0]);
        ActivationQuant q = INPUT;
        for (int l = 0; l < layers.length; l++) {
            String codes = QdqNodes.quantize(g, x, q);
            String[] wb = writer.write(g, layers[l], SIZES[l], SIZES[l + 1], q);
            x = g.gemm(QdqNodes.dequantize(g, codes, q), wb[0], wb[1]);
            if (l < layers.length - 1) {
                x = g.relu(x);
                q = HIDDEN;
            }
        }
        g.output(OnnxExporter.LOGITS, x, DataType.FLOAT, -1, SIZES[SIZES.length - 1]);
        return g.model(8, 17, "test", "", Map.of());
    }

    private static float[][] run(OnnxMl.ModelProto model) throws Exception {
        Random r = new Random(5);
        float[] x = new float[ROWS * SIZES[0]];
        for (int i = 0; i < x.length; i++) x[i] = r.nextFloat();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxRuntimeModel ort = new OnnxRuntimeModel(model.toByteArray(), 1);
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[]{ROWS, SIZES[0]});
             OrtSession.Result result = ort.run(Map.of(OnnxExporter.INPUT, input))) {
            return (float[][]) result.get(0).getValue();
        }
    }

    /** Every operator of ONNX Runtime's optimized graph of {@code model}. */
    private List<String> optimizedOps(OnnxMl.ModelProto model) throws Exception {
        Path optimized = Files.createTempFile(tmp, "optimized-", ".onnx");
        new OnnxRuntimeModel(model.toByteArray(), new long[]{SIZES[0]}, 1, optimized).close();
        List<String> ops = new ArrayList<>();
        for (OnnxMl.NodeProto n : OnnxMl.ModelProto.parseFrom(Files.readAllBytes(optimized)).getGraph().getNodeList()) {
            ops.add(n.getOpType());
        }
        return ops;
    }

    private static List<String> ops(OnnxMl.ModelProto model) {
        return model.getGraph().getNodeList().stream().map(OnnxMl.NodeProto::getOpType).toList();
    }

    private static List<String> initializerTypes(OnnxMl.ModelProto model) {
        return model.getGraph().getInitializerList().stream()
                .map(t -> t.getName().replaceAll("_\\d+$", "") + ":" + DataType.forNumber(t.getDataType())).toList();
    }

    private void assertSameFusedModel(OnnxMl.ModelProto computed, OnnxMl.ModelProto written) throws Exception {
        float[][] want = run(written);
        float[][] got = run(computed);
        for (int i = 0; i < ROWS; i++) assertArrayEquals(want[i], got[i], "row " + i);
        List<String> fused = optimizedOps(computed);
        assertEquals(3, fused.stream().filter("QGemm"::equals).count(), "each layer fused: " + fused);
        assertTrue(fused.stream().noneMatch(op -> List.of("DequantizeLinear", "Mul", "Cast", "ConstantOfShape")
                .contains(op)), "the computed parameters were folded at load: " + fused);
        assertEquals(optimizedOps(written), fused, "the same kernels as the values form");
    }

    @Test
    void biasScalesZeroPointsAndSixteenBitBiasesComputedByNodesFuseAndMatchTheValuesBitForBit() throws Exception {
        Layer[] layers = layers(20_000);
        OnnxMl.ModelProto computed = computed(layers);
        OnnxMl.ModelProto written = written(layers);

        // 300 channels: all three computed; 100: bias scales and codes (100 zero points are fewer bytes than a node);
        // 10: written as values
        List<String> ops = ops(computed);
        assertEquals(1, ops.stream().filter("ConstantOfShape"::equals).count(), ops.toString());
        assertEquals(2, ops.stream().filter("Mul"::equals).count(), ops.toString());
        assertEquals(2, ops.stream().filter("Cast"::equals).count(), ops.toString());
        List<String> initializers = initializerTypes(computed);
        assertTrue(initializers.contains("b_int16:INT16"), initializers.toString());
        assertEquals(1, initializers.stream().filter(t -> t.startsWith("b_scale:")).count(), initializers.toString());
        assertEquals(1, initializers.stream().filter(t -> t.startsWith("b_int32:")).count(), initializers.toString());
        assertEquals(2, initializers.stream().filter(t -> t.startsWith("w_zero:")).count(), initializers.toString());

        assertSameFusedModel(computed, written);
        int saved = written.getSerializedSize() - computed.getSerializedSize();
        // bias scales of 400 channels (4 bytes each), int16 instead of int32 codes for 400, 300 zero points, less
        // the nodes written instead
        assertTrue(saved > 4 * 400 + 2 * 400 + 300 - 5 * QdqNodes.NODE_BYTES - 100, "saved " + saved + " bytes");
    }

    /**
     * Layers with one weight scale (per-tensor): the bias scale is one value too, where export writer 7 wrote the same
     * value once per channel; the same kernels and logits.
     */
    @Test
    void aPerTensorLayerHasOneBiasScale() throws Exception {
        Layer[] layers = layers(20_000);
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new Layer(layers[l].codes(), new float[]{layers[l].scales()[0]}, layers[l].bias());
        }
        OnnxMl.ModelProto computed = computed(layers);
        OnnxMl.ModelProto perChannelBiasScales = mlp(layers, (g, layer, in, out, input) -> {
            String w = g.dequantizeLinear(g.int8s(g.fresh("w_int8"), layer.codes(), in, out),
                    g.floats(g.fresh("w_scale"), layer.scales()), g.int8s(g.fresh("w_zero"), new byte[1]), -1);
            float[] biasScales = new float[out];
            java.util.Arrays.fill(biasScales, input.scale() * layer.scales()[0]);
            String b = g.dequantizeLinear(g.int32s(g.fresh("b_int32"), layer.bias(), out),
                    g.floats(g.fresh("b_scale"), biasScales, out), null, 0);
            return new String[]{w, b};
        });
        for (OnnxMl.TensorProto t : computed.getGraph().getInitializerList()) {
            if (t.getDataType() == DataType.FLOAT_VALUE) {
                assertEquals(0, t.getDimsCount(), t.getName() + " is one value: " + t.getDimsList());
            }
        }
        assertSameFusedModel(computed, perChannelBiasScales);
        int saved = perChannelBiasScales.getSerializedSize() - computed.getSerializedSize();
        assertTrue(saved > 4 * 400, "bias scales of 400 channels written once each: saved " + saved + " bytes");
    }

    @Test
    void biasCodesBeyondSixteenBitsStayInt32() throws Exception {
        Layer[] layers = layers(1_000_000);
        OnnxMl.ModelProto computed = computed(layers);
        assertTrue(ops(computed).stream().noneMatch("Cast"::equals), ops(computed).toString());
        assertTrue(initializerTypes(computed).stream().noneMatch(t -> t.startsWith("b_int16:")));
        assertSameFusedModel(computed, written(layers));
    }
}
