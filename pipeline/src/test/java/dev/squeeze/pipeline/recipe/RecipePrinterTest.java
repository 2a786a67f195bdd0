package dev.squeeze.pipeline.recipe;

import dev.squeeze.compress.prune.Structure;
import dev.squeeze.compress.quant.Granularity;
import dev.squeeze.compress.train.Refit;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

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

    /** The default recipe with {@code pathsAndValues} ({@code "train.epochs", 12, ...}) set. */
    private static Recipe recipe(Object... pathsAndValues) {
        Map<String, Object> values = new LinkedHashMap<>(Recipes.defaults().values());
        for (int i = 0; i < pathsAndValues.length; i += 2) {
            assertTrue(values.containsKey((String) pathsAndValues[i]), (String) pathsAndValues[i]);
            values.put((String) pathsAndValues[i], pathsAndValues[i + 1]);
        }
        return new Recipe(values);
    }

    @Test
    void everyValueRoundTrips() {
        roundTrip(recipe("name", "a \"quoted\" name: with # and \\", "dataset", "mnist", "data", "C:\\data sets\\mnist",
                "train.from", "runs/2024-01-01T10:00 abc", "train.epochs", 12, "train.batch", 128, "train.lr", 2e-4,
                "train.lr_decay", 1.0, "train.seed", -9_000_000_000L, "train.patience", 4, "train.refit", Refit.ALWAYS,
                "train.categorical", List.of("a b", "c"), "train.snapshot", "1ep", "train.tolerance", 0.5,
                "doctor.enabled", false,
                "distill.enabled", true, "distill.student", "mlp-tiny", "distill.temperature", 2.5, "distill.alpha", 0.0,
                "distill.epochs", 7, "distill.lr_decay", 0.95, "distill.patience", 2,
                "prune.enabled", false, "prune.levels", 5, "prune.rate", 0.1, "prune.rewind_to", "500it",
                "prune.structure", Structure.CHANNELS,
                "quantize.calibration", "percentile", "quantize.percentile", 99.9, "quantize.granularity", Granularity.TENSOR,
                "quantize.samples", 64, "quantize.keep_float", List.of(0, 6),
                "quantize.qat_epochs", 3, "quantize.accuracy_budget", 0.25,
                "export.enabled", false, "export.opset", 21L,
                "bench.window_ms", 1L, "bench.warmup_ms", 0L, "bench.max_windows", 3,
                "serve.enabled", true, "serve.port", 0, "serve.host", "0.0.0.0"));
    }

    @Test
    void stringsThatLookLikeOtherTypesAreQuoted() {
        Recipe recipe = recipe("name", "null", "data", "true", "train.model", "mlp-100", "serve.host", "123");
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
