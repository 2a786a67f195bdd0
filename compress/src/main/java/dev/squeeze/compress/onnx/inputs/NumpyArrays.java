package dev.squeeze.compress.onnx.inputs;

import dev.squeeze.core.BadInputException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * numpy's {@code .npy} format (versions 1 to 3), read here rather than by ND4J: ND4J 1.0.0-M2.1 returns a
 * Fortran-ordered array's values in the wrong order without a word, aborts the whole JVM (a native assertion) on a
 * big-endian array, and cannot read a compressed {@code .npz} ({@code np.savez_compressed}). The format is a magic
 * string, a Python dict literal giving dtype, order and shape, and the raw values.
 */
final class NumpyArrays {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=]?)([a-zA-Z])(\\d+)'");
    private static final Pattern ANY_DESCR = Pattern.compile("'descr'\\s*:\\s*('[^']*'|\\[)");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    private static final String READABLE = "bool, int8, uint8, int16, int32, int64, float32 or float64";

    private NumpyArrays() {
    }

    /**
     * @param what how messages name the array, e.g. {@code calibration.npz: array 'x'}
     * @throws BadInputException when the bytes are not an .npy array of a readable dtype
     */
    static InputTensor read(byte[] bytes, String what) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (byte b : MAGIC) {
            if (!in.hasRemaining() || in.get() != b) {
                throw new BadInputException(what + " is not a numpy .npy array (no \\x93NUMPY magic); save it with numpy.save or numpy.savez");
            }
        }
        if (in.remaining() < 4) throw truncated(what);
        int major = in.get();
        in.get();
        long headerLength = major == 1 ? Short.toUnsignedInt(in.getShort()) : in.remaining() >= 4 ? Integer.toUnsignedLong(in.getInt()) : -1;
        if (major < 1 || major > 3) {
            throw new BadInputException(what + " is .npy format version " + major + ", which Squeeze cannot read; save it "
                    + "with numpy.save (format 1 to 3)");
        }
        if (headerLength < 0 || headerLength > in.remaining()) throw truncated(what);
        String header = new String(bytes, in.position(), (int) headerLength,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        in.position(in.position() + (int) headerLength);

        Matcher descr = DESCR.matcher(header);
        if (!descr.find()) {
            Matcher any = ANY_DESCR.matcher(header);
            String found = any.find() ? any.group(1).equals("[") ? "a structured numpy dtype" : "numpy dtype " + any.group(1) : "no dtype";
            throw new BadInputException(what + " has " + found + ", which Squeeze cannot read; convert it to the model "
                    + "input's type (" + READABLE + ")");
        }
        ElementType type = type(descr.group(2), Integer.parseInt(descr.group(3)));
        if (type == null) {
            throw new BadInputException(what + " has numpy dtype '" + descr.group(1) + descr.group(2) + descr.group(3)
                    + "', which Squeeze cannot read; convert it to the model input's type (" + READABLE + ")");
        }
        ByteOrder order = descr.group(1).equals(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        Matcher fortran = FORTRAN.matcher(header);
        Matcher shapeText = SHAPE.matcher(header);
        if (!fortran.find() || !shapeText.find()) {
            throw new BadInputException(what + " has a damaged .npy header (" + header.strip() + "); save it again with numpy.save");
        }
        long[] shape = shape(shapeText.group(1), what);
        int size = Integer.parseInt(descr.group(3));
        long n = InputTensor.elementCount(shape);
        if (n * size > in.remaining()) throw truncated(what);
        byte[] raw = new byte[(int) (n * size)];
        in.get(raw);
        if (fortran.group(1).equals("True") && shape.length > 1) raw = toRowMajor(raw, shape, size);
        return new InputTensor(type, shape, decode(ByteBuffer.wrap(raw).order(order), type, (int) n));
    }

    private static ElementType type(String kind, int size) {
        return switch (kind + size) {
            case "b1" -> ElementType.BOOL;
            case "u1" -> ElementType.UINT8;
            case "i1" -> ElementType.INT8;
            case "i2" -> ElementType.INT16;
            case "i4" -> ElementType.INT32;
            case "i8" -> ElementType.INT64;
            case "f4" -> ElementType.FP32;
            case "f8" -> ElementType.FP64;
            default -> null;
        };
    }

    private static long[] shape(String text, String what) {
        List<Long> dims = new ArrayList<>();
        for (String d : text.split(",")) {
            String s = d.strip();
            if (s.endsWith("L")) s = s.substring(0, s.length() - 1);
            if (s.isEmpty()) continue;
            try {
                dims.add(Long.parseLong(s));
            } catch (NumberFormatException e) {
                throw new BadInputException(what + " has a damaged .npy shape (" + text + "); save it again with numpy.save");
            }
        }
        try {
            long n = InputTensor.elementCount(dims.stream().mapToLong(Long::longValue).toArray());
            if (n > Integer.MAX_VALUE - 8) throw new ArithmeticException();
        } catch (ArithmeticException e) {
            throw new BadInputException(what + " has shape (" + text + "), too many elements for one Java array; split it");
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    /** Column-major element order to row-major. */
    private static byte[] toRowMajor(byte[] raw, long[] shape, int size) {
        int rank = shape.length;
        long[] fStride = new long[rank];
        long s = 1;
        for (int d = 0; d < rank; d++) {
            fStride[d] = s;
            s *= shape[d];
        }
        byte[] out = new byte[raw.length];
        long[] index = new long[rank];
        int n = raw.length / size;
        for (int c = 0; c < n; c++) {
            long f = 0;
            for (int d = 0; d < rank; d++) f += index[d] * fStride[d];
            System.arraycopy(raw, (int) f * size, out, c * size, size);
            for (int d = rank - 1; d >= 0 && ++index[d] == shape[d]; d--) index[d] = 0;
        }
        return out;
    }

    private static Object decode(ByteBuffer b, ElementType type, int n) {
        switch (type) {
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) a[i] = b.get(i) != 0;
                return a;
            }
            case UINT8, INT8 -> {
                byte[] a = new byte[n];
                b.get(a);
                return a;
            }
            case INT16 -> {
                short[] a = new short[n];
                b.asShortBuffer().get(a);
                return a;
            }
            case INT32 -> {
                int[] a = new int[n];
                b.asIntBuffer().get(a);
                return a;
            }
            case INT64 -> {
                long[] a = new long[n];
                b.asLongBuffer().get(a);
                return a;
            }
            case FP32 -> {
                float[] a = new float[n];
                b.asFloatBuffer().get(a);
                return a;
            }
            case FP64 -> {
                double[] a = new double[n];
                b.asDoubleBuffer().get(a);
                return a;
            }
            default -> throw new IllegalStateException(type.name());
        }
    }

    private static BadInputException truncated(String what) {
        return new BadInputException(what + " is cut short: the .npy data ends before its shape says; save it again with numpy.save");
    }
}
