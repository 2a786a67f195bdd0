package dev.squeeze.pipeline.recipe;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecipeHashTest {
    private static final String BASE = """
            name: one
            train:
              model: lenet-300-100
              lr: 0.001
              epochs: 10
            prune:
              levels: 2
              rate: 0.5
            distill:
              enabled: false
              temperature: 4
            """;

    private static String hash(String yaml, String... overrides) {
        return Recipes.hash(RecipeParser.parse(yaml, "r.yaml", List.of(overrides)));
    }

    @Test
    void twelveHexCharactersAndStable() {
        String h = hash(BASE);
        assertTrue(h.matches("[0-9a-f]{12}"), h);
        assertEquals(h, hash(BASE));
    }

    @Test
    void sameRecipeWrittenDifferentlyHashesTheSame() {
        String reordered = """
                distill: false
                prune:
                  rate: 5e-1
                  levels: 2.0
                  enabled: true
                train:
                  epochs: 10
                  lr: 1e-3
                  model: lenet-300-100
                  batch: 60
                name: one
                dataset: fashion-mnist
                doctor: true
                """;
        assertEquals(hash(BASE), hash(reordered));
        assertEquals(hash(BASE), hash(BASE.replace("temperature: 4", "temperature: 4.0")));
        assertEquals(hash(BASE), hash(BASE, "train.lr=0.0010"));
    }

    @Test
    void whatChangesTheProductChangesTheHash() {
        String h = hash(BASE);
        assertNotEquals(h, hash(BASE, "prune.levels=3"));
        assertNotEquals(h, hash(BASE, "train.seed=43"));
        assertNotEquals(h, hash(BASE, "quantize.accuracy_budget=1"));
        assertNotEquals(h, hash(BASE, "distill=true"));
        assertNotEquals(h, hash(BASE, "train.model=null", "train.from=runs/abc"));
        assertNotEquals(h, hash(BASE, "bench.stability=5"));
    }

    @Test
    void nameAndServeDoNotChangeTheHash() {
        String h = hash(BASE);
        assertEquals(h, hash(BASE, "name=two"));
        assertEquals(h, hash(BASE, "serve.port=9999"));
        assertEquals(h, hash(BASE, "serve=true", "serve.host=0.0.0.0"));
        assertEquals(h, hash(BASE, "serve.max_batch_size=1"));
    }

    @Test
    void onlyKeysThatDifferFromTheirDefaultsAreHashed() {
        // What is hashed lists only the non-default keys: a key added later, with its default, cannot enter it.
        assertEquals("{\"prune\":{\"levels\":2,\"rate\":0.5},\"train\":{\"epochs\":10,\"model\":\"lenet-300-100\"}}",
                Recipes.configHash(RecipeParser.parse(BASE, "r.yaml", List.of())).hashedJson());
        // Spelling every other key out at its default changes nothing.
        assertEquals(hash(BASE), hash(BASE, "train.batch=60", "train.seed=42", "quantize=true", "export.opset=17",
                "bench.max_windows=" + RecipeSchema.key("bench.max_windows").orElseThrow().defaultText()));
    }

    @Test
    void pinnedHashes() {
        // Literal values: a change of hashing rule, or a new key that moves them, fails here (bump FOLDER_PREFIX then).
        assertEquals("b5c8d6fcc5ec", hash(BASE));
        assertEquals("930a6a790127", Recipes.hash(Recipes.builtIn("demo", List.of())));
        assertEquals("38ec39a9c2e1", Recipes.hash(Recipes.builtIn("demo-quick", List.of())));
        assertEquals("recipe2-930a6a790127", Recipes.folderName(Recipes.builtIn("demo", List.of())));
    }

    @Test
    void aRecipeOfDefaultsHashesOnlyItsModel() {
        assertEquals("{\"train\":{\"model\":\"lenet-300-100\"}}",
                Recipes.configHash(RecipeParser.parse("train:\n  model: lenet-300-100\n", "r.yaml", List.of())).hashedJson());
    }

    @Test
    void addingAKeyWithItsDefaultLeavesThePinnedHashesUnchanged() {
        // The train section gained val_fraction, init, snapshot, tolerance, refit, example_decay, label, categorical
        // and drop with the settings record: at their defaults the pinned hashes above still hold. Set, they count.
        Recipe demo = Recipes.builtIn("demo", List.of());
        assertTrue(demo.values().containsKey("train.tolerance"));
        assertEquals("930a6a790127", Recipes.hash(demo));
        assertEquals("930a6a790127", Recipes.hash(Recipes.builtIn("demo", List.of("train.tolerance=2", "train.refit=auto"))));
        assertNotEquals("930a6a790127", Recipes.hash(Recipes.builtIn("demo", List.of("train.tolerance=1"))));
    }
}
