package dev.squeeze.compress.onnx.inputs;

import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class InputFilesTest {
    @TempDir
    Path dir;

    private static final ModelSignature LINEAR = TestInputs.signature(TestInputs.linear(0, 0, 0));
    private static final ModelSignature TWO = TestInputs.signature(TestInputs.twoInputs());
    /** Beyond 2^53: a float or double would round it. */
    private static final long BIG = (1L << 53) + 1;

    @Test
    void anNpyFeedsASingleInputModel() throws Exception {
        Path f = Files.write(dir.resolve("x.npy"), TestInputs.npy(new float[]{1, 2, 3, 4, 5, 6, 7, 8}, 2, 4));
        List<InputBatch> batches = InputFiles.read(f, LINEAR);
        assertEquals(1, batches.size());
        assertEquals(InputTensor.ofFloats(new float[]{1, 2, 3, 4, 5, 6, 7, 8}, 2, 4), batches.get(0).inputs().get("x"));
        assertNull(batches.get(0).labels());
        assertEquals("x.npy", batches.get(0).source());
    }

    @Test
    void anNpzFeedsInputsByNameWithInt64AsLongsAndLabels() throws Exception {
        for (boolean compressed : new boolean[]{false, true}) {
            Map<String, byte[]> arrays = new LinkedHashMap<>();
            arrays.put("x", TestInputs.npy(new float[]{1, 2, 3, 4}, 2, 2));
            arrays.put("ids", TestInputs.npy(new long[]{BIG, -1, 0, 7, 8, Long.MAX_VALUE}, 2, 3));
            arrays.put("labels", TestInputs.npy(new long[]{1, 0}, 2));
            Path f = TestInputs.npz(dir.resolve("data" + compressed + ".npz"), compressed, arrays);
            InputBatch b = InputFiles.read(f, TWO).get(0);
            assertEquals(List.of("ids", "x"), List.copyOf(b.inputs().keySet()), "the model's input order");
            InputTensor ids = b.inputs().get("ids");
            assertEquals(ElementType.INT64, ids.type());
            assertArrayEquals(new long[]{BIG, -1, 0, 7, 8, Long.MAX_VALUE}, (long[]) ids.data());
            assertArrayEquals(new long[]{1, 0}, b.labels());
        }
    }

    @Test
    void fortranOrderAndBigEndianArraysReadInRowMajorOrder() throws Exception {
        // [[1, 2, 3, 4], [5, 6, 7, 8]] stored column by column, big-endian.
        float[] columnMajor = {1, 5, 2, 6, 3, 7, 4, 8};
        ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.BIG_ENDIAN);
        b.asFloatBuffer().put(columnMajor);
        Path f = Files.write(dir.resolve("x.npy"), TestInputs.npy(">f4", true, new long[]{2, 4}, b.array()));
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6, 7, 8}, (float[]) InputFiles.read(f, LINEAR).get(0).inputs().get("x").data());
    }

    private String refusal(Path f, ModelSignature s) {
        return assertThrows(BadInputException.class, () -> InputFiles.read(f, s)).getMessage();
    }

    @Test
    void anNpyForAModelWithTwoInputsIsRefused() throws Exception {
        Path f = Files.write(dir.resolve("x.npy"), TestInputs.npy(new float[]{1, 2}, 1, 2));
        assertEquals("x.npy holds one array but the model has 2 inputs (ids INT64 [batch, 3], x FP32 [batch, 2]); give an "
                + ".npz with one array named after each input", refusal(f, TWO));
    }

    @Test
    void float64ForAFloat32InputIsRefusedBeforeAnyWork() throws Exception {
        Path f = Files.write(dir.resolve("x.npy"), TestInputs.npy(new double[]{1, 2, 3, 4}, 1, 4));
        assertEquals("x.npy: input 'x' must be FP32 (numpy float32), found FP64 (numpy float64); convert the data to FP32 "
                + "(numpy: a.astype(np.float32))", refusal(f, LINEAR));
    }

    @Test
    void anNpzMissingAnInputIsRefused() throws Exception {
        Path f = TestInputs.npz(dir.resolve("d.npz"), false, Map.of("x", TestInputs.npy(new float[]{1, 2}, 1, 2)));
        assertEquals("d.npz: no data for the model's input ids INT64 [batch, 3] (found only 'x'); give data named 'ids'",
                refusal(f, TWO));
    }

    @Test
    void anUnreadableDtypeIsRefused() throws Exception {
        Path f = Files.write(dir.resolve("x.npy"), TestInputs.npy("<f2", false, new long[]{1, 4}, new byte[8]));
        assertEquals("x.npy has numpy dtype '<f2', which Squeeze cannot read; convert it to the model input's type (bool, "
                + "int8, uint8, int16, int32, int64, float32 or float64)", refusal(f, LINEAR));
    }

    @Test
    void labelsMustBeOneIntegerPerRow() throws Exception {
        Map<String, byte[]> arrays = new LinkedHashMap<>();
        arrays.put("x", TestInputs.npy(new float[]{1, 2, 3, 4, 5, 6, 7, 8}, 2, 4));
        arrays.put("labels", TestInputs.npy(new float[]{1, 0}, 2));
        assertEquals("d.npz: array 'labels' is FP32 (numpy float32) but labels are class indices; save them as integers "
                + "(numpy: labels.astype(np.int64))", refusal(TestInputs.npz(dir.resolve("d.npz"), false, arrays), LINEAR));
        arrays.put("labels", TestInputs.npy(new long[]{1, 0, 1}, 3));
        assertEquals("e.npz: array 'labels' must hold one class index per example, shape [2], found [3]; give one integer "
                + "label per row of the inputs", refusal(TestInputs.npz(dir.resolve("e.npz"), false, arrays), LINEAR));
    }

    @Test
    void damagedFilesAreRefused() throws Exception {
        byte[] npy = TestInputs.npy(new float[]{1, 2, 3, 4, 5, 6, 7, 8}, 2, 4);
        Path cut = Files.write(dir.resolve("cut.npy"), java.util.Arrays.copyOf(npy, npy.length - 4));
        assertEquals("cut.npy is cut short: the .npy data ends before its shape says; save it again with numpy.save",
                refusal(cut, LINEAR));
        Path notZip = Files.write(dir.resolve("bad.npz"), npy);
        assertEquals("bad.npz is not an .npz archive (zip END header not found); save the arrays with "
                + "numpy.savez(path, name=array, ...)", refusal(notZip, LINEAR));
        Path notNpy = Files.writeString(dir.resolve("text.npy"), "1,2,3,4");
        assertEquals("text.npy is not a numpy .npy array (no \\x93NUMPY magic); save it with numpy.save or numpy.savez",
                refusal(notNpy, LINEAR));
        Path csv = Files.writeString(dir.resolve("x.csv"), "1,2,3,4");
        assertEquals(csv + " is neither an .npz nor an .npy file nor a folder; give the model's inputs as numpy arrays "
                + "(.npz named after the inputs, .npy for a single input) or as a folder of inference request bodies "
                + "(*.json)", refusal(csv, LINEAR));
    }
}
