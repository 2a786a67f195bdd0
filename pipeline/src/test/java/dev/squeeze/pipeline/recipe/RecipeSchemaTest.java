package dev.squeeze.pipeline.recipe;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecipeSchemaTest {
    @Test
    void markdownReferenceMentionsEveryKeyWithTypeDefaultAndDescription() {
        String md = RecipeSchema.markdownReference();
        assertTrue(md.startsWith("| Key | Type | Default | Description |\n|---|---|---|---|\n"), md);
        for (RecipeSchema.Key key : RecipeSchema.allKeys()) {
            String row = md.lines().filter(l -> l.startsWith("| `" + key.path() + "` |")).findFirst().orElse(null);
            assertNotNull(row, key.path() + " in\n" + md);
            assertTrue(row.contains("`" + key.defaultText() + "`"), row);
            assertTrue(row.contains(key.description().replace("|", "\\|")), row);
        }
        for (RecipeSchema.Section section : RecipeSchema.sections()) {
            assertTrue(md.contains("| **" + section.name() + "** |"), section.name());
        }
        assertTrue(md.contains("| `prune.rate` | number > 0 and < 1 | `0.2` |"), md);
        assertTrue(md.contains("| `quantize.calibration` | one of auto, minmax, percentile, entropy | `auto` |"), md);
        assertTrue(md.contains("| `quantize.accuracy_budget` | number from 0 to 100, or null | `null` |"), md);
        assertTrue(md.contains("| `train.epochs` | integer >= 1 | `30` |"), md);
    }

    @Test
    void everyKeyIsDescribedAndEveryValueIsCovered() {
        List<RecipeSchema.Key> keys = RecipeSchema.allKeys();
        assertEquals(83, keys.size(), "39 before the train section took every training setting but the dataset; 48 "
                + "before prune, quantize, bench and serve took every setting of theirs; 60 before image folders' size "
                + "and channels, and augmentation; 63 before serve.grpc_port and bench.callers (issue 18); 65 before "
                + "export.sparse, quantize.bits, block_size and keep_8bit, and the shrink section (issue 19); 76 before "
                + "quantize.weight_sharing; 77 before shrink.rewind_to; 78 before quantize.conv_activations, shrink.scope and shrink.conv_activations; 81 before prune.teacher and "
                + "shrink.teacher");
        Map<String, Object> values = Recipes.builtIn("demo", List.of()).values();
        assertEquals(keys.stream().map(RecipeSchema.Key::path).toList(), List.copyOf(values.keySet()),
                "the schema and the record agree key for key, in order");
        for (RecipeSchema.Key key : keys) {
            assertFalse(key.description().isBlank(), key.path());
            assertFalse(key.path().chars().anyMatch(Character::isUpperCase), "snake_case: " + key.path());
            if (key.defaultValue() == null) assertTrue(key.nullable(), key.path());
        }
        assertEquals(List.of("name", "dataset", "data", "train", "doctor", "distill", "prune", "quantize", "shrink", "export",
                "bench", "serve"), RecipeSchema.topLevelNames());
        assertFalse(RecipeSchema.section("train").orElseThrow().toggle());
        assertTrue(RecipeSchema.section("serve").orElseThrow().toggle());
    }

    /** The guide's recipe reference is the schema's own, so a setting added to a stage shows there too. */
    @Test
    void theGuidesReferenceIsTheSchemas() throws java.io.IOException {
        String doc = java.nio.file.Files.readString(java.nio.file.Path.of("..", "docs", "recipes.md"));
        assertTrue(doc.contains(RecipeSchema.markdownReference()), "docs/recipes.md is out of date; paste "
                + "RecipeSchema.markdownReference() into it:\n" + RecipeSchema.markdownReference());
    }
}
