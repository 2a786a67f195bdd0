package dev.squeeze.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
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
        List<long[]> read = new ArrayList<>();
        PackedEntries.read(stream, entries.length, width, 1 << codeBits, (position, code) -> read.add(new long[]{position, code}));
        long position = -1;
        for (int k = 0; k < entries.length; k++) {
            position += entries[k][0] + 1;
            assertEquals(position, read.get(k)[0], "entry " + k + "'s position: the gaps and one a step");
            assertEquals(entries[k][1], read.get(k)[1], "entry " + k + "'s code");
        }
    }

    @Test
    void aStreamShorterThanItsEntriesIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PackedEntries.read(new byte[2], 3, 8, 16, (p, c) -> { }));
        assertEquals("3 entries of 8 bits (codes below 16) in 2 bytes", e.getMessage());
    }
}
