package dev.squeeze.compress.onnx.inputs;

import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InputSplitTest {
    private static final ModelSignature LINEAR = TestInputs.signature(TestInputs.linear(0, 0, 0));

    /** {@code rows} examples whose first feature is their number, from {@code first}. */
    private static InputBatch batch(String source, int first, int rows) {
        float[] x = new float[rows * 4];
        long[] labels = new long[rows];
        for (int r = 0; r < rows; r++) {
            x[r * 4] = first + r;
            labels[r] = (first + r) % 3;
        }
        return new InputBatch(source, Map.of("x", InputTensor.ofFloats(x, rows, 4)), labels);
    }

    /** The example numbers in a part, in order. */
    private static List<Integer> numbers(List<InputBatch> part) {
        List<Integer> out = new ArrayList<>();
        for (InputBatch b : part) {
            float[] x = (float[]) b.inputs().get("x").data();
            long[] labels = b.labels();
            for (int r = 0; r < b.rows(); r++) {
                out.add((int) x[r * 4]);
                assertEquals((int) x[r * 4] % 3, labels[r], "labels follow their rows");
            }
        }
        return out;
    }

    private static final List<InputBatch> DATA = List.of(batch("a.json", 0, 12), batch("b.json", 12, 8));

    @Test
    void theSameSeedGivesTheSameDisjointSplitOfEveryExample() {
        InputSplit s = InputSplit.of(LINEAR, DATA, 0.25, 42, 4);
        assertEquals(s, InputSplit.of(LINEAR, DATA, 0.25, 42, 4));
        List<Integer> calibration = numbers(s.calibration());
        List<Integer> evaluation = numbers(s.evaluation());
        assertEquals(5, evaluation.size());
        assertEquals(15, calibration.size());
        assertEquals(5, s.evaluationExamples());
        Set<Integer> all = new HashSet<>(calibration);
        all.addAll(evaluation);
        assertEquals(20, all.size(), "disjoint, and together every example");
        assertEquals(calibration.stream().sorted().toList(), calibration, "original order kept");
        // Regrouped into batches of at most 4 rows, never mixing rows of two source batches.
        for (InputBatch b : s.calibration()) {
            assertTrue(b.rows() <= 4);
            List<Integer> n = numbers(List.of(b));
            assertTrue(n.stream().allMatch(i -> i < 12) || n.stream().allMatch(i -> i >= 12), n.toString());
        }
        assertNotEquals(evaluation, numbers(InputSplit.of(LINEAR, DATA, 0.25, 43, 4).evaluation()), "another seed");
    }

    @Test
    void evaluationOnlyKeepsEveryExample() {
        InputSplit s = InputSplit.evaluationOnly(LINEAR, DATA, 32);
        assertEquals(List.of(), s.calibration());
        assertEquals(20, numbers(s.evaluation()).size());
        assertEquals(2, s.evaluation().size());
    }

    @Test
    void oneExampleCannotBeSplit() {
        BadInputException e = assertThrows(BadInputException.class,
                () -> InputSplit.of(LINEAR, List.of(batch("x.npy", 0, 1)), 0.2, 1));
        assertEquals("x.npy: 1 example, but calibration and held-out evaluation need different examples; give at least 2 "
                + "(hundreds measure better)", e.getMessage());
    }

    @Test
    void eachPartGetsAtLeastOneExample() {
        InputSplit s = InputSplit.of(LINEAR, List.of(batch("x.npy", 0, 3)), 0.01, 1);
        assertEquals(1, s.evaluationExamples());
        assertEquals(2, s.calibrationExamples());
    }
}
