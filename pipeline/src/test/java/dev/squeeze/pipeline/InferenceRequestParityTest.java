package dev.squeeze.pipeline;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.squeeze.compress.onnx.OnnxGraph;
import dev.squeeze.compress.onnx.inputs.InferenceRequests;
import dev.squeeze.compress.onnx.inputs.InputBatch;
import dev.squeeze.compress.onnx.inputs.InputTensor;
import dev.squeeze.compress.onnx.inputs.ModelSignature;
import dev.squeeze.core.BadInputException;
import dev.squeeze.serve.runtime.BadRequestException;
import dev.squeeze.serve.runtime.HostTensor;
import dev.squeeze.serve.runtime.InferRequest;
import dev.squeeze.serve.runtime.InferenceProtocol;
import dev.squeeze.serve.runtime.ModelSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * compress reads calibration and evaluation inputs from a folder of inference request bodies with its own reader
 * (compress cannot depend on serve): it must accept exactly the bodies {@code squeeze serve} accepts, read to the same
 * tensors, and refuse the bodies the server refuses.
 */
class InferenceRequestParityTest {
    private static ModelSignature signature;
    private static ModelSpec spec;

    @BeforeAll
    static void model() throws Exception {
        OnnxGraph g = new OnnxGraph("two");
        String ids = g.input("ids", OnnxMl.TensorProto.DataType.INT64, -1, 3);
        String x = g.input("x", OnnxMl.TensorProto.DataType.FLOAT, -1, 2);
        String f = g.activation("Cast", ids, Map.of("to", (long) OnnxMl.TensorProto.DataType.FLOAT.getNumber()));
        g.output("scores", g.gemm(f, g.floats("w", new float[]{1, 0, 0, 1, 0, 0}, 3, 2), g.floats("b", new float[2], 2)),
                OnnxMl.TensorProto.DataType.FLOAT, -1, 2);
        g.output("half", g.mul(x, g.floats("h", new float[]{0.5f}, 1)), OnnxMl.TensorProto.DataType.FLOAT, -1, 2);
        byte[] model = g.model(8, 17, "test", "", Map.of()).toByteArray();
        signature = ModelSignature.of(model, "two.onnx");
        try (OrtSession session = OrtEnvironment.getEnvironment().createSession(model)) {
            spec = ModelSpec.of(session);
        }
    }

    private static final String IDS = "{\"name\": \"ids\", \"shape\": [1, 3], \"datatype\": \"INT64\", \"data\": [1, 2, 3]}";

    private static String x(String data) {
        return "{\"name\": \"x\", \"shape\": [1, 2], \"datatype\": \"FP32\", \"data\": " + data + "}";
    }

    private static String body(String... inputs) {
        return "{\"inputs\": [" + String.join(", ", inputs) + "]}";
    }

    private static final List<String> ACCEPTED = List.of(
            body(IDS, x("[1.5, -2]")),
            body(x("[[0.25, 1e-45]]"), IDS),
            "{\"inputs\": [{\"data\": [[1, 2, 3], [-4, 5, 9007199254740993]], \"datatype\": \"INT64\", \"shape\": [2, 3], "
                    + "\"name\": \"ids\"}, {\"name\": \"x\", \"shape\": [2, 2], \"datatype\": \"FP32\", "
                    + "\"data\": [\"NaN\", \"-Infinity\", NaN, Infinity]}]}",
            "{\"id\": \"42\", \"parameters\": {\"priority\": 1}, \"extra\": [1, {\"a\": 2}], \"inputs\": [" + IDS + ", "
                    + x("[1, 2]") + "], \"outputs\": [{\"name\": \"half\", \"parameters\": {\"binary_data\": false}}]}",
            body(IDS, x("[1.00000005960464477550, -0.0]")),
            body(IDS.replace("[1, 2, 3]", "[-9223372036854775808, 0, 9223372036854775807]"), x("[3.4028235e38, 1E-3]")),
            "{\"id\": null, \"inputs\": [" + IDS + ", " + x("[1, 2]") + "], \"outputs\": null}");

    private static final List<String> REFUSED = List.of(
            "",
            "[]",
            "{\"id\": 1, \"inputs\": [" + IDS + ", " + x("[1, 2]") + "]}",
            "{\"outputs\": []}",
            body(),
            body(IDS),
            body(IDS, x("[1, 2]"), IDS),
            body(IDS, x("[1, 2]").replace("\"x\"", "\"y\"")),
            body(IDS, x("[1, 2]").replace("FP32", "fp32")),
            body(IDS, x("[1, 2]").replace("FP32", "FP64")),
            body(IDS, x("[1, 2]").replace("[1, 2]}", "[1, 2, 3]}")),
            body(IDS, x("[1, 2]").replace("[1, 2]", "[2, 1]")),
            body(IDS, x("[1, 2]").replace("[1, 2]", "[1, -2]")),
            body(IDS, x("[[1], [2]]")),
            body(IDS, x("[[[1, 2]]]")),
            body(IDS, x("[1, [2]]")),
            body(IDS, x("[1e39, 2]")),
            body(IDS, x("[\"1\", 2]")),
            body(IDS, x("[true, 2]")),
            body(IDS, x("[null, 2]")),
            body(IDS.replace("[1, 2, 3]", "[1, 2.5, 3]"), x("[1, 2]")),
            body(IDS.replace("[1, 2, 3]", "[1, 2, 9223372036854775808]"), x("[1, 2]")),
            body(IDS.replace("[1, 2, 3]", "[1, 2, 3e0]"), x("[1, 2]")),
            body(IDS, x("[1, 2]").replace("\"data\": [1, 2]", "\"data\": [1, 2], \"data\": [3, 4]")),
            body(IDS, x("[1, 2]").replace("\"data\": [1, 2]", "\"parameters\": {\"binary_data_size\": 8}")),
            body(IDS, x("[1, 2]").replace(", \"data\": [1, 2]", "")),
            body(IDS, x("[1, 2]").replace("\"shape\": [1, 2], ", "")),
            body(IDS, x("[1, 2]").replace("\"shape\": [1, 2]", "\"shape\": [1, 2.0]")),
            body(IDS, x("[1, 2]")) + " {}",
            "{\"inputs\": [" + IDS + ", " + x("[1, 2]") + "], \"outputs\": [{\"name\": \"probs\"}]}",
            "{\"inputs\": [" + IDS + ", " + x("[1, 2]") + "]");

    @Test
    void bothAcceptTheSameBodiesAsTheSameTensors() {
        for (String body : ACCEPTED) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            InferRequest served = InferenceProtocol.parseRequest(bytes, spec, 1 << 20);
            InputBatch read = InferenceRequests.read(bytes, "body.json", signature);
            assertEquals(served.inputs().size(), read.inputs().size(), body);
            for (HostTensor h : served.inputs()) {
                InputTensor t = read.inputs().get(h.name());
                assertEquals(h.type().name(), t.type().name(), body);
                assertArrayEquals(h.shape(), t.shape(), body);
                assertTrue(Arrays.deepEquals(new Object[]{h.data()}, new Object[]{t.data()}),
                        body + ": " + h.name() + " differs");
            }
        }
    }

    @Test
    void bothRefuseTheSameBodies() {
        for (String body : REFUSED) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            assertThrows(BadRequestException.class, () -> InferenceProtocol.parseRequest(bytes, spec, 1 << 20),
                    "the server accepts " + body);
            assertThrows(BadInputException.class, () -> InferenceRequests.read(bytes, "body.json", signature),
                    "compress accepts " + body);
        }
    }
}
