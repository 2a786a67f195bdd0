package dev.squeeze.pipeline.recipe;

import dev.squeeze.compress.prune.PruneControl;
import dev.squeeze.compress.prune.PruneParams;
import dev.squeeze.compress.prune.PruneScope;
import dev.squeeze.compress.prune.Structure;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.core.BadInputException;
import dev.squeeze.serve.bench.BenchmarkOptions;
import dev.squeeze.serve.http.ServeOptions;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecipeBuiltInTest {
    @Test
    void demoRunsTheWholePipeline() {
        Recipe r = Recipes.builtIn("demo", List.of());
        assertEquals("demo", r.name());
        assertEquals("fashion-mnist", r.dataset());
        assertEquals("lenet-300-100", r.train().model());
        assertEquals(15, r.train().epochs());
        assertTrue(r.enabled("doctor"));
        RecipeParserTest.assertDistill(r, true, "mlp-100", 4, 0.5, 15, 0.9, 5);
        assertTrue(r.enabled("prune"));
        assertEquals(new PruneParams(null, 2, 0.5, "0", PruneScope.LAYER, PruneControl.NONE, Structure.NONE), r.prune());
        assertTrue(r.enabled("quantize"));
        assertEquals(QuantParams.DEFAULTS, r.quantize());
        assertTrue(r.enabled("export"));
        assertEquals(17, r.exportSettings().opset());
        assertTrue(r.enabled("bench"));
        assertEquals(BenchmarkOptions.DEFAULTS, r.bench());
        assertTrue(r.enabled("serve"));
        assertEquals(ServeOptions.DEFAULTS, r.serve());
        assertEquals(8080, r.serve().port());
        assertEquals("127.0.0.1", r.serve().host());
        assertTrue(Recipes.builtInText("demo").startsWith("# "), "documented in comments");
    }

    @Test
    void demoQuickIsSmallAndFast() {
        Recipe r = Recipes.builtIn("demo-quick", List.of());
        assertEquals("mlp-100", r.train().model());
        assertEquals(3, r.train().epochs());
        assertTrue(r.enabled("doctor"));
        assertFalse(r.enabled("distill"));
        assertTrue(r.enabled("prune"));
        assertEquals(new PruneParams(null, 1, 0.5, "0", PruneScope.LAYER, PruneControl.NONE, Structure.NONE), r.prune());
        assertTrue(r.enabled("quantize"));
        assertTrue(r.enabled("export"));
        assertTrue(r.enabled("bench"));
        assertEquals(BenchmarkOptions.DEFAULTS.with("window-ms", 300L).with("warmup-ms", 200L).with("max-windows", 4), r.bench());
        assertTrue(r.enabled("serve"));
        assertTrue(Recipes.builtInText("demo-quick").startsWith("# "), "documented in comments");
    }

    @Test
    void builtInsTakeOverridesAndHaveDistinctHashes() {
        assertEquals(4, Recipes.builtIn("demo-quick", List.of("prune.levels=4")).prune().levels());
        assertNotEquals(Recipes.hash(Recipes.builtIn("demo", null)), Recipes.hash(Recipes.builtIn("demo-quick", null)));
        assertTrue(assertThrows(BadInputException.class, () -> Recipes.builtIn("nope", null)).getMessage()
                .startsWith("unknown built-in recipe 'nope'; built in: demo, demo-quick"));
    }
}
