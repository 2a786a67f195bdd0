package dev.squeeze.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Entries written and read back across byte boundaries: each element's position from the gaps, and its code. */
class PackedEntriesTest {
    @Test
    void entriesOfElevenBitsReadBackAsPositionsAndCodes() {
        int codeBits = 4;
        int width = 11;          // 7-bit gaps: entries straddle bytes
        long[][] entries = {{0, 3}, {5, 15}, {127, 1}, {0, 0}, {42, 9}};
        byte[] stream = new byte[(entries.length * width + 7) / 8];
        long bit = 0;
        for (long[] e : entries) bit = PackedEntries.write(stream, bit, (e[0] << codeBits) | e[1], width);
        assertEquals(entries.length * width, bit);
        assertReadBack(entries, read(stream, entries.length, width, codeBits, null));
    }

    /**
     * Gaps split Rice's way: 3 low bits in the entries, the rest in unary in the high stream (0s then a 1), across
     * byte boundaries in both streams; a gap of 1,000 takes a 125-bit unary run.
     */
    @Test
    void gapsSplitIntoLowBitsAndAUnaryHighPartReadBackWhole() {
        int codeBits = 2;
        int gapBits = 3;
        int width = gapBits + codeBits;
        long[][] entries = {{0, 1}, {7, 2}, {8, 3}, {1_000, 1}, {17, 2}, {0, 3}};
        byte[] stream = new byte[(entries.length * width + 7) / 8];
        byte[] high = new byte[32];
        long bit = 0;
        long highBit = 0;
        for (long[] e : entries) {
            bit = PackedEntries.write(stream, bit, ((e[0] & 7) << codeBits) | e[1], width);
            highBit = PackedEntries.writeUnary(high, highBit, e[0] >>> gapBits);
        }
        assertEquals(entries.length + (0 + 0 + 1 + 125 + 2 + 0), highBit, "a 1 an entry and the high parts' 0s");
        assertReadBack(entries, read(stream, entries.length, width, codeBits, high));
    }

    /** Each (gap, code) of {@code entries} read back: its position the gaps so far and one a step, and its code. */
    private static void assertReadBack(long[][] entries, List<long[]> read) {
        long position = -1;
        for (int k = 0; k < entries.length; k++) {
            position += entries[k][0] + 1;
            assertEquals(position, read.get(k)[0], "entry " + k + "'s position");
            assertEquals(entries[k][1], read.get(k)[1], "entry " + k + "'s code");
        }
    }

    /**
     * A high stream of 1 bits alone gives every entry a high part of 0, however many entries there are (the fixed
     * gaps of a weight packed without high parts), and one cut short gives the entries past its last 1 bit none.
     */
    @Test
    void aHighStreamOfOnesAloneAddsNothing() {
        int width = 6;           // 4-bit gaps, 2-bit codes
        long[][] entries = {{3, 1}, {0, 2}, {15, 3}, {1, 1}, {2, 2}, {0, 3}, {7, 1}, {4, 2}, {9, 3}, {5, 1}};
        byte[] stream = new byte[(entries.length * width + 7) / 8];
        long bit = 0;
        for (long[] e : entries) bit = PackedEntries.write(stream, bit, (e[0] << 2) | e[1], width);
        List<long[]> plain = read(stream, entries.length, width, 2, null);
        assertEquals(plain.stream().map(p -> p[0]).toList(),
                read(stream, entries.length, width, 2, new byte[]{(byte) 0xff}).stream().map(p -> p[0]).toList());
        assertEquals(3 + 1 + 0 + 1 + 15 + 1 - 1, plain.get(2)[0]);
        // 0b00000101: entry 0 ends at bit 0, entry 1 has one 0 before its 1 at bit 2, entry 2 the five 0s after it.
        List<long[]> cut = read(stream, entries.length, width, 2, new byte[]{0b101});
        assertEquals(plain.get(0)[0], cut.get(0)[0]);
        assertEquals(plain.get(1)[0] + 16, cut.get(1)[0], "a high part of 1: 2^4 more");
        assertEquals(plain.get(2)[0] + 16 + 5 * 16, cut.get(2)[0], "then 5");
        assertEquals(plain.get(9)[0] + 16 + 5 * 16, cut.get(9)[0], "and none after");
    }

    @Test
    void aStreamShorterThanItsEntriesIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PackedEntries.read(new byte[2], 3, 8, 16, null, (p, c) -> { }));
        assertEquals("3 entries of 8 bits (codes below 16) in 2 bytes", e.getMessage());
    }

    private static List<long[]> read(byte[] stream, int entries, int width, int codeBits, byte[] high) {
        List<long[]> read = new ArrayList<>();
        PackedEntries.read(stream, entries, width, 1 << codeBits, high, (position, code) -> read.add(new long[]{position, code}));
        return read;
    }
}
