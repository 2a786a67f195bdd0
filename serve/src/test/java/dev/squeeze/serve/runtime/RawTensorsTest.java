package dev.squeeze.serve.runtime;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RawTensorsTest {

    @Test
    void everyCarriedTypeRoundTripsThroughRawBytes() {
        HostTensor[] tensors = {
                new HostTensor("b", TensorType.BOOL, new long[]{3}, new boolean[]{true, false, true}),
                new HostTensor("u8", TensorType.UINT8, new long[]{2}, new byte[]{(byte) 255, 7}),
                new HostTensor("i8", TensorType.INT8, new long[]{2}, new byte[]{-128, 127}),
                new HostTensor("i16", TensorType.INT16, new long[]{2}, new short[]{-32768, 32767}),
                new HostTensor("h", TensorType.FP16, new long[]{1}, new short[]{0x3c00}),
                new HostTensor("bf", TensorType.BF16, new long[]{1}, new short[]{0x3f80}),
                new HostTensor("i32", TensorType.INT32, new long[]{1, 2}, new int[]{Integer.MIN_VALUE, 5}),
                new HostTensor("i64", TensorType.INT64, new long[]{1}, new long[]{Long.MAX_VALUE}),
                new HostTensor("f", TensorType.FP32, new long[]{2}, new float[]{1.5f, Float.NaN}),
                new HostTensor("d", TensorType.FP64, new long[]{1}, new double[]{-0.0}),
                new HostTensor("s", TensorType.BYTES, new long[]{2}, new String[]{"", "héllo"}),
        };
        for (HostTensor t : tensors) {
            byte[] raw = RawTensors.encode(t);
            assertEquals(RawTensors.encodedBytes(t), raw.length, t.name());
            Object back = RawTensors.decode(t.type(), (int) HostTensor.elementCount(t.shape()), ByteBuffer.wrap(raw), t.name());
            assertTrue(java.util.Arrays.deepEquals(new Object[]{t.data()}, new Object[]{back}), t.name());
        }
    }

    @Test
    void rawBytesAreLittleEndianAndBytesElementsLengthPrefixed() {
        assertEquals("0100000002000000", HexFormat.of().formatHex(RawTensors.encode(
                new HostTensor("x", TensorType.INT32, new long[]{2}, new int[]{1, 2}))));
        assertEquals("0000803f", HexFormat.of().formatHex(RawTensors.encode(
                new HostTensor("x", TensorType.FP32, new long[]{1}, new float[]{1f}))));
        assertEquals("020000006869", HexFormat.of().formatHex(RawTensors.encode(
                new HostTensor("x", TensorType.BYTES, new long[]{1}, new String[]{"hi"}))));
    }

    @Test
    void sizesThatDisagreeWithTheShapeAreRefusedWithBothCounts() {
        var e = assertThrows(BadRequestException.class,
                () -> RawTensors.decode(TensorType.FP32, 3, ByteBuffer.allocate(8), "input 'x'"));
        assertTrue(e.getMessage().contains("8 bytes") && e.getMessage().contains("12 bytes"), e.getMessage());
        var truncated = assertThrows(BadRequestException.class, () -> RawTensors.decode(TensorType.BYTES, 1,
                ByteBuffer.wrap(new byte[]{5, 0, 0, 0, 'a'}), "input 's'"));
        assertTrue(truncated.getMessage().contains("5 bytes long"), truncated.getMessage());
        var extra = assertThrows(BadRequestException.class, () -> RawTensors.decode(TensorType.BYTES, 1,
                ByteBuffer.wrap(new byte[]{1, 0, 0, 0, 'a', 'b'}), "input 's'"));
        assertTrue(extra.getMessage().contains("1 bytes left"), extra.getMessage());
        var bool = assertThrows(BadRequestException.class,
                () -> RawTensors.decode(TensorType.BOOL, 1, ByteBuffer.wrap(new byte[]{2}), "input 'b'"));
        assertTrue(bool.getMessage().contains("0 (false) or 1 (true)"), bool.getMessage());
        assertArrayEquals(new boolean[]{true}, (boolean[]) RawTensors.decode(TensorType.BOOL, 1, ByteBuffer.wrap(new byte[]{1}), "b"));
    }
}
