package dev.squeeze.serve.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Tensor data as raw bytes, the encoding shared by the HTTP protocol's binary tensor data extension and gRPC's
 * {@code raw_input_contents} / {@code raw_output_contents}: the elements in row-major order, little-endian, each in its
 * type's width (BOOL one byte, 0 or 1; FP16 and BF16 their 16 bits); BYTES elements each as a 4-byte little-endian
 * length followed by that many bytes (read and written as UTF-8: ONNX string tensors hold text).
 */
public final class RawTensors {
    private RawTensors() {
    }

    /** Bytes one element of {@code type} takes; -1 for BYTES, whose elements each carry their own length. */
    public static int elementBytes(TensorType type) {
        return switch (type) {
            case BOOL, UINT8, INT8 -> 1;
            case INT16, UINT16, FP16, BF16 -> 2;
            case INT32, UINT32, FP32 -> 4;
            case INT64, UINT64, FP64 -> 8;
            case BYTES -> -1;
        };
    }

    /**
     * Decodes {@code elements} values of {@code type} from all of {@code raw}'s remaining bytes.
     *
     * @param what how error messages name the tensor ("input 'x'")
     * @return the flat Java array {@link HostTensor} holds for {@code type}
     * @throws BadRequestException when the byte count disagrees with the element count, a BYTES length runs past the
     *                             data, or a BOOL byte is neither 0 nor 1
     */
    public static Object decode(TensorType type, int elements, ByteBuffer raw, String what) {
        ByteBuffer b = raw.slice().order(ByteOrder.LITTLE_ENDIAN);
        int size = elementBytes(type);
        if (size > 0 && (long) elements * size != b.remaining()) {
            throw new BadRequestException(what + ": " + b.remaining() + " bytes of " + type + " data, but its shape needs "
                    + elements + " values of " + size + " byte" + (size == 1 ? "" : "s") + " = " + (long) elements * size
                    + " bytes");
        }
        return switch (type) {
            case BOOL -> {
                boolean[] out = new boolean[elements];
                for (int i = 0; i < elements; i++) {
                    byte v = b.get(i);
                    if (v != 0 && v != 1) {
                        throw new BadRequestException(what + ": BOOL byte " + i + " is " + (v & 0xff) + "; BOOL values are "
                                + "one byte each, 0 (false) or 1 (true)");
                    }
                    out[i] = v == 1;
                }
                yield out;
            }
            case UINT8, INT8 -> {
                byte[] out = new byte[elements];
                b.get(out);
                yield out;
            }
            case INT16, FP16, BF16 -> {
                short[] out = new short[elements];
                b.asShortBuffer().get(out);
                yield out;
            }
            case INT32 -> {
                int[] out = new int[elements];
                b.asIntBuffer().get(out);
                yield out;
            }
            case INT64 -> {
                long[] out = new long[elements];
                b.asLongBuffer().get(out);
                yield out;
            }
            case FP32 -> {
                float[] out = new float[elements];
                b.asFloatBuffer().get(out);
                yield out;
            }
            case FP64 -> {
                double[] out = new double[elements];
                b.asDoubleBuffer().get(out);
                yield out;
            }
            case BYTES -> {
                String[] out = new String[elements];
                for (int i = 0; i < elements; i++) {
                    if (b.remaining() < 4) {
                        throw new BadRequestException(what + ": BYTES data ends at element " + i + " of " + elements
                                + "; each element is a 4-byte little-endian length followed by that many bytes");
                    }
                    long len = Integer.toUnsignedLong(b.getInt());
                    if (len > b.remaining()) {
                        throw new BadRequestException(what + ": BYTES element " + i + " says it is " + len + " bytes long "
                                + "but only " + b.remaining() + " bytes follow");
                    }
                    byte[] s = new byte[(int) len];
                    b.get(s);
                    out[i] = new String(s, StandardCharsets.UTF_8);
                }
                if (b.hasRemaining()) {
                    throw new BadRequestException(what + ": " + b.remaining() + " bytes left after its " + elements
                            + " BYTES elements; the data must hold exactly as many elements as its shape");
                }
                yield out;
            }
            default -> throw new BadRequestException(what + ": " + type + " tensors cannot be carried");
        };
    }

    /** How many bytes {@link #encode} writes for {@code t}. */
    public static int encodedBytes(HostTensor t) {
        if (t.type() != TensorType.BYTES) {
            return Math.multiplyExact(java.lang.reflect.Array.getLength(t.data()), elementBytes(t.type()));
        }
        int n = 0;
        for (String s : (String[]) t.data()) n = Math.addExact(n, 4 + s.getBytes(StandardCharsets.UTF_8).length);
        return n;
    }

    /** {@code t}'s data as raw bytes. */
    public static byte[] encode(HostTensor t) {
        ByteBuffer out = ByteBuffer.allocate(encodedBytes(t)).order(ByteOrder.LITTLE_ENDIAN);
        encode(t, out);
        return out.array();
    }

    /** Writes {@code t}'s data as raw bytes at {@code out}'s position (which must be little-endian), advancing it. */
    public static void encode(HostTensor t, ByteBuffer out) {
        if (out.order() != ByteOrder.LITTLE_ENDIAN) throw new IllegalArgumentException("raw tensor data is little-endian");
        switch (t.type()) {
            case BOOL -> {
                for (boolean v : (boolean[]) t.data()) out.put((byte) (v ? 1 : 0));
            }
            case UINT8, INT8 -> out.put((byte[]) t.data());
            case INT16, FP16, BF16 -> {
                short[] d = (short[]) t.data();
                out.asShortBuffer().put(d);
                out.position(out.position() + 2 * d.length);
            }
            case INT32 -> {
                int[] d = (int[]) t.data();
                out.asIntBuffer().put(d);
                out.position(out.position() + 4 * d.length);
            }
            case INT64 -> {
                long[] d = (long[]) t.data();
                out.asLongBuffer().put(d);
                out.position(out.position() + 8 * d.length);
            }
            case FP32 -> {
                float[] d = (float[]) t.data();
                out.asFloatBuffer().put(d);
                out.position(out.position() + 4 * d.length);
            }
            case FP64 -> {
                double[] d = (double[]) t.data();
                out.asDoubleBuffer().put(d);
                out.position(out.position() + 8 * d.length);
            }
            case BYTES -> {
                for (String s : (String[]) t.data()) {
                    byte[] u = s.getBytes(StandardCharsets.UTF_8);
                    out.putInt(u.length).put(u);
                }
            }
            default -> throw new IllegalStateException(t.type() + " is not carried");
        }
    }
}
