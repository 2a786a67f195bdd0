package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.quant.FigureBudget;
import dev.squeeze.compress.onnx.inputs.InputBatch;
import dev.squeeze.compress.onnx.inputs.InputFiles;
import dev.squeeze.compress.onnx.inputs.InputSplit;
import dev.squeeze.compress.onnx.inputs.ModelSignature;
import dev.squeeze.compress.onnx.inputs.QuantizationFigures;
import dev.squeeze.compress.quant.Granularity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the sensitivity and the budget search measure, on {@link TestGraphs#outlier}: each variant once. */
class BudgetSearchTest {
    @TempDir
    Path dir;

    @Test
    void eachVariantIsMeasuredOnceAndTheLastNodeAloneIsReused() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.outlier();
        ModelSignature signature = ModelSignature.of(model);
        List<InputBatch> heldOut = InputSplit.evaluationOnly(signature,
                InputFiles.read(TestGraphs.outlierInputs(dir, 2, 8), signature), 32).evaluation();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of());
        try (var reference = QuantizationFigures.Reference.of(model.toByteArray(), heldOut, 1)) {
            BudgetSearch.Found none = search(model, reference, null).run(plan);
            assertEquals(4, none.variants(), "everything int8, then each of the 3 nodes alone");
            assertNull(none.met());
            assertEquals(plan, none.chosen());

            BudgetSearch.Found held = search(model, reference, FigureBudget.parse("cosine>=0.999")).run(plan);
            assertEquals(5, held.variants(), "and once more with the worst node float");
            assertTrue(held.met());

            // max-abs alone: matmul_1 1.9, matmul_2 0.013, matmul_3 0.012; with matmul_1 float, 0.019.
            BudgetSearch.Found never = search(model, reference, FigureBudget.parse("max-abs<=0.001")).run(plan);
            assertEquals(5, never.variants(), "one node int8 is that node's own measurement, not measured again");
            assertFalse(never.met());
            assertEquals(List.of("matmul_1_node", "matmul_2_node", "matmul_3_node"),
                    never.sensitivity().stream().map(OnnxSensitivity::node).toList());
            assertEquals(never.sensitivity().get(2).figures(), never.figures(), "the closest: matmul_3 alone");
            assertEquals(List.of(false, false, true), never.chosen().candidates().stream().map(OnnxCandidate::quantized)
                    .toList());
        }
    }

    private static BudgetSearch search(OnnxMl.ModelProto model, QuantizationFigures.Reference reference,
                                       FigureBudget budget) {
        return new BudgetSearch(p -> DynamicQuantizer.quantize(model, p, Granularity.CHANNEL).model(), reference, budget,
                message -> { });
    }
}
