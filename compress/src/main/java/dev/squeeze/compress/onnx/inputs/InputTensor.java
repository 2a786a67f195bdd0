package dev.squeeze.compress.onnx.inputs;

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
import java.util.Objects;

/**
 * One tensor of input data, immutable: element type, shape and a flat row-major array of
 * {@link ElementType#arrayClass()} (its accessors return copies).
 */
public record InputTensor(ElementType type, long[] shape, Object data) {

    public InputTensor {
        Objects.requireNonNull(type, "type");
        if (!type.readable()) throw new IllegalArgumentException(type + " data cannot be held");
        if (!type.arrayClass().isInstance(data)) {
            throw new IllegalArgumentException(type + " data must be a " + type.arrayClass().getSimpleName());
        }
        shape = shape.clone();
        if (Array.getLength(data) != elementCount(shape)) {
            throw new IllegalArgumentException(Array.getLength(data) + " values for shape " + Arrays.toString(shape));
        }
    }

    public static InputTensor ofFloats(float[] data, long... shape) {
        return new InputTensor(ElementType.FP32, shape, data.clone());
    }

    public static InputTensor ofLongs(long[] data, long... shape) {
        return new InputTensor(ElementType.INT64, shape, data.clone());
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** A copy of the flat data array. */
    @Override
    public Object data() {
        return copy(data);
    }

    /** The number of elements. */
    public int size() {
        return Array.getLength(data);
    }

    /** Rows along the first dimension (1 for a scalar). */
    public long rows() {
        return shape.length == 0 ? 1 : shape[0];
    }

    /** Every value as a double (booleans as 0 and 1, UINT8 unsigned), for comparing outputs. */
    public double[] toDoubles() {
        int n = size();
        double[] out = new double[n];
        switch (type) {
            case BOOL -> {
                boolean[] a = (boolean[]) data;
                for (int i = 0; i < n; i++) out[i] = a[i] ? 1 : 0;
            }
            case UINT8 -> {
                byte[] a = (byte[]) data;
                for (int i = 0; i < n; i++) out[i] = a[i] & 0xff;
            }
            case INT8 -> {
                byte[] a = (byte[]) data;
                for (int i = 0; i < n; i++) out[i] = a[i];
            }
            case INT16 -> {
                short[] a = (short[]) data;
                for (int i = 0; i < n; i++) out[i] = a[i];
            }
            case INT32 -> {
                int[] a = (int[]) data;
                for (int i = 0; i < n; i++) out[i] = a[i];
            }
            case INT64 -> {
                long[] a = (long[]) data;
                for (int i = 0; i < n; i++) out[i] = a[i];
            }
            case FP32 -> {
                float[] a = (float[]) data;
                for (int i = 0; i < n; i++) out[i] = a[i];
            }
            case FP64 -> System.arraycopy(data, 0, out, 0, n);
            default -> throw new IllegalStateException(type + " is not readable");
        }
        return out;
    }

    /** Rows {@code [from, to)} along the first dimension. */
    public InputTensor rows(long from, long to) {
        if (shape.length == 0) throw new IllegalStateException("a scalar has no rows");
        int rowSize = Math.toIntExact(elementCount(Arrays.copyOfRange(shape, 1, shape.length)));
        long[] s = shape.clone();
        s[0] = to - from;
        Object out = Array.newInstance(type.arrayClass().getComponentType(), Math.toIntExact((to - from) * rowSize));
        System.arraycopy(data, Math.toIntExact(from * rowSize), out, 0, Array.getLength(out));
        return new InputTensor(type, s, out);
    }

    /** Tensors of one type stacked along the first dimension; every other dimension must agree. */
    public static InputTensor stack(List<InputTensor> parts) {
        InputTensor first = parts.get(0);
        if (parts.size() == 1) return first;
        long rows = 0;
        for (InputTensor p : parts) {
            if (p.type != first.type || p.shape.length == 0 || p.shape.length != first.shape.length
                    || !Arrays.equals(p.shape, 1, p.shape.length, first.shape, 1, first.shape.length)) {
                throw new IllegalArgumentException("cannot stack " + Arrays.toString(p.shape) + " on " + Arrays.toString(first.shape));
            }
            rows += p.shape[0];
        }
        long[] shape = first.shape.clone();
        shape[0] = rows;
        Object out = Array.newInstance(first.type.arrayClass().getComponentType(), Math.toIntExact(elementCount(shape)));
        int at = 0;
        for (InputTensor p : parts) {
            System.arraycopy(p.data, 0, out, at, p.size());
            at += p.size();
        }
        return new InputTensor(first.type, shape, out);
    }

    /** An ONNX Runtime tensor holding a copy of the data; the caller closes it. */
    public OnnxTensor toOnnx(OrtEnvironment env) throws OrtException {
        return switch (type) {
            case FP32 -> OnnxTensor.createTensor(env, FloatBuffer.wrap((float[]) data), shape);
            case FP64 -> OnnxTensor.createTensor(env, DoubleBuffer.wrap((double[]) data), shape);
            case INT64 -> OnnxTensor.createTensor(env, LongBuffer.wrap((long[]) data), shape);
            case INT32 -> OnnxTensor.createTensor(env, IntBuffer.wrap((int[]) data), shape);
            case INT16 -> OnnxTensor.createTensor(env, ShortBuffer.wrap((short[]) data), shape);
            case INT8, UINT8 -> OnnxTensor.createTensor(env, ByteBuffer.wrap((byte[]) data), shape, type.javaType());
            case BOOL -> {
                boolean[] b = (boolean[]) data;
                ByteBuffer buf = ByteBuffer.allocateDirect(b.length).order(ByteOrder.nativeOrder());
                for (boolean v : b) buf.put((byte) (v ? 1 : 0));
                buf.rewind();
                yield OnnxTensor.createTensor(env, buf, shape, type.javaType());
            }
            default -> throw new IllegalStateException(type + " is not readable");
        };
    }

    /**
     * A copy of an ONNX Runtime tensor (a model's output).
     *
     * @throws IllegalArgumentException when its element type cannot be held
     */
    public static InputTensor fromOnnx(OnnxTensor t) throws OrtException {
        var info = t.getInfo();
        ElementType type = Arrays.stream(ElementType.values()).filter(e -> e.readable() && e.javaType() == info.type)
                .findFirst().orElseThrow(() -> new IllegalArgumentException("cannot hold " + info.type + " tensors"));
        Object data = switch (type) {
            case FP32 -> get(t.getFloatBuffer(), float[].class);
            case FP64 -> get(t.getDoubleBuffer(), double[].class);
            case INT64 -> get(t.getLongBuffer(), long[].class);
            case INT32 -> get(t.getIntBuffer(), int[].class);
            case INT16 -> get(t.getShortBuffer(), short[].class);
            case INT8, UINT8 -> get(t.getByteBuffer(), byte[].class);
            case BOOL -> {
                ByteBuffer b = t.getByteBuffer();
                boolean[] out = new boolean[b.remaining()];
                for (int i = 0; i < out.length; i++) out[i] = b.get(i) != 0;
                yield out;
            }
            default -> throw new IllegalStateException(type + " is not readable");
        };
        return new InputTensor(type, info.getShape(), data);
    }

    private static Object get(java.nio.Buffer buffer, Class<?> arrayClass) {
        Object a = Array.newInstance(arrayClass.getComponentType(), buffer.remaining());
        if (buffer instanceof FloatBuffer b) b.get((float[]) a);
        else if (buffer instanceof DoubleBuffer b) b.get((double[]) a);
        else if (buffer instanceof LongBuffer b) b.get((long[]) a);
        else if (buffer instanceof IntBuffer b) b.get((int[]) a);
        else if (buffer instanceof ShortBuffer b) b.get((short[]) a);
        else ((ByteBuffer) buffer).get((byte[]) a);
        return a;
    }

    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    private static Object copy(Object array) {
        Object out = Array.newInstance(array.getClass().getComponentType(), Array.getLength(array));
        System.arraycopy(array, 0, out, 0, Array.getLength(array));
        return out;
    }

    /** Equal when type, shape and every value are. */
    @Override
    public boolean equals(Object o) {
        return o instanceof InputTensor t && type == t.type && Arrays.equals(shape, t.shape)
                && Arrays.deepEquals(new Object[]{data}, new Object[]{t.data});
    }

    @Override
    public int hashCode() {
        return 31 * (31 * type.hashCode() + Arrays.hashCode(shape)) + Arrays.deepHashCode(new Object[]{data});
    }

    @Override
    public String toString() {
        return type + " " + Arrays.toString(shape);
    }
}
