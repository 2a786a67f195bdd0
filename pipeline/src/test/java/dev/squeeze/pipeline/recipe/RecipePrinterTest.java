package dev.squeeze.pipeline.recipe;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecipePrinterTest {
    private static Recipe roundTrip(Recipe recipe) {
        String yaml = RecipePrinter.yaml(recipe);
        Recipe back = RecipeParser.parse(yaml, "explain.yaml", List.of());
        assertEquals(recipe, back, yaml);
        assertEquals(yaml, RecipePrinter.yaml(back), "printing is stable");
        return back;
    }

    @Test
    void defaultsRoundTrip() {
        roundTrip(RecipeParser.parse("train:\n  model: lenet-300-100\n", "r.yaml", List.of()));
    }

    @Test
    void everyValueRoundTrips() {
        roundTrip(new Recipe("a \"quoted\" name: with # and \\", "mnist", "C:\\data sets\\mnist",
                new Recipe.Train(null, "runs/2024-01-01T10:00 abc", 12, 128, 2e-4, 1.0, -9_000_000_000L, 4),
                new Recipe.Doctor(false),
                new Recipe.Distill(true, "mlp-tiny", 2.5, 0.0, 7, 0.95, 2),
                new Recipe.Prune(false, 5, 0.1, "500it", "channels"),
                new Recipe.Quantize(true, "percentile", "tensor", 64, 3, 0.25),
                new Recipe.Export(false, 21),
                new Recipe.Bench(true, 1, 0, 3),
                new Recipe.Serve(true, 0, "0.0.0.0")));
    }

    @Test
    void stringsThatLookLikeOtherTypesAreQuoted() {
        Recipe recipe = new Recipe("null", "fashion-mnist", "true",
                new Recipe.Train("mlp-100", null, 1, 1, 1, 1, 0, 1),
                new Recipe.Doctor(true), new Recipe.Distill(false, "mlp-100", 1, 1, 1, 1, 1),
                new Recipe.Prune(true, 1, 0.5, "0", "none"), new Recipe.Quantize(true, "auto", "channel", 1, 0, null),
                new Recipe.Export(true, 17), new Recipe.Bench(true, 1, 1, 3), new Recipe.Serve(false, 1, "123"));
        String yaml = RecipePrinter.yaml(recipe);
        assertTrue(yaml.contains("name: \"null\""), yaml);
        assertTrue(yaml.contains("rewind_to: \"0\""), yaml);
        assertTrue(yaml.contains("accuracy_budget: null"), yaml);
        roundTrip(recipe);
    }

    @Test
    void printsEveryKeyWithItsDescription() {
        Recipe recipe = Recipes.builtIn("demo", List.of());
        String yaml = RecipePrinter.yaml(recipe);
        for (RecipeSchema.Key key : RecipeSchema.allKeys()) {
            String indent = key.section() == null ? "" : "  ";
            assertTrue(yaml.lines().anyMatch(l -> l.startsWith(indent + key.name() + ": ") && l.contains("# " + key.description())),
                    key.path() + " in\n" + yaml);
        }
        assertTrue(yaml.contains("lr: 0.001 "), yaml);
        assertTrue(yaml.contains(Recipes.hash(recipe)), "the header names the hash");
        roundTrip(recipe);
    }
}
