package dev.squeeze.compress.onnx.inputs;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelSignatureTest {

    @Test
    void readsInputsAndOutputsWithTypesAndSymbolicDimensions() {
        ModelSignature s = TestInputs.signature(TestInputs.twoInputs());
        assertEquals(List.of("ids", "x"), s.inputs().stream().map(TensorSignature::name).toList());
        assertEquals(ElementType.INT64, s.input("ids").type());
        assertArrayEquals(new long[]{-1, 3}, s.input("ids").shape());
        assertEquals("ids INT64 [batch, 3]", s.input("ids").toString());
        assertEquals(ElementType.FP32, s.input("x").type());
        assertEquals(List.of("scores", "half"), s.outputs().stream().map(TensorSignature::name).toList());
        assertTrue(s.batched());
    }

    @Test
    void initializersListedAsInputsAreNotInputsAndDimensionNamesAreKept() throws Exception {
        OnnxMl.ModelProto m = OnnxMl.ModelProto.parseFrom(TestInputs.linear(0, 0, 0));
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        // IR < 4 files list initializers among the inputs; and a second symbolic dimension with its own name.
        g.addInput(OnnxMl.ValueInfoProto.newBuilder().setName("w").setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(1))));
        g.setInput(0, g.getInput(0).toBuilder().setType(g.getInput(0).getType().toBuilder().setTensorType(
                g.getInput(0).getType().getTensorType().toBuilder().setShape(OnnxMl.TensorShapeProto.newBuilder()
                        .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("n"))
                        .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder())))));
        ModelSignature s = ModelSignature.of(m.toBuilder().setGraph(g).build());
        assertEquals(1, s.inputs().size());
        assertEquals("x FP32 [n, ?]", s.input("x").toString());
    }

    @Test
    void aFileThatIsNotOnnxIsRefused() {
        BadInputException e = assertThrows(BadInputException.class,
                () -> ModelSignature.of("not a model".getBytes(), "model.onnx"));
        assertTrue(e.getMessage().startsWith("model.onnx is not an ONNX model"), e.getMessage());
    }

    private static String refusal(Map<String, InputTensor> data) {
        ModelSignature s = TestInputs.signature(TestInputs.twoInputs());
        return assertThrows(BadInputException.class, () -> s.check("data.npz", data)).getMessage();
    }

    private static Map<String, InputTensor> data(Object... kv) {
        Map<String, InputTensor> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], (InputTensor) kv[i + 1]);
        return m;
    }

    private static final InputTensor IDS = InputTensor.ofLongs(new long[]{1, 2, 3, 4, 5, 6}, 2, 3);
    private static final InputTensor X = InputTensor.ofFloats(new float[]{1, 2, 3, 4}, 2, 2);

    @Test
    void matchingDataPasses() {
        TestInputs.signature(TestInputs.twoInputs()).check("data.npz", data("ids", IDS, "x", X));
    }

    @Test
    void anUnknownNameIsRefusedListingTheInputs() {
        assertEquals("data.npz: 'input_ids' is not an input of the model (its inputs are ids INT64 [batch, 3], x FP32 "
                + "[batch, 2]); name the data after the model's inputs", refusal(data("input_ids", IDS, "x", X)));
    }

    @Test
    void aMissingInputIsRefused() {
        assertEquals("data.npz: no data for the model's input ids INT64 [batch, 3] (found only 'x'); give data named 'ids'",
                refusal(data("x", X)));
    }

    @Test
    void aWrongElementTypeIsRefusedSayingHowToConvert() {
        assertEquals("data.npz: input 'ids' must be INT64 (numpy int64), found FP32 (numpy float32); convert the data to "
                        + "INT64 (numpy: a.astype(np.int64))",
                refusal(data("ids", InputTensor.ofFloats(new float[6], 2, 3), "x", X)));
    }

    @Test
    void aWrongRankIsRefused() {
        assertEquals("data.npz: input 'x' must have shape [batch, 2] (batch: any size), found [4] (rank 1, not 2); "
                + "reshape the data to [batch, 2]", refusal(data("ids", IDS, "x", InputTensor.ofFloats(new float[4], 4))));
    }

    @Test
    void aWrongFixedDimensionIsRefused() {
        assertEquals("data.npz: input 'ids' must have shape [batch, 3] (batch: any size), found [3, 2] (dimension 1 is "
                + "2, not 3); reshape the data to [batch, 3]", refusal(data("ids", InputTensor.ofLongs(new long[6], 3, 2), "x", X)));
    }

    @Test
    void oneSymbolicDimensionNameHasOneSizeAcrossInputs() {
        assertEquals("data.npz: input 'x' has batch = 1 (dimension 0) but input 'ids' has batch = 2; inputs sharing a "
                + "dimension name must agree on its size", refusal(data("ids", IDS, "x", InputTensor.ofFloats(new float[2], 1, 2))));
    }
}
