package dev.squeeze.compress.quant;

/**
 * IEEE 754 half precision (binary16), for weight scales: an int8 layer's per-channel scales rounded to values a
 * float16 holds exactly cost an ONNX file 2 bytes each instead of 4 (a FLOAT16 tensor and a Cast that ONNX Runtime
 * folds at load), while every computation still runs on the same float32 values. Only the normal range is used:
 * a value below 2^-14 (a channel of weights under 8e-6) or above 65504 keeps its float32 value.
 */
public final class Float16 {
    /** The smallest normal float16, 2^-14. */
    private static final float MIN_NORMAL = 0x1p-14f;
    /** The largest float16. */
    private static final float MAX = 65504f;

    private Float16() {
    }

    /** {@code x} rounded to the nearest float16 (ties to even) where it is in float16's normal range; else {@code x}. */
    public static float round(float x) {
        float a = Math.abs(x);
        if (!(a >= MIN_NORMAL && a <= MAX)) return x;
        double ulp = Math.scalb(1.0, Math.getExponent(x) - 10);
        return (float) (Math.rint(x / ulp) * ulp);
    }

    /** {@link #round} of each value, in a new array. */
    public static float[] round(float[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < out.length; i++) out[i] = round(values[i]);
        return out;
    }

    /** Whether {@code x} is a normal float16 value (or zero), so that {@link #bits} holds it exactly. */
    public static boolean exact(float x) {
        return x == 0 || (Math.abs(x) >= MIN_NORMAL && Math.abs(x) <= MAX && round(x) == x);
    }

    /**
     * The float16 bits of {@code x}, which must be {@link #exact}.
     *
     * @throws IllegalArgumentException when it is not
     */
    public static short bits(float x) {
        if (!exact(x)) throw new IllegalArgumentException(x + " is not a float16 value");
        int sign = (Float.floatToRawIntBits(x) >>> 16) & 0x8000;
        if (x == 0) return (short) sign;
        int exponent = Math.getExponent(x);
        int mantissa = (int) Math.round(Math.abs(x) / Math.scalb(1.0, exponent - 10)) - 1024;
        return (short) (sign | (exponent + 15) << 10 | mantissa);
    }

    /** The float a normal float16 (or zero) of {@code bits} holds. */
    public static float value(short bits) {
        int sign = bits & 0x8000;
        int exponent = (bits >>> 10) & 0x1f;
        int mantissa = bits & 0x3ff;
        if (exponent == 0 && mantissa == 0) return sign != 0 ? -0f : 0f;
        if (exponent == 0 || exponent == 31) throw new IllegalArgumentException("not a normal float16: " + (bits & 0xffff));
        float v = Math.scalb(1f + mantissa / 1024f, exponent - 15);
        return sign != 0 ? -v : v;
    }
}
