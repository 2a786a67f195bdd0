package dev.squeeze.core;

/**
 * The entry stream of a packed weight (Squeeze's {@code dev.squeeze.Unpack} ONNX function): entries of {@code width}
 * bits, packed least significant bit first, each {@code gap * codeRange + code}: {@code gap} zeros are skipped before
 * the element, whose value is {@code code} in the weight's codebook (code 0 is zero: a filler that only skips). Read
 * here for the export, which writes it, and for the benchmark, which counts a packed model's parameters.
 */
public final class PackedEntries {
    /** The ONNX domain of the function that unpacks a weight from its entries. */
    public static final String DOMAIN = "dev.squeeze";
    /** That function's name: the op type of a node that unpacks a weight. */
    public static final String OP = "Unpack";

    private PackedEntries() {
    }

    /** Receives each entry: the element's linear position in the dense weight and its code. */
    @FunctionalInterface
    public interface Visitor {
        void entry(long position, int code);
    }

    /**
     * Reads {@code entries} entries of {@code width} bits from {@code stream}, in order.
     *
     * @throws IllegalArgumentException when the stream is shorter than they need
     */
    public static void read(byte[] stream, long entries, int width, long codeRange, Visitor visitor) {
        if (width < 1 || width > 32 || codeRange < 1 || (entries * width + 7) / 8 > stream.length) {
            throw new IllegalArgumentException(entries + " entries of " + width + " bits (codes below " + codeRange
                    + ") in " + stream.length + " bytes");
        }
        long position = -1;
        long bit = 0;
        for (long e = 0; e < entries; e++) {
            long value = 0;
            for (int i = 0; i < width; i++, bit++) value |= (long) ((stream[(int) (bit >>> 3)] >>> (bit & 7)) & 1) << i;
            position += value / codeRange + 1;
            visitor.entry(position, (int) (value % codeRange));
        }
    }

    /** Writes {@code value}'s low {@code width} bits into {@code stream} at bit {@code bit}; returns the next bit. */
    public static long write(byte[] stream, long bit, long value, int width) {
        for (int i = 0; i < width; i++, bit++) {
            if (((value >>> i) & 1) != 0) stream[(int) (bit >>> 3)] |= (byte) (1 << (bit & 7));
        }
        return bit;
    }
}
