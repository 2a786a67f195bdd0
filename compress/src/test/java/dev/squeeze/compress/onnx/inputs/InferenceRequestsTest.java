package dev.squeeze.compress.onnx.inputs;

import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InferenceRequestsTest {
    @TempDir
    Path dir;

    private static final ModelSignature TWO = TestInputs.signature(TestInputs.twoInputs());

    private static InputBatch read(String body) {
        return InferenceRequests.read(body.getBytes(StandardCharsets.UTF_8), "r.json", TWO);
    }

    private static String refusal(String body) {
        return assertThrows(BadInputException.class, () -> read(body)).getMessage();
    }

    @Test
    void aFolderGivesOneBatchPerBodyInFileNameOrder() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("requests"));
        Files.writeString(folder.resolve("2.json"), "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 2], \"datatype\": \"FP32\", "
                + "\"data\": [5, 6]}, {\"name\": \"ids\", \"shape\": [1, 3], \"datatype\": \"INT64\", \"data\": [7, 8, 9]}]}");
        Files.writeString(folder.resolve("1.json"), "{\"id\": \"a\", \"inputs\": [{\"data\": [[1, 2, 3], [4, 5, 9007199254740993]], "
                + "\"name\": \"ids\", \"datatype\": \"INT64\", \"shape\": [2, 3]}, {\"name\": \"x\", \"shape\": [2, 2], "
                + "\"datatype\": \"FP32\", \"data\": [0.1, \"NaN\", -Infinity, 1e-3], \"parameters\": {}}], "
                + "\"outputs\": [{\"name\": \"scores\"}]}");
        Files.writeString(folder.resolve("notes.txt"), "not a request");
        List<InputBatch> batches = InputFiles.read(folder, TWO);
        assertEquals(List.of("requests/1.json", "requests/2.json"), batches.stream().map(InputBatch::source).toList());
        InputBatch first = batches.get(0);
        assertEquals(List.of("ids", "x"), List.copyOf(first.inputs().keySet()));
        assertEquals(InputTensor.ofLongs(new long[]{1, 2, 3, 4, 5, 9007199254740993L}, 2, 3), first.inputs().get("ids"));
        assertArrayEquals(new float[]{0.1f, Float.NaN, Float.NEGATIVE_INFINITY, 1e-3f}, (float[]) first.inputs().get("x").data());
        assertEquals(InputTensor.ofFloats(new float[]{5, 6}, 1, 2), batches.get(1).inputs().get("x"));
    }

    @Test
    void fp32IsParsedFromTheDecimalTextWithoutRoundingThroughDouble() {
        // Halfway between two floats by a hair: rounding to double first lands exactly on the tie and rounds to even.
        String text = "1.00000005960464477550";
        InputBatch b = read("{\"inputs\": [{\"name\": \"ids\", \"shape\": [1, 3], \"datatype\": \"INT64\", \"data\": [1, 2, 3]}, "
                + "{\"name\": \"x\", \"shape\": [1, 2], \"datatype\": \"FP32\", \"data\": [" + text + ", 0]}]}");
        assertEquals(Float.parseFloat(text), ((float[]) b.inputs().get("x").data())[0]);
        assertTrue(Float.parseFloat(text) != (float) Double.parseDouble(text), "the test needs a double-rounding case");
    }

    private static final String IDS = "{\"name\": \"ids\", \"shape\": [1, 3], \"datatype\": \"INT64\", \"data\": [1, 2, 3]}";

    @Test
    void everyMistakeIsRefusedNamingTheInputAndWhatIsExpected() {
        assertEquals("r.json: the body is empty; expected a JSON object {\"inputs\": [...]}", refusal(""));
        assertEquals("r.json: the request has no \"inputs\"; the model's inputs are ids INT64 [batch, 3], x FP32 [batch, 2]",
                refusal("{\"id\": \"1\"}"));
        assertEquals("r.json: 'input_ids' is not an input of the model (its inputs are ids INT64 [batch, 3], x FP32 "
                + "[batch, 2]); name the data after the model's inputs", refusal("{\"inputs\": [{\"name\": \"input_ids\", "
                + "\"shape\": [1, 3], \"datatype\": \"INT64\", \"data\": [1, 2, 3]}]}"));
        assertEquals("r.json: input 'ids' must be INT64 (numpy int64), found INT32 (numpy int32); convert the data to INT64 "
                + "(numpy: a.astype(np.int64))", refusal("{\"inputs\": [{\"name\": \"ids\", \"shape\": [1, 3], "
                + "\"datatype\": \"INT32\", \"data\": [1, 2, 3]}]}"));
        assertEquals("r.json: input 'ids': unknown datatype 'int64'; the model's input 'ids' is INT64 (datatypes are upper "
                + "case)", refusal("{\"inputs\": [{\"name\": \"ids\", \"shape\": [1, 3], \"datatype\": \"int64\", \"data\": [1, 2, 3]}]}"));
        assertEquals("r.json: input 'ids' must have shape [batch, 3] (batch: any size), found [1, 4] (dimension 1 is 4, "
                + "not 3); reshape the data to [batch, 3]", refusal("{\"inputs\": [{\"name\": \"ids\", \"shape\": [1, 4], "
                + "\"datatype\": \"INT64\", \"data\": [1, 2, 3, 4]}]}"));
        assertEquals("r.json: no data for the model's input x FP32 [batch, 2] (found only 'ids'); give data named 'x'",
                refusal("{\"inputs\": [" + IDS + "]}"));
        assertEquals("r.json: input 'x': \"data\" has 3 values but shape [1, 2] needs 2", refusal("{\"inputs\": [" + IDS
                + ", {\"name\": \"x\", \"shape\": [1, 2], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}]}"));
        assertEquals("r.json: input 'x': nested \"data\" does not match the shape [2, 2]: data[1] has 1 entries but "
                + "dimension 1 has size 2", refusal("{\"inputs\": [{\"name\": \"ids\", \"shape\": [2, 3], \"datatype\": \"INT64\", "
                + "\"data\": [1, 2, 3, 4, 5, 6]}, {\"name\": \"x\", \"shape\": [2, 2], \"datatype\": \"FP32\", \"data\": [[1, 2], [3]]}]}"));
        assertEquals("r.json: input 'ids' data[1]: expected INT64, an integer from -9223372036854775808 to "
                + "9223372036854775807, but got 2.5", refusal("{\"inputs\": [{\"name\": \"ids\", \"shape\": [1, 3], "
                + "\"datatype\": \"INT64\", \"data\": [1, 2.5, 3]}]}"));
        assertEquals("r.json: input 'x' data[0]: expected FP32, a number within ±3.4028235E38 or \"NaN\", \"Infinity\", "
                + "\"-Infinity\", but got 1e39", refusal("{\"inputs\": [" + IDS + ", {\"name\": \"x\", \"shape\": [1, 2], "
                + "\"datatype\": \"FP32\", \"data\": [1e39, 0]}]}"));
        assertEquals("r.json: input 'ids' has no \"data\"; send the values as a JSON array in \"data\" (binary tensor data "
                + "is not supported)", refusal("{\"inputs\": [{\"name\": \"ids\", \"shape\": [1, 3], \"datatype\": \"INT64\", "
                + "\"parameters\": {}}]}"));
        assertEquals("r.json: the body has \"name\" twice in one object", refusal("{\"inputs\": [{\"name\": \"ids\", "
                + "\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"INT64\", \"data\": [1, 2, 3]}]}"));
        assertEquals("r.json: unknown output 'probs' in \"outputs\"; the model's outputs are scores, half",
                refusal("{\"inputs\": [" + IDS + "], \"outputs\": [{\"name\": \"probs\"}]}"));
        assertTrue(refusal("{\"inputs\": [").startsWith("r.json: the body is not valid JSON: "));
    }
}
