package dev.squeeze.compress.quant;

import dev.squeeze.compress.quant.TensorStatistics.Range;
import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Range selection by min/max, percentile and entropy on seeded data fed in batches, and every misuse. */
class TensorStatisticsTest {

    /** Feeds {@code data} through both passes in uneven batches, as a calibration loop would. */
    private static TensorStatistics collect(float[] data) {
        TensorStatistics stats = new TensorStatistics();
        int[] cuts = {0, data.length / 7, data.length / 3, Math.min(data.length, data.length / 2 + 11), data.length};
        for (int i = 0; i + 1 < cuts.length; i++) stats.observeRange(Arrays.copyOfRange(data, cuts[i], cuts[i + 1]));
        for (int i = 0; i + 1 < cuts.length; i++) stats.observeHistogram(Arrays.copyOfRange(data, cuts[i], cuts[i + 1]));
        return stats;
    }

    private static float[] halfNormal(Random random, int n) {
        float[] data = new float[n];
        for (int i = 0; i < n; i++) data[i] = (float) Math.abs(random.nextGaussian());
        return data;
    }

    private static float[] withOutliers(float[] bulk, float... outliers) {
        float[] data = Arrays.copyOf(bulk, bulk.length + outliers.length);
        System.arraycopy(outliers, 0, data, bulk.length, outliers.length);
        return data;
    }

    private static float[] repeat(float value, int times) {
        float[] values = new float[times];
        Arrays.fill(values, value);
        return values;
    }

    @Test
    void minmaxIsTheExactExtremes() {
        Random random = new Random(1);
        float[] data = new float[10_000];
        for (int i = 0; i < data.length; i++) data[i] = (float) (random.nextGaussian() * 3 - 1);
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : data) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        TensorStatistics stats = collect(data);
        assertEquals(min, stats.min());
        assertEquals(max, stats.max());
        assertEquals(data.length, stats.count());
        assertEquals(new Range(min, max), stats.range(Calibration.MINMAX, Double.NaN));
    }

    @Test
    void minmaxNeedsOnlyTheFirstPass() {
        TensorStatistics stats = new TensorStatistics();
        stats.observeRange(new float[]{-2f, 5f});
        stats.observeRange(new float[]{7f});
        assertEquals(new Range(-2, 7), stats.range(Calibration.MINMAX, 99.9));
        assertEquals(3, stats.count());
        assertThrows(IllegalStateException.class, () -> stats.range(Calibration.PERCENTILE, 99.9));
        assertThrows(IllegalStateException.class, () -> stats.range(Calibration.ENTROPY, 99.9));
    }

    @Test
    void percentileOfUniformValues() {
        Random random = new Random(2);
        float[] data = new float[100_000];
        for (int i = 0; i < data.length; i++) data[i] = random.nextFloat();
        TensorStatistics stats = collect(data);
        double width = ((double) stats.max() - stats.min()) / TensorStatistics.BINS;

        Range range = stats.range(Calibration.PERCENTILE, 99.9);
        assertEquals(0.999, range.hi(), 2 * width);
        assertEquals(0.001, range.lo(), 2 * width);
        // Against the exact order statistics of the same sample, the histogram is off by less than one bin.
        float[] sorted = data.clone();
        Arrays.sort(sorted);
        assertEquals(sorted[(int) (0.999 * sorted.length)], range.hi(), width);
        assertEquals(sorted[(int) (0.001 * sorted.length)], range.lo(), width);

        assertEquals(new Range(stats.min(), stats.max()), stats.range(Calibration.PERCENTILE, 100));
        Range wide = stats.range(Calibration.PERCENTILE, 99.99);
        assertTrue(wide.lo() < range.lo() && wide.hi() > range.hi(), wide + " should contain " + range);
    }

    @Test
    void percentileOfReluOutputStartsAtZero() {
        Random random = new Random(3);
        float[] data = new float[50_000];
        for (int i = 0; i < data.length; i++) data[i] = (float) Math.max(0, random.nextGaussian());
        Range range = collect(data).range(Calibration.PERCENTILE, 99.99);
        assertEquals(0.0, range.lo());
        assertTrue(range.hi() > 3 && range.hi() < 4.5, range.toString());
    }

    @Test
    void percentileMustLieAboveTheMedian() {
        TensorStatistics stats = collect(new float[]{0f, 1f, 2f});
        for (double p : new double[]{50, 49, 100.001, Double.NaN, -99}) {
            assertThrows(IllegalArgumentException.class, () -> stats.range(Calibration.PERCENTILE, p), "p=" + p);
        }
        Range range = stats.range(Calibration.PERCENTILE, 50.001);
        assertTrue(range.lo() <= range.hi(), range.toString());
    }

    @Test
    void entropyClipsFarOutliersOfANonNegativeTensor() {
        float[] data = withOutliers(halfNormal(new Random(4), 100_000), repeat(30f, 10));
        TensorStatistics stats = collect(data);
        Range range = stats.range(Calibration.ENTROPY, Double.NaN);
        assertEquals(stats.min(), range.lo());
        assertTrue(range.hi() > 2.5 && range.hi() < 10, "threshold " + range.hi() + " should keep the bulk, drop 30");
    }

    @Test
    void entropyClipsFarOutliersAsFarAsItsBinsAllow() {
        // Outliers at 1000 squeeze the bulk of |N(0,1)| into ~10 of the 2048 bins; the shortest candidate (255 bins,
        // about 124) is still far better than keeping the outliers.
        float[] data = withOutliers(halfNormal(new Random(5), 100_000), repeat(1000f, 10));
        Range range = collect(data).range(Calibration.ENTROPY, Double.NaN);
        assertTrue(range.hi() < 200, range.toString());
    }

    @Test
    void entropyClipsBothSidesOfASignedTensor() {
        Random random = new Random(6);
        float[] bulk = new float[100_000];
        for (int i = 0; i < bulk.length; i++) bulk[i] = (float) random.nextGaussian();
        TensorStatistics stats = collect(withOutliers(bulk, -30f, 30f, -30f, 30f, -30f, 30f, -30f, 30f, -30f, 30f));
        Range range = stats.range(Calibration.ENTROPY, Double.NaN);
        assertTrue(range.lo() < -2.5 && range.lo() > -10, range.toString());
        assertTrue(range.hi() > 2.5 && range.hi() < 10, range.toString());
        assertEquals(-range.lo(), range.hi(), 1e-9, "one threshold clips both sides");
    }

    @Test
    void entropyOfASignedTensorNeverWidensPastItsExtremes() {
        Random random = new Random(7);
        float[] data = new float[20_000];
        for (int i = 0; i < data.length; i++) data[i] = (float) (random.nextGaussian() * 0.2 + 2);
        data[0] = -0.5f;
        TensorStatistics stats = collect(data);
        Range range = stats.range(Calibration.ENTROPY, Double.NaN);
        assertTrue(range.lo() >= stats.min() && range.hi() <= stats.max() && range.lo() <= range.hi(), range.toString());
        assertTrue(range.hi() > 2.5, "the bulk around 2 must be kept: " + range);
    }

    @Test
    void entropyOfReluLikeDataStartsAtZeroAndKeepsTheBulk() {
        Random random = new Random(8);
        float[] data = new float[100_000];
        for (int i = 0; i < data.length; i++) data[i] = random.nextDouble() < 0.6 ? 0f : (float) Math.abs(random.nextGaussian());
        TensorStatistics stats = collect(data);
        Range range = stats.range(Calibration.ENTROPY, Double.NaN);
        assertEquals(0.0, range.lo());
        // The spike of zeros must not drag the threshold into the bulk (99% of |N(0,1)| lies below 2.58).
        assertTrue(range.hi() > 2.5 && range.hi() <= stats.max(), range.hi() + " of max " + stats.max());
    }

    @Test
    void entropyKeepsATensorWhoseValuesAllLieFarFromZero() {
        Random random = new Random(9);
        float[] data = new float[50_000];
        for (int i = 0; i < data.length; i++) data[i] = 5 + random.nextFloat();
        TensorStatistics stats = collect(data);
        Range range = stats.range(Calibration.ENTROPY, Double.NaN);
        assertEquals(stats.min(), range.lo());
        assertTrue(range.hi() > 5.5 && range.hi() <= stats.max(), range.toString());
    }

    @Test
    void entropySearchOverAllBinsFinishes() {
        Random random = new Random(10);
        float[] data = new float[200_000];
        for (int i = 0; i < data.length; i++) data[i] = random.nextFloat() * 2 - 1;
        TensorStatistics stats = collect(data);
        Range range = stats.range(Calibration.ENTROPY, Double.NaN);
        // Uniform values have no tail to cut: the threshold stays within a few percent of the extremes.
        assertTrue(range.lo() < -0.9 && range.hi() > 0.9 && range.lo() >= stats.min() && range.hi() <= stats.max(),
                range.toString());
    }

    @Test
    void aConstantTensorGivesItsValueForEveryMethod() {
        TensorStatistics stats = collect(repeat(0.75f, 1000));
        for (Calibration method : Calibration.values()) {
            assertEquals(new Range(0.75f, 0.75f), stats.range(method, 99.9), method.label());
        }
        TensorStatistics zeros = collect(new float[64]);
        assertEquals(new Range(0, 0), zeros.range(Calibration.ENTROPY, 99.9));
    }

    @Test
    void nonFiniteValuesAreRejected() {
        TensorStatistics stats = new TensorStatistics();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> stats.observeRange(new float[]{1f, Float.NaN}));
        assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
        assertEquals(0, stats.count(), "a rejected batch leaves no trace");
        stats.observeRange(new float[]{1f, 2f});
        assertThrows(IllegalArgumentException.class, () -> stats.observeRange(new float[]{Float.POSITIVE_INFINITY}));
        assertThrows(IllegalArgumentException.class, () -> stats.observeHistogram(new float[]{Float.NEGATIVE_INFINITY}));
        assertEquals(new Range(1, 2), stats.range(Calibration.MINMAX, 99.9));
    }

    @Test
    void passesMustComeInOrder() {
        TensorStatistics stats = new TensorStatistics();
        assertThrows(IllegalStateException.class, () -> stats.observeHistogram(new float[]{1f}));
        assertThrows(IllegalStateException.class, stats::min);
        assertThrows(IllegalStateException.class, () -> stats.range(Calibration.MINMAX, 99.9));
        stats.observeRange(new float[]{0f, 1f});
        stats.observeHistogram(new float[]{0f, 1f});
        assertThrows(IllegalStateException.class, () -> stats.observeRange(new float[]{2f}));
    }

    @Test
    void calibrationLabelsParseBack() {
        for (Calibration c : Calibration.values()) assertEquals(c, Calibration.parse(" " + c.label().toUpperCase() + " "));
        assertEquals("minmax", Calibration.MINMAX.label());
        assertEquals("percentile", Calibration.PERCENTILE.label());
        assertEquals("entropy", Calibration.ENTROPY.label());
        BadInputException e = assertThrows(BadInputException.class, () -> Calibration.parse("kl"));
        assertEquals("--calibration must be one of minmax, percentile, entropy (or auto), got 'kl'", e.getMessage());
    }
}
