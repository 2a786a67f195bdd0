package dev.squeeze.compress.quant;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Float16 against values worked out by hand from the binary16 layout. */
class Float16Test {
    @Test
    void roundsToTheNearestHalfTiesToEven() {
        assertEquals(1f, Float16.round(1f));
        assertEquals(1f + 1f / 1024, Float16.round(1f + 1f / 1024));
        assertEquals(1f, Float16.round(1f + 1f / 2048), "a tie goes to the even mantissa (0)");
        assertEquals(1f + 2f / 1024, Float16.round(1f + 3f / 2048), "a tie goes to the even mantissa (2)");
        assertEquals(0.0033340454f, Float16.round(0.0033333334f), "a typical int8 scale: 0.4233/127");
        assertEquals(-0.0033340454f, Float16.round(-0.0033333334f));
        assertEquals(2f, Float16.round(2f - 1f / 4096), "rounding up into the next binade");
    }

    @Test
    void leavesValuesOutsideTheNormalRangeAsTheyAre() {
        assertEquals(1e-6f, Float16.round(1e-6f), "below 2^-14: a subnormal would lose precision");
        assertEquals(70000f, Float16.round(70000f));
        assertEquals(0f, Float16.round(0f));
        assertFalse(Float16.exact(1e-6f));
        assertFalse(Float16.exact(0.0033333334f));
    }

    @Test
    void bitsRoundTripAndMatchTheLayout() {
        assertEquals((short) 0x3c00, Float16.bits(1f));
        assertEquals((short) 0xc000, Float16.bits(-2f));
        assertEquals((short) 0x0400, Float16.bits(0x1p-14f), "the smallest normal");
        assertEquals((short) 0x7bff, Float16.bits(65504f), "the largest");
        assertEquals((short) 0x3555, Float16.bits(Float16.round(1f / 3)), "1/3: 0x3555");
        for (float x : new float[]{0.0033340454f, 1f / 1024, 0.5f + 1f / 2048, 12345f}) {
            float r = Float16.round(x);
            assertTrue(Float16.exact(r), "" + r);
            assertEquals(r, Float16.value(Float16.bits(r)), "" + r);
        }
        assertThrows(IllegalArgumentException.class, () -> Float16.bits(0.0033333334f));
    }
}
