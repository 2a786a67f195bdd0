package dev.squeeze.serve.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;

import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * A tensor in Java memory: name, type, shape and a flat row-major array of {@link TensorType#arrayClass()}. What the
 * protocol codec produces and consumes, what the batcher stacks along the first dimension and splits back.
 */
public record HostTensor(String name, TensorType type, long[] shape, Object data) {

    public HostTensor {
        if (!type.carried()) throw new IllegalArgumentException(type + " tensors cannot be created in ONNX Runtime's Java API");
        if (!type.arrayClass().isInstance(data)) {
            throw new IllegalArgumentException(name + ": " + type + " data must be a " + type.arrayClass().getSimpleName());
        }
        long n = elementCount(shape);
        if (Array.getLength(data) != n) {
            throw new IllegalArgumentException(name + ": " + Array.getLength(data) + " values for shape " + Arrays.toString(shape));
        }
    }

    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Rows along the first dimension (1 for a scalar). */
    public long rows() {
        return shape.length == 0 ? 1 : shape[0];
    }

    /** Tensors of one name and type stacked along the first dimension; every other dimension must agree. */
    public static HostTensor concat(List<HostTensor> parts) {
        HostTensor first = parts.get(0);
        if (parts.size() == 1) return first;
        long rows = 0;
        for (HostTensor p : parts) {
            if (p.type != first.type || p.shape.length != first.shape.length || p.shape.length == 0
                    || !Arrays.equals(Arrays.copyOfRange(p.shape, 1, p.shape.length),
                    Arrays.copyOfRange(first.shape, 1, first.shape.length))) {
                throw new IllegalArgumentException("cannot stack " + p.name + " " + Arrays.toString(p.shape) + " on "
                        + Arrays.toString(first.shape));
            }
            rows += p.shape[0];
        }
        long[] shape = first.shape.clone();
        shape[0] = rows;
        Object out = Array.newInstance(first.type.arrayClass().getComponentType(), Math.toIntExact(elementCount(shape)));
        int at = 0;
        for (HostTensor p : parts) {
            int len = Array.getLength(p.data);
            System.arraycopy(p.data, 0, out, at, len);
            at += len;
        }
        return new HostTensor(first.name, first.type, shape, out);
    }

    /** Rows {@code [from, to)} along the first dimension. */
    public HostTensor slice(long from, long to) {
        long rowSize = shape.length == 0 ? 1 : elementCount(Arrays.copyOfRange(shape, 1, shape.length));
        long[] s = shape.clone();
        s[0] = to - from;
        Object out = Array.newInstance(type.arrayClass().getComponentType(), Math.toIntExact((to - from) * rowSize));
        System.arraycopy(data, Math.toIntExact(from * rowSize), out, 0, Math.toIntExact((to - from) * rowSize));
        return new HostTensor(name, type, s, out);
    }

    /** An ONNX Runtime tensor holding a copy of this one's data (close it after the run). */
    public OnnxTensor toOnnx(OrtEnvironment env) throws OrtException {
        return switch (type) {
            case FP32 -> OnnxTensor.createTensor(env, FloatBuffer.wrap((float[]) data), shape);
            case FP64 -> OnnxTensor.createTensor(env, DoubleBuffer.wrap((double[]) data), shape);
            case INT64 -> OnnxTensor.createTensor(env, LongBuffer.wrap((long[]) data), shape);
            case INT32 -> OnnxTensor.createTensor(env, IntBuffer.wrap((int[]) data), shape);
            case INT16 -> OnnxTensor.createTensor(env, ShortBuffer.wrap((short[]) data), shape);
            case FP16, BF16 -> OnnxTensor.createTensor(env, ShortBuffer.wrap((short[]) data), shape, type.javaType());
            case INT8, UINT8 -> OnnxTensor.createTensor(env, ByteBuffer.wrap((byte[]) data), shape, type.javaType());
            case BOOL -> {
                boolean[] b = (boolean[]) data;
                ByteBuffer buf = ByteBuffer.allocateDirect(b.length).order(ByteOrder.nativeOrder());
                for (boolean v : b) buf.put((byte) (v ? 1 : 0));
                buf.rewind();
                yield OnnxTensor.createTensor(env, buf, shape, type.javaType());
            }
            case BYTES -> OnnxTensor.createTensor(env, (String[]) data, shape);
            default -> throw new IllegalStateException(type + " is not carried");
        };
    }

    /**
     * An ONNX Runtime tensor over {@code scratch}, a direct buffer of at least {@link RawTensors#encodedBytes} bytes
     * that this tensor's data is copied into: ONNX Runtime reads a direct buffer in place, where for a heap array it
     * allocates a fresh native copy per call that only a garbage collection frees (so every call touches new pages).
     * The caller reuses {@code scratch} only after closing the tensor. BYTES tensors (and a big-endian platform) take
     * {@link #toOnnx(OrtEnvironment)}'s path.
     */
    public OnnxTensor toOnnx(OrtEnvironment env, ByteBuffer scratch) throws OrtException {
        if (type == TensorType.BYTES || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) return toOnnx(env);
        if (!scratch.isDirect()) throw new IllegalArgumentException("scratch must be a direct buffer");
        ByteBuffer b = scratch.clear().order(ByteOrder.LITTLE_ENDIAN);
        b.limit(RawTensors.encodedBytes(this));
        RawTensors.encode(this, b);
        b.flip();
        return OnnxTensor.createTensor(env, b, shape, type.javaType());
    }

    /** A copy of an ONNX Runtime tensor's data. */
    public static HostTensor fromOnnx(String name, OnnxTensor t) throws OrtException {
        var info = t.getInfo();
        TensorType type = TensorType.ofOnnx(info.onnxType).orElseThrow(() ->
                new IllegalStateException(name + ": unsupported output type " + info.onnxType));
        long[] shape = info.getShape();
        Object data = switch (type) {
            case FP32 -> copy(t.getFloatBuffer());
            case FP64 -> copy(t.getDoubleBuffer());
            case INT64 -> copy(t.getLongBuffer());
            case INT32 -> copy(t.getIntBuffer());
            case INT16, FP16, BF16 -> copy(t.getShortBuffer());
            case INT8, UINT8 -> copy(t.getByteBuffer());
            case BOOL -> {
                ByteBuffer b = t.getByteBuffer();
                boolean[] out = new boolean[b.remaining()];
                for (int i = 0; i < out.length; i++) out[i] = b.get(i) != 0;
                yield out;
            }
            case BYTES -> flattenStrings(t.getValue(), Math.toIntExact(elementCount(shape)));
            default -> throw new IllegalStateException(name + ": " + type + " outputs cannot be read in Java");
        };
        return new HostTensor(name, type, shape, data);
    }

    private static float[] copy(FloatBuffer b) {
        float[] a = new float[b.remaining()];
        b.get(a);
        return a;
    }

    private static double[] copy(DoubleBuffer b) {
        double[] a = new double[b.remaining()];
        b.get(a);
        return a;
    }

    private static long[] copy(LongBuffer b) {
        long[] a = new long[b.remaining()];
        b.get(a);
        return a;
    }

    private static int[] copy(IntBuffer b) {
        int[] a = new int[b.remaining()];
        b.get(a);
        return a;
    }

    private static short[] copy(ShortBuffer b) {
        short[] a = new short[b.remaining()];
        b.get(a);
        return a;
    }

    private static byte[] copy(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return a;
    }

    private static String[] flattenStrings(Object value, int n) {
        String[] out = new String[n];
        int[] at = {0};
        flatten(value, out, at);
        return out;
    }

    private static void flatten(Object value, String[] out, int[] at) {
        if (value instanceof String s) {
            out[at[0]++] = s;
        } else {
            for (int i = 0; i < Array.getLength(value); i++) flatten(Array.get(value, i), out, at);
        }
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape);
    }
}
