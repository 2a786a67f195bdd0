package dev.squeeze.compress.doctor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The talk's four loss-curve shapes, and convergence, on hand-made curves. */
class LossPatternTest {
    private static final double TARGET = 0.05;
    private static final double PRIOR = Math.log(10);

    private static double[] curve(int n, java.util.function.IntToDoubleFunction f) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = f.applyAsDouble(i);
        return v;
    }

    @Test
    void convergence() {
        var p = LossPattern.classify(curve(200, i -> 2.3 * Math.exp(-i / 15.0)), TARGET, PRIOR);
        assertEquals(LossPattern.Kind.CONVERGED, p.kind());
    }

    @Test
    void goesUpInsteadOfDown() {
        var p = LossPattern.classify(curve(200, i -> 2.3 + i * 0.05), TARGET, PRIOR);
        assertEquals(LossPattern.Kind.RISES, p.kind(), p.description());
        assertTrue(p.causes().contains("learning rate far too high"));
    }

    @Test
    void shootsUpAtTheStartThenStalls() {
        var p = LossPattern.classify(curve(200, i -> i == 0 ? 2.3 : i < 4 ? 18 : 1.7), TARGET, PRIOR);
        assertEquals(LossPattern.Kind.RISES, p.kind(), p.description());
        assertTrue(p.description().contains("shot from 2.300 to 18.000"), p.description());
    }

    @Test
    void goesDownThenExplodes() {
        var p = LossPattern.classify(curve(200, i -> i < 100 ? 2.3 - i * 0.02 : 0.3 + (i - 100) * 0.05), TARGET, PRIOR);
        assertEquals(LossPattern.Kind.EXPLODES_AFTER_FALLING, p.kind(), p.description());

        var nan = LossPattern.classify(curve(60, i -> i < 50 ? 2.3 - i * 0.03 : Double.NaN), TARGET, PRIOR);
        assertEquals(LossPattern.Kind.EXPLODES_AFTER_FALLING, nan.kind(), nan.description());
        assertTrue(nan.description().contains("NaN at step 51"), nan.description());
    }

    @Test
    void oscillates() {
        var p = LossPattern.classify(curve(200, i -> i % 2 == 0 ? 0.8 : 1.6), TARGET, PRIOR);
        assertEquals(LossPattern.Kind.OSCILLATES, p.kind(), p.description());
        assertTrue(p.description().contains("between 0.800 and 1.600"), p.description());
    }

    @Test
    void plateausAndSaysWhenThatIsTheLabelEntropy() {
        var atPrior = LossPattern.classify(curve(200, i -> 2.3026), TARGET, PRIOR);
        assertEquals(LossPattern.Kind.PLATEAUS, atPrior.kind());
        assertTrue(atPrior.description().contains("ignores its inputs"), atPrior.description());
        assertTrue(atPrior.causes().contains("all-zero"), atPrior.causes());

        var elsewhere = LossPattern.classify(curve(200, i -> i < 20 ? 2.3 - i * 0.09 : 0.5), TARGET, PRIOR);
        assertEquals(LossPattern.Kind.PLATEAUS, elsewhere.kind());
        assertTrue(elsewhere.description().contains("plateaus at 0.500"), elsewhere.description());
        assertTrue(elsewhere.causes().contains("too low"), elsewhere.causes());
    }

    @Test
    void stillFalling() {
        var p = LossPattern.classify(curve(200, i -> 2.3 - i * 0.005), TARGET, PRIOR);
        assertEquals(LossPattern.Kind.STILL_FALLING, p.kind(), p.description());
    }
}
