package dev.squeeze.pipeline.recipe;

import dev.squeeze.compress.distill.DistillParams;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.onnx.ExportParams;
import dev.squeeze.compress.onnx.SparseStorage;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The run folders a recipe's distill and export steps land in keep their hashes now that the sections are made from
 * the stages' settings: the values below were taken with the hand-written sections (RecipeKeys.Distill copied into
 * TrainParams by RecipeRunner) before the change.
 */
class RecipeStageHashTest {
    @Test
    void distillRunsOfTheBuiltInRecipesKeepTheirHashes() {
        assertEquals("fbd586c87c1a", distillHash("demo"));
        assertEquals("15879f112787", distillHash("demo-quick"));
    }

    /**
     * An export written dense ({@code export.sparse: never}, as every export was before sparse storage) keeps its
     * hash; the default, sparse where smaller, writes another file and so lands in another folder.
     */
    @Test
    void exportRunsKeepTheirHashes() {
        Recipe demo = Recipes.builtIn("demo", List.of());
        assertEquals("b70e6cb12e01", ConfigHash.of(demo.exportSettings().withSource("run-1").withSparse(SparseStorage.NEVER),
                ExportParams.HASH_BASE).value());
        assertNotEquals("b70e6cb12e01", ConfigHash.of(demo.exportSettings().withSource("run-1"),
                ExportParams.HASH_BASE).value());
    }

    /** The distill run's hash as RecipeRunner makes it, from a teacher run "teacher", at temperature 2. */
    private static String distillHash(String name) {
        Recipe recipe = Recipes.builtIn(name, List.of("distill=true", "distill.temperature=2"));
        DistillParams settings = recipe.distillSettings();
        return ConfigHash.of(new DistillParams(List.of("teacher"), recipe.distillStudent(), settings.temperature(),
                settings.alpha(), null), DistillParams.DEFAULTS).value();
    }
}
