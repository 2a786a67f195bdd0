package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.onnx.inputs.InputBatch;
import dev.squeeze.compress.onnx.inputs.InputTensor;
import dev.squeeze.compress.quant.Calibration;
import dev.squeeze.compress.quant.Granularity;
import dev.squeeze.compress.quant.TensorStatistics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static dev.squeeze.compress.onnx.quantize.DynamicQuantizerTest.Agreement;
import static dev.squeeze.compress.onnx.quantize.DynamicQuantizerTest.agreement;
import static dev.squeeze.compress.onnx.quantize.DynamicQuantizerTest.gaussian;
import static dev.squeeze.compress.onnx.quantize.DynamicQuantizerTest.operators;
import static dev.squeeze.compress.onnx.quantize.DynamicQuantizerTest.optimizedNodes;
import static dev.squeeze.compress.onnx.quantize.DynamicQuantizerTest.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Static (QDQ) quantization of {@link TestGraphs}' graphs with ranges calibrated in real ONNX Runtime sessions on
 * seeded calibration batches, measured against the float graph on other seeded inputs (figures computed here, not by
 * the code under test), and the integer kernels in ONNX Runtime's optimized graph.
 */
class StaticQuantizerTest {
    private static final int BATCH = 16;
    private static final OrtSession.SessionOptions.OptLevel ALL = OrtSession.SessionOptions.OptLevel.ALL_OPT;

    @TempDir
    Path dir;

    private static long[] blockShape(int rows) {
        return new long[]{rows, TestGraphs.SEQ, TestGraphs.DIM};
    }

    /** Three batches of 16 rows of {@code input}, from {@code values(n, seed)}. */
    private static List<InputBatch> calibration(String input, long[] rowShape, java.util.function.BiFunction<Long, Long, float[]> values) {
        long per = 1;
        for (long d : rowShape) per *= d;
        long[] shape = new long[rowShape.length + 1];
        shape[0] = BATCH;
        System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
        return List.of(batch(input, values.apply(BATCH * per, 100L), shape), batch(input, values.apply(BATCH * per, 101L),
                shape), batch(input, values.apply(BATCH * per, 102L), shape));
    }

    private static InputBatch batch(String input, float[] data, long[] shape) {
        return new InputBatch("calibration", Map.of(input, InputTensor.ofFloats(data, shape)), null);
    }

    private static OnnxMl.ModelProto quantized(OnnxMl.ModelProto model, DynamicQuantizer.Plan plan,
                                               List<InputBatch> calibration, Calibration method) {
        ActivationStatistics stats = ActivationStatistics.collect(model, StaticQuantizer.calibrationTensors(model, plan),
                calibration, 1);
        return StaticQuantizer.quantize(model, plan, Granularity.CHANNEL, stats.quantizations(method, 99.99));
    }

    @Test
    void transformerBlock() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.transformerBlock();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of(), StaticQuantizer.PAYS);
        System.out.println(plan.candidates());
        System.out.println(StaticQuantizer.calibrationTensors(model, plan));
        for (Calibration m : Calibration.values()) {
            OnnxMl.ModelProto q = quantized(model, plan, calibration("x", new long[]{TestGraphs.SEQ, TestGraphs.DIM},
                    DynamicQuantizerTest::gaussian), m);
            System.out.println(m + " " + optimizedNodes(q, ALL, dir).stream().map(OnnxMl.NodeProto::getOpType).toList());
            Map<String, float[]> in = Map.of("x", gaussian(BATCH * TestGraphs.SEQ * TestGraphs.DIM, 4));
            System.out.println(m + " y " + agreement(model, q, in, Map.of("x", blockShape(BATCH)), "y"));
            System.out.println(m + " head " + agreement(model, q, in, Map.of("x", blockShape(BATCH)), "head"));
        }
    }

    @Test
    void cnn() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.cnn();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of(), StaticQuantizer.PAYS);
        System.out.println(plan.candidates());
        for (Calibration m : Calibration.values()) {
            OnnxMl.ModelProto q = quantized(model, plan, calibration("image", new long[]{3, 16, 16},
                    DynamicQuantizerTest::uniform), m);
            System.out.println(m + " " + optimizedNodes(q, ALL, dir).stream().map(OnnxMl.NodeProto::getOpType).toList());
            optimizedNodes(q, ALL, dir).stream().skip(7).forEach(n -> System.out.println(n.getOpType() + " " + n.getInputList() + " -> " + n.getOutputList()));
            q.getGraph().getNodeList().stream().forEach(n -> System.out.println("  Q " + n.getOpType() + " " + n.getInputList() + " -> " + n.getOutputList()));
            Map<String, float[]> in = Map.of("image", uniform(BATCH * 3 * 16 * 16, 7));
            System.out.println(m + " logits " + agreement(model, q, in, Map.of("image", new long[]{BATCH, 3, 16, 16}), "logits"));
        }
    }
}
