package dev.squeeze.compress.onnx.inputs;

import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Figures from real ONNX Runtime sessions on models built with the project's builder. */
class QuantizationFiguresTest {
    private static final byte[] FLOAT = TestInputs.linear(0, 0, 0);
    /** The "quantized" model: the float one with 0.5 added to class 0's score. */
    private static final byte[] PERTURBED = TestInputs.linear(0.5f, 0, 0);

    /** Scores are x's first three columns; row 2 flips from class 1 to class 0 when class 0 gains 0.5. */
    private static final InputBatch ROWS = new InputBatch("held-out.npz", Map.of("x", InputTensor.ofFloats(new float[]{
            1, 0, 0, 9,
            0, 1, 0, 0,
            0.8f, 1, 0, 0,
            0, 0, 2, 0}, 4, 4)), new long[]{0, 1, 1, 2});

    @Test
    void aModelAgainstItselfCostsNothing() {
        QuantizationFigures q = QuantizationFigures.measure(FLOAT, FLOAT, List.of(ROWS), 1);
        OutputFigures f = q.output("scores");
        assertEquals(4, q.examples());
        assertEquals(1.0, f.cosineMean(), 1e-12);
        assertEquals(1.0, f.cosineWorst(), 1e-12);
        assertEquals(0.0, f.maxAbsError());
        assertEquals(0.0, f.relativeL2());
        assertEquals(100.0, f.top1AgreementPct());
        assertEquals(100.0, f.floatAccuracyPct());
        assertEquals(100.0, f.quantizedAccuracyPct());
    }

    @Test
    void aPerturbedModelCostsWhatTheArithmeticSays() throws Exception {
        QuantizationFigures q = QuantizationFigures.measure(FLOAT, PERTURBED, List.of(ROWS.rows(0, 2), ROWS.rows(2, 4)), 1);
        OutputFigures f = q.output("scores");
        // Row cosines: 1, 1/sqrt(1.25), 2.04/sqrt(1.64 * 2.69), 4/(2 sqrt(4.25)).
        double c1 = 1 / Math.sqrt(1.25);
        double c2 = 2.04 / Math.sqrt(1.64 * 2.69);
        double c3 = 2 / Math.sqrt(4.25);
        assertEquals(0.894427, c1, 1e-6);
        assertEquals(0.971253, c2, 1e-6);
        assertEquals(0.970143, c3, 1e-6);
        assertEquals((1 + c1 + c2 + c3) / 4, f.cosineMean(), 1e-6);
        assertEquals(c1, f.cosineWorst(), 1e-6);
        assertEquals(0.5, f.maxAbsError(), 1e-6);
        // ||q - f|| = sqrt(4 * 0.25) = 1 over ||f|| = sqrt(1 + 1 + 0.64 + 1 + 4).
        assertEquals(1 / Math.sqrt(7.64), f.relativeL2(), 1e-6);
        assertEquals(75.0, f.top1AgreementPct());
        assertEquals(100.0, f.floatAccuracyPct());
        assertEquals(75.0, f.quantizedAccuracyPct());
        assertEquals("scores: cosine mean 0.958956 (worst 0.894427), max abs error 0.5000, relative L2 error 0.3618, "
                + "top-1 agreement 75.00%, accuracy 100.00% float / 75.00% quantized (drop 25.00 points) (4 examples)", q.toText());
        Map<?, ?> json = Json.read(q.toJson(), Map.class);
        Map<?, ?> out = (Map<?, ?>) ((List<?>) json.get("outputs")).get(0);
        assertEquals("scores", out.get("output"));
        assertEquals(75.0, out.get("top1AgreementPct"));
        assertEquals(4, json.get("examples"));
    }

    @Test
    void int64InputsRunAndOutputsThatAreNotScoresGetNoTop1() {
        byte[] model = TestInputs.twoInputs();
        InputBatch b = new InputBatch("r.json", Map.of(
                "ids", InputTensor.ofLongs(new long[]{3, 1, 0, 1, 3, 0}, 2, 3),
                "x", InputTensor.ofFloats(new float[]{2, 4, 6, 8}, 2, 2)), null);
        TestInputs.signature(model).check("r.json", b.inputs());
        QuantizationFigures q = QuantizationFigures.measure(model, model, List.of(b), 1);
        assertEquals(List.of("scores", "half"), q.outputs().stream().map(OutputFigures::output).toList());
        assertEquals(100.0, q.output("scores").top1AgreementPct());
        assertNull(q.output("scores").floatAccuracyPct(), "no labels, no accuracy");
        assertEquals(100.0, q.output("half").top1AgreementPct(), "[N, 2] scores too");
        assertEquals(2, q.toText().lines().count());
    }

    @Test
    void aQuantizedModelWithoutTheFloatModelsOutputIsRefused() {
        BadInputException e = assertThrows(BadInputException.class,
                () -> QuantizationFigures.measure(TestInputs.twoInputs(), FLOAT, List.of(ROWS), 1));
        assertEquals("the quantized model has no output 'half' (its outputs are scores FP32 [batch, 3]); quantize the float "
                + "model it is compared with", e.getMessage());
    }
}
