package dev.squeeze.compress.quant;

import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Weight sharing on int8 codes: at most k non-zero values, zeros kept, each code moved to its nearest shared value. */
class WeightSharingTest {
    /** A pruned layer's codes: about 10% non-zero, bell-shaped, every value in [-127, 127] used somewhere. */
    private static QuantizedWeights pruned() {
        Random r = new Random(3);
        byte[] codes = new byte[300 * 100];
        for (int i = 0; i < codes.length; i++) {
            if (r.nextDouble() < 0.1) {
                int c = (int) Math.round(r.nextGaussian() * 45);
                codes[i] = (byte) Math.max(-127, Math.min(127, c == 0 ? 1 : c));
            }
        }
        float[] scales = new float[100];
        for (int c = 0; c < scales.length; c++) scales[c] = 0.01f + c * 1e-4f;
        return new QuantizedWeights(codes, new long[]{300, 100}, 1, scales);
    }

    private static Set<Byte> nonzeroValues(byte[] codes) {
        Set<Byte> out = new TreeSet<>();
        for (byte c : codes) if (c != 0) out.add(c);
        return out;
    }

    @Test
    void sharedCodesTakeAtMostKValuesKeepEveryZeroAndStayNearTheirOwn() {
        QuantizedWeights w = pruned();
        assertTrue(nonzeroValues(w.values()).size() > 150, "the fixture uses most codes");
        QuantizedWeights shared = WeightSharing.shared(w, 15);
        Set<Byte> values = nonzeroValues(shared.values());
        assertTrue(values.size() <= 15 && values.size() >= 12, values.toString());
        assertArrayEquals(w.scales(), shared.scales());
        double error = 0;
        for (int i = 0; i < w.values().length; i++) {
            assertEquals(w.values()[i] == 0, shared.values()[i] == 0, "element " + i + ": zero stays zero, nothing else becomes it");
            int d = Math.abs(w.values()[i] - shared.values()[i]);
            // 15 clusters over codes spread across [-127, 127], thinner in the tails where codes are rare: no code is
            // more than a tail cluster's half-width from its value.
            assertTrue(d <= 32, "element " + i + ": " + w.values()[i] + " -> " + shared.values()[i]);
            error += d * d;
        }
        long nonzero = w.values().length - java.util.stream.IntStream.range(0, w.values().length)
                .filter(i -> w.values()[i] == 0).count();
        double rms = Math.sqrt(error / nonzero);
        assertTrue(rms < 5, "k-means puts its values where the codes are: rms " + rms);
        for (int i = 0; i < w.values().length; i++) {
            byte s = shared.values()[i];
            if (s == 0) continue;
            for (byte v : values) {
                assertTrue(Math.abs(w.values()[i] - s) <= Math.abs(w.values()[i] - v) + 1,
                        w.values()[i] + " went to " + s + " though " + v + " is nearer");
            }
        }
    }

    @Test
    void codesWithAtMostKValuesAreLeftAsTheyAre() {
        byte[] codes = {0, 5, -5, 0, 12, 5, 0, -127};
        QuantizedWeights w = new QuantizedWeights(codes, new long[]{2, 4}, 1, new float[]{1, 1, 1, 1});
        assertArrayEquals(codes, WeightSharing.shared(w, 4).values());
        byte[] two = WeightSharing.shared(w, 2).values();
        assertEquals(2, nonzeroValues(two).size(), nonzeroValues(two).toString());
        assertNotEquals(0, two[7]);
        assertEquals(0, two[0]);
    }

    @Test
    void offLeavesTheNetworkItself() {
        var network = new dev.squeeze.compress.network.StepNetwork(new long[]{4}, java.util.List.of());
        assertSame(network, WeightSharing.apply(network, 0));
    }
}
