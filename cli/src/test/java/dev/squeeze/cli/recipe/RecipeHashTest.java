package dev.squeeze.cli.recipe;

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
    }

    @Test
    void nameAndServeDoNotChangeTheHash() {
        String h = hash(BASE);
        assertEquals(h, hash(BASE, "name=two"));
        assertEquals(h, hash(BASE, "serve.port=9999"));
        assertEquals(h, hash(BASE, "serve=true", "serve.host=0.0.0.0"));
    }

    @Test
    void canonicalFormIsSortedAndPlain() {
        String canonical = Recipes.canonical(RecipeParser.parse(BASE, "r.yaml", List.of()));
        List<String> lines = canonical.lines().skip(1).toList();
        assertEquals(lines.stream().sorted().toList(), lines);
        assertTrue(lines.contains("train.lr=0.001"), canonical);
        assertTrue(lines.contains("distill.temperature=4"), canonical);
        assertTrue(lines.contains("quantize.accuracy_budget=null"), canonical);
        assertTrue(lines.contains("prune.rewind_to=\"0\""), canonical);
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("name=") || l.startsWith("serve.")), canonical);
    }
}
