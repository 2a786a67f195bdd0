package dev.squeeze.pipeline.recipe;

import dev.squeeze.compress.distill.DistillParams;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.onnx.ExportParams;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

    @Test
    void exportRunsKeepTheirHashes() {
        Recipe demo = Recipes.builtIn("demo", List.of());
        assertEquals("b70e6cb12e01", ConfigHash.of(new ExportParams("run-1", demo.exportSettings().opset()),
                ExportParams.DEFAULTS).value());
    }

    /** The distill run's hash as RecipeRunner makes it, from a teacher run "teacher", at temperature 2. */
    private static String distillHash(String name) {
        Recipe recipe = Recipes.builtIn(name, List.of("distill=true", "distill.temperature=2"));
        DistillParams settings = recipe.distillSettings();
        return ConfigHash.of(new DistillParams(List.of("teacher"), recipe.distillStudent(), settings.temperature(),
                settings.alpha(), null), DistillParams.DEFAULTS).value();
    }
}
