package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.squeeze.compress.onnx.OnnxGraph;
import dev.squeeze.compress.onnx.inputs.InputBatch;
import dev.squeeze.compress.onnx.inputs.InputTensor;
import dev.squeeze.compress.quant.Calibration;
import dev.squeeze.compress.quant.Granularity;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * What static mode's pay rule rests on: single-operator graphs (a first convolution over 1 or 3 image channels, small
 * MatMuls), float against static int8 (QDQ fused by ONNX Runtime), median time per batch, 1 intra-op thread. Not a
 * test: run by hand, the numbers go to BENCHMARKS.md.
 */
final class StaticPayBench {
    private static final OnnxMl.TensorProto.DataType F = OnnxMl.TensorProto.DataType.FLOAT;

    public static void main(String[] args) throws Exception {
        int batch = 32;
        network("TestGraphs.cnn, batch 32", TestGraphs.cnn(), new long[]{batch, 3, 16, 16}, "conv_1_node");
        network("LeNet-like 1x28x28, batch 32", lenet(), new long[]{batch, 1, 28, 28}, "conv_1_node");
        bench("Conv 1->16 3x3 on 28x28", conv(1, 16, 28), new long[]{batch, 1, 28, 28});
        bench("Conv 3->16 3x3 on 32x32", conv(3, 16, 32), new long[]{batch, 3, 32, 32});
        bench("Conv 3->8 3x3 on 16x16", conv(3, 8, 16), new long[]{batch, 3, 16, 16});
        bench("Conv 16->32 3x3 on 16x16", conv(16, 32, 16), new long[]{batch, 16, 16, 16});
        bench("MatMul 64x4 on [32x8, 64]", matMul(64, 4), new long[]{batch * 8, 64});
        bench("MatMul 64x16 on [32x8, 64]", matMul(64, 16), new long[]{batch * 8, 64});
        bench("MatMul 64x64 on [32x8, 64]", matMul(64, 64), new long[]{batch * 8, 64});
    }

    /** Conv (with bias), Relu, and a MaxPool after it, so that the Relu output is not the graph output. */
    private static OnnxMl.ModelProto conv(int in, int out, int size) {
        Random r = new Random(1);
        OnnxGraph g = new OnnxGraph("conv");
        String x = g.input("x", F, -1, in, size, size);
        String y = g.relu(g.conv(x, g.floats("w", gaussian(r, out * in * 9, 1 / Math.sqrt(in * 9.0)), out, in, 3, 3),
                g.floats("b", gaussian(r, out, 0.1), out), new long[]{3, 3}, new long[]{1, 1}, new long[]{1, 1, 1, 1}));
        String p = g.maxPool(y, new long[]{2, 2}, new long[]{2, 2}, new long[]{0, 0, 0, 0});
        g.output("y", p, F, -1, out, size / 2, size / 2);
        return g.model(8, 17, "bench", "", Map.of());
    }

    /** Conv 1->8 5x5, Relu, MaxPool, Conv 8->16 5x5, Relu, MaxPool, Gemm 256->10: a first layer over 1 channel. */
    private static OnnxMl.ModelProto lenet() {
        Random r = new Random(4);
        OnnxGraph g = new OnnxGraph("lenet");
        String x = g.input("image", F, -1, 1, 28, 28);
        long[] k5 = {5, 5};
        long[] one = {1, 1};
        long[] two = {2, 2};
        long[] none = {0, 0, 0, 0};
        String c1 = g.relu(g.conv(x, g.floats("c1w", gaussian(r, 8 * 25, 0.2), 8, 1, 5, 5), g.floats("c1b", gaussian(r, 8, 0.1), 8),
                k5, one, none));
        String p1 = g.maxPool(c1, two, two, none);
        String c2 = g.relu(g.conv(p1, g.floats("c2w", gaussian(r, 16 * 8 * 25, 0.07), 16, 8, 5, 5),
                g.floats("c2b", gaussian(r, 16, 0.1), 16), k5, one, none));
        String p2 = g.maxPool(c2, two, two, none);
        String logits = g.gemm(g.flatten(p2), g.floats("fw", gaussian(r, 256 * 10, 0.06), 256, 10), g.floats("fb", gaussian(r, 10, 0.1), 10));
        g.output("logits", logits, F, -1, 10);
        return g.model(8, 17, "bench", "", Map.of());
    }

    /** The whole network: float, static int8 everything, static int8 with {@code first} left float. */
    private static void network(String what, OnnxMl.ModelProto model, long[] shape, String first) throws Exception {
        float[] data = new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        Random r = new Random(3);
        for (int i = 0; i < data.length; i++) data[i] = r.nextFloat();
        String input = model.getGraph().getInput(0).getName();
        List<InputBatch> cal = List.of(new InputBatch("bench", Map.of(input, InputTensor.ofFloats(data, shape)), null));
        DynamicQuantizer.Plan all = DynamicQuantizer.plan(model, Set.of(), StaticQuantizer.PAYS);
        DynamicQuantizer.Plan kept = DynamicQuantizer.plan(model, Set.of(first), StaticQuantizer.PAYS);
        ActivationStatistics stats = ActivationStatistics.collect(model, StaticQuantizer.calibrationTensors(model, all), cal, 1);
        var ranges = stats.quantizations(Calibration.MINMAX, 99.99);
        OnnxMl.ModelProto qAll = StaticQuantizer.quantize(model, all, Granularity.CHANNEL, ranges);
        OnnxMl.ModelProto qKept = StaticQuantizer.quantize(model, kept, Granularity.CHANNEL, ranges);
        double[] t = new double[3];
        for (int rep = 0; rep < 3; rep++) {
            t[0] += time(model, data, shape, input);
            t[1] += time(qAll, data, shape, input);
            t[2] += time(qKept, data, shape, input);
        }
        System.out.printf(Locale.ROOT, "%-30s float %.3f ms  static all int8 %.3f ms  static, first conv float %.3f ms%n",
                what, t[0] / 3, t[1] / 3, t[2] / 3);
    }

    private static OnnxMl.ModelProto matMul(int k, int n) {
        Random r = new Random(2);
        OnnxGraph g = new OnnxGraph("matmul");
        String x = g.input("x", F, -1, k);
        String y = g.activation("Tanh", g.matMul(x, g.floats("w", gaussian(r, k * n, 1 / Math.sqrt(k)), k, n)), Map.of());
        g.output("y", y, F, -1, n);
        return g.model(8, 17, "bench", "", Map.of());
    }

    private static void bench(String what, OnnxMl.ModelProto model, long[] shape) throws Exception {
        DynamicQuantizer.PayRule everything = new DynamicQuantizer.PayRule("static", "QLinearConv", 1, 1, true, true,
                StaticQuantizer.MIN_OPSET, false);
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of(), everything);
        float[] data = new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        Random r = new Random(3);
        for (int i = 0; i < data.length; i++) data[i] = (float) r.nextGaussian();
        List<InputBatch> cal = List.of(new InputBatch("bench", Map.of("x", InputTensor.ofFloats(data, shape)), null));
        ActivationStatistics stats = ActivationStatistics.collect(model, StaticQuantizer.calibrationTensors(model, plan), cal, 1);
        OnnxMl.ModelProto q = StaticQuantizer.quantize(model, plan, Granularity.CHANNEL, stats.quantizations(Calibration.MINMAX, 99.99));
        double f = time(model, data, shape);
        double i8 = time(q, data, shape);
        double f2 = time(model, data, shape);
        double q2 = time(q, data, shape);
        System.out.printf(Locale.ROOT, "%-28s float %.3f ms  int8 %.3f ms  (again: %.3f / %.3f)  int8/float %.2f%n", what,
                f, i8, f2, q2, (i8 + q2) / (f + f2));
    }

    private static double time(OnnxMl.ModelProto model, float[] data, long[] shape) throws Exception {
        return time(model, data, shape, "x");
    }

    private static double time(OnnxMl.ModelProto model, float[] data, long[] shape, String input) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            o.setIntraOpNumThreads(1);
            o.setInterOpNumThreads(1);
            try (OrtSession s = env.createSession(model.toByteArray(), o);
                 OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape)) {
                for (int i = 0; i < 30; i++) s.run(Map.of(input, x)).close();
                double[] t = new double[101];
                for (int i = 0; i < t.length; i++) {
                    long t0 = System.nanoTime();
                    s.run(Map.of(input, x)).close();
                    t[i] = (System.nanoTime() - t0) / 1e6;
                }
                Arrays.sort(t);
                return t[t.length / 2];
            }
        }
    }

    private static float[] gaussian(Random r, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * std);
        return v;
    }
}
