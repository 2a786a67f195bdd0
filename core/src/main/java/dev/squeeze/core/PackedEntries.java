package dev.squeeze.core;

/**
 * The streams of a packed weight (Squeeze's {@code dev.squeeze.Unpack} ONNX function). The <em>entry stream</em> holds
 * one entry per stored element, {@code width} bits packed least significant bit first, each
 * {@code low * codeRange + code}: the element's value is {@code code} in the weight's codebook, and {@code low} the
 * low bits of its gap, the zeros skipped since the previous element. The optional <em>high stream</em> holds the
 * rest of each gap in unary, Rice coding's quotient: for each entry, as many 0 bits as its gap's high part, then a 1,
 * so that the whole gap is {@code low + high * lowRange}, {@code lowRange = 2^width / codeRange}. Without high parts
 * (no high stream: files written before it existed; or a stream of 1 bits alone: a weight whose gaps are short) a gap
 * is only its low part, and a longer gap takes filler entries of code 0 (zero). Read here for the export, which
 * writes it, and for the benchmark, which counts a packed model's parameters.
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
     * Reads {@code entries} entries of {@code width} bits from {@code stream}, in order, each gap's high part from
     * {@code high} (null: none). As the ONNX function reads it, an entry's high part is the number of 0 bits between
     * the 1 bit that ends the entry before it and its own; past the stream's last 1 bit, the next entry has the 0s
     * after it and the others none, so a stream of 1 bits alone gives every entry a high part of 0.
     *
     * @throws IllegalArgumentException when the entry stream is shorter than they need
     */
    public static void read(byte[] stream, long entries, int width, long codeRange, byte[] high, Visitor visitor) {
        if (width < 1 || width > 32 || codeRange < 1 || (entries * width + 7) / 8 > stream.length) {
            throw new IllegalArgumentException(entries + " entries of " + width + " bits (codes below " + codeRange
                    + ") in " + stream.length + " bytes");
        }
        long[] highParts = new long[Math.toIntExact(entries)];
        if (high != null) {
            long rank = 0;
            for (long bit = 0; bit < 8L * high.length; bit++) {
                if (((high[(int) (bit >>> 3)] >>> (bit & 7)) & 1) != 0) {
                    rank++;
                } else if (rank < entries) {
                    highParts[(int) rank]++;
                }
            }
        }
        long lowRange = (1L << width) / codeRange;
        long position = -1;
        long bit = 0;
        for (int e = 0; e < entries; e++) {
            long value = 0;
            for (int i = 0; i < width; i++, bit++) value |= (long) ((stream[(int) (bit >>> 3)] >>> (bit & 7)) & 1) << i;
            position += value / codeRange + highParts[e] * lowRange + 1;
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

    /** Writes {@code quotient} in unary into {@code high} at bit {@code bit}: that many 0 bits, then a 1; the next bit. */
    public static long writeUnary(byte[] high, long bit, long quotient) {
        bit += quotient;
        high[(int) (bit >>> 3)] |= (byte) (1 << (bit & 7));
        return bit + 1;
    }
}
