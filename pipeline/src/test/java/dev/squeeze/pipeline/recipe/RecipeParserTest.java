package dev.squeeze.pipeline.recipe;

import dev.squeeze.compress.prune.PruneControl;
import dev.squeeze.compress.prune.PruneParams;
import dev.squeeze.compress.prune.PruneScope;
import dev.squeeze.compress.prune.Structure;
import dev.squeeze.compress.quant.Granularity;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.core.BadInputException;
import dev.squeeze.serve.bench.BenchmarkOptions;
import dev.squeeze.serve.http.ServeOptions;
import org.junit.jupiter.api.Test;

import java.util.Map;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecipeParserTest {
    private static final String MINIMAL = "train:\n  model: lenet-300-100\n";

    private static Recipe parse(String yaml, String... overrides) {
        return RecipeParser.parse(yaml, "recipe.yaml", List.of(overrides));
    }

    private static String error(String yaml, String... overrides) {
        return assertThrows(BadInputException.class, () -> parse(yaml, overrides)).getMessage();
    }

    private static void assertStarts(String expectedStart, String message) {
        assertTrue(message.startsWith(expectedStart), "expected to start with\n  " + expectedStart + "\nbut was\n  " + message);
    }

    // ---- defaults ---------------------------------------------------------------------------------------------

    @Test
    void everySettingHasItsDefault() {
        Recipe r = parse(MINIMAL);
        assertEquals("recipe", r.name());
        assertEquals("fashion-mnist", r.dataset());
        assertNull(r.data());
        assertEquals(TrainParams.of("lenet-300-100"), r.train());
        assertNull(r.from());
        assertEquals(true, r.enabled("doctor"));
        assertDistill(r, false, "mlp-100", 4, 0.5, 30, 0.9, 5);
        assertTrue(r.enabled("prune"));
        assertEquals(new PruneParams(null, 3, 0.2, "0", PruneScope.LAYER, PruneControl.NONE, Structure.NONE), r.prune());
        assertTrue(r.enabled("quantize"));
        assertEquals(QuantParams.DEFAULTS, r.quantize());
        assertTrue(r.enabled("export"));
        assertEquals(17, r.exportSettings().opset());
        assertTrue(r.enabled("bench"));
        assertEquals(BenchmarkOptions.DEFAULTS, r.bench());
        assertEquals(1000, r.bench().windowMs());
        assertEquals(1000, r.bench().warmupMs());
        assertEquals(10, r.bench().maxWindows());
        assertFalse(r.enabled("serve"));
        assertEquals(ServeOptions.DEFAULTS, r.serve());
        assertEquals(8080, r.serve().port());
        assertEquals("127.0.0.1", r.serve().host());
    }

    @Test
    void everyKeyCanBeWritten() {
        Recipe r = parse("""
                name: full
                dataset: mnist
                data: /tmp/data
                train:
                  model: null
                  from: runs/abc123
                  epochs: 12
                  batch: 128
                  lr: 2e-3
                  lr_decay: 1
                  seed: 123456789012
                  patience: 4
                doctor:
                  enabled: false
                distill:
                  enabled: true
                  student: mlp-tiny
                  temperature: 2.5
                  alpha: 0
                  epochs: 7
                  lr_decay: 0.95
                  patience: 2
                prune:
                  enabled: true
                  levels: 5
                  rate: 0.5
                  rewind_to: 2EP
                  structure: neurons
                quantize:
                  enabled: true
                  calibration: entropy
                  granularity: tensor
                  samples: 500
                  qat_epochs: 2
                  accuracy_budget: 0.5
                export:
                  enabled: true
                  opset: 13
                bench:
                  enabled: false
                  window_ms: 300
                  warmup_ms: 0
                  max_windows: 4
                serve:
                  enabled: true
                  port: 0
                  host: 0.0.0.0
                """);
        assertEquals(List.of("full", "mnist", "/tmp/data"), List.of(r.name(), r.dataset(), r.data()));
        assertEquals("runs/abc123", r.from());
        assertEquals(TrainParams.SETTINGS.build(Map.of("dataset", "mnist", "epochs", 12, "batch", 128, "lr", 0.002,
                "lr-decay", 1.0, "seed", 123456789012L, "patience", 4)), r.train());
        assertEquals(false, r.enabled("doctor"));
        assertDistill(r, true, "mlp-tiny", 2.5, 0.0, 7, 0.95, 2);
        assertTrue(r.enabled("prune"));
        assertEquals(new PruneParams(null, 5, 0.5, "2ep", PruneScope.LAYER, PruneControl.NONE, Structure.NEURONS), r.prune());
        assertTrue(r.enabled("quantize"));
        assertEquals(new QuantParams(null, "entropy", 99.99, 500, Granularity.TENSOR, List.of(), 2, 0.5, "auto"), r.quantize());
        assertTrue(r.enabled("export"));
        assertEquals(13, r.exportSettings().opset());
        assertFalse(r.enabled("bench"));
        assertEquals(BenchmarkOptions.DEFAULTS.with("window-ms", 300L).with("warmup-ms", 0L).with("max-windows", 4), r.bench());
        assertTrue(r.enabled("serve"));
        assertEquals(ServeOptions.SETTINGS.build(java.util.Map.of("port", 0, "host", "0.0.0.0")), r.serve());
    }

    @Test
    void sectionShorthandsSwitchAStageWithDefaults() {
        Recipe r = parse(MINIMAL + "prune: false\ndistill: true\ndoctor: false\nserve: true\n");
        assertDistill(r, true, "mlp-100", 4, 0.5, 30, 0.9, 5);
        assertFalse(r.enabled("prune"));
        assertEquals(new PruneParams(null, 3, 0.2, "0", PruneScope.LAYER, PruneControl.NONE, Structure.NONE), r.prune());
        assertFalse(r.enabled("doctor"));
        assertTrue(r.enabled("serve"));
    }

    @Test
    void aSectionWrittenOutIsEnabledUnlessItSaysOtherwise() {
        Recipe r = parse(MINIMAL + "distill:\n  student: mlp-tiny\nserve:\n  enabled: false\n  port: 9000\n");
        assertTrue(r.enabled("distill"));
        assertEquals("mlp-tiny", r.distill().student());
        assertFalse(r.enabled("serve"));
        assertEquals(9000, r.serve().port());
    }

    @Test
    void valuesAreReadByTheirKeysType() {
        Recipe r = parse("""
                name: 2024
                train:
                  from: 0123
                  epochs: 10.0
                  lr: 1e-3
                  seed: -5
                prune:
                  rewind_to: 0
                  rate: .25
                quantize:
                  calibration: MinMax
                  accuracy_budget: 1
                """);
        assertEquals("2024", r.name());
        assertEquals("0123", r.from(), "strings are taken as written");
        assertEquals(10, r.train().epochs());
        assertEquals(0.001, r.train().learningRate());
        assertEquals(-5, r.train().seed());
        assertEquals("0", r.prune().rewindTo());
        assertEquals(0.25, r.prune().rate());
        assertEquals("minmax", r.quantize().calibration());
        assertEquals(1.0, r.quantize().accuracyBudget());
    }

    @Test
    void readsAFileAndNamesItInErrors(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("recipe.yaml");
        Files.writeString(file, MINIMAL + "prune:\n  levels: 4\n");
        assertEquals(4, RecipeParser.parse(file, List.of()).prune().levels());
        Files.writeString(file, MINIMAL + "prune:\n  levels: 0\n");
        String message = assertThrows(BadInputException.class, () -> RecipeParser.parse(file, List.of())).getMessage();
        assertStarts(file + " line 4: prune.levels must be an integer >= 1, got '0'", message);
        Path missing = dir.resolve("nope.yaml");
        assertEquals("recipe file not found: " + missing,
                assertThrows(BadInputException.class, () -> RecipeParser.parse(missing, null)).getMessage());
    }

    // ---- errors, each with its line -------------------------------------------------------------------------

    @Test
    void unknownKeyNamesTheSectionAndTheAllowedKeys() {
        String message = error("""
                name: demo
                dataset: fashion-mnist

                # training
                train:
                  model: lenet-300-100
                  epochz: 10
                """);
        assertStarts("recipe.yaml line 7: unknown key 'epochz' in train; allowed: model, from, epochs, batch, lr, "
                + "seed, patience, val_fraction, lr_decay", message);
        assertTrue(message.endsWith("(did you mean 'epochs'?)"), message);
    }

    @Test
    void suggestionsCatchSwappedLetters() {
        assertTrue(error("train:\n  modle: lenet-300-100\n").endsWith("(did you mean 'model'?)"));
        assertTrue(error(MINIMAL + "prune:\n  rewind: 0\n").endsWith("allowed: enabled, levels, rate, rewind_to, scope, control, structure, teacher"),
                "no far-fetched guesses");
    }

    @Test
    void unknownTopLevelSection() {
        assertStarts("recipe.yaml line 3: unknown section 'prunning'; allowed: name, dataset, data, train, doctor, "
                + "distill, prune, quantize, shrink, export, bench, serve", error(MINIMAL + "prunning:\n  levels: 2\n"));
    }

    @Test
    void benchAndServeKeysAreTheirSettingsWithTheirChecks() {
        // bench and serve hold BenchmarkOptions' and ServeOptions' settings after their switch, at those defaults
        assertEquals(List.of("enabled", "window_ms", "warmup_ms", "max_windows", "min_runs_per_window", "stability",
                "threads", "callers"), RecipeSchema.section("bench").orElseThrow().keyNames());
        assertEquals(List.of("enabled", "port", "host", "grpc_port", "max_batch_size", "max_queue_delay_us",
                "intra_op_threads", "max_elements", "max_image_pixels"), RecipeSchema.section("serve").orElseThrow().keyNames());
        // a bad value names the recipe key, never the flag
        assertEquals("recipe.yaml line 4: bench.stability must be a number > 0, got '0'",
                error(MINIMAL + "bench:\n  stability: 0\n"));
        assertEquals("recipe.yaml line 4: bench.max_windows must be an integer >= 3, got '2'",
                error(MINIMAL + "bench:\n  max_windows: 2\n"));
        assertEquals("recipe.yaml line 4: serve.max_batch_size must be an integer >= 1, got '0'",
                error(MINIMAL + "serve:\n  max_batch_size: 0\n"));
    }

    @Test
    void integerWithItsRange() {
        String yaml = "name: x\n\n\n\n\n\n\ntrain:\n  epochs: ten\n  model: mlp-100\n";
        assertEquals("recipe.yaml line 9: train.epochs must be an integer >= 1, got 'ten'", error(yaml));
        assertEquals("recipe.yaml line 2: train.epochs must be an integer >= 1, got '2.5'",
                error("train:\n  epochs: 2.5\n  model: mlp-100\n"));
        assertEquals("recipe.yaml line 3: train.epochs must be an integer >= 1, got '0'", error(MINIMAL + "  epochs: 0\n"));
        assertEquals("recipe.yaml line 3: train.batch must be an integer >= 1, got '99999999999'",
                error(MINIMAL + "  batch: 99999999999\n"), "ints stay ints");
        assertEquals("recipe.yaml line 4: export.opset must be an integer from 13 to 21, got '22'",
                error(MINIMAL + "export:\n  opset: 22\n"));
        assertEquals("recipe.yaml line 4: serve.port must be an integer from 0 to 65535, got '70000'",
                error(MINIMAL + "serve:\n  port: 70000\n"));
        assertEquals("recipe.yaml line 4: quantize.samples must be an integer >= 1, got '0'",
                error(MINIMAL + "quantize:\n  samples: 0\n"));
    }

    @Test
    void enumListsItsValues() {
        String yaml = MINIMAL + "\n\n\n\n\n\n\n\nquantize:\n  calibration: kl\n";
        assertEquals("recipe.yaml line 12: quantize.calibration must be one of auto, minmax, percentile, entropy, got 'kl'",
                error(yaml));
        assertEquals("recipe.yaml line 4: prune.structure must be one of none, neurons, channels, got 'filters'",
                error(MINIMAL + "prune:\n  structure: filters\n"));
    }

    @Test
    void numberRanges() {
        assertEquals("recipe.yaml line 4: prune.rate must be a number > 0 and < 1, got '1'", error(MINIMAL + "prune:\n  rate: 1\n"));
        assertEquals("recipe.yaml line 3: train.lr must be a number > 0, got '0'", error(MINIMAL + "  lr: 0\n"));
        assertEquals("recipe.yaml line 3: train.lr must be a number > 0, got 'fast'", error(MINIMAL + "  lr: fast\n"));
        assertEquals("recipe.yaml line 3: train.lr_decay must be a number > 0 and <= 1, got '1.5'",
                error(MINIMAL + "  lr_decay: 1.5\n"));
        assertEquals("recipe.yaml line 4: distill.alpha must be a number from 0 to 1, got '-0.1'",
                error(MINIMAL + "distill:\n  alpha: -0.1\n"));
        assertEquals("recipe.yaml line 4: quantize.accuracy_budget must be a number from 0 to 100, or null, got '.inf'",
                error(MINIMAL + "quantize:\n  accuracy_budget: .inf\n"));
    }

    /** The prune and quantize keys are their stages' settings; a bad value names the recipe key it came from. */
    @Test
    void pruneAndQuantizeSettingsNameTheirRecipeKeys() {
        assertEquals("recipe.yaml line 4: quantize.percentile must be a number > 50 and <= 100, got '50'",
                error(MINIMAL + "quantize:\n  percentile: 50\n"));
        assertEquals("recipe.yaml line 4: quantize.qat_epochs must be an integer >= 0, got '-1'",
                error(MINIMAL + "quantize:\n  qat_epochs: -1\n"));
        assertEquals("recipe.yaml line 4: quantize.granularity must be one of channel, tensor, got 'row'",
                error(MINIMAL + "quantize:\n  granularity: row\n"));
        assertEquals("--set quantize.keep_float=0,-1: quantize.keep_float must be a comma-separated list of integers "
                + ">= 0 or names, got '0,-1'", error(MINIMAL, "quantize.keep_float=0,-1"));
        assertEquals(List.of(0, 6), parse(MINIMAL, "quantize.keep_float=6,0").quantize().keepFloat());
        assertEquals("recipe.yaml line 4: prune.scope must be one of layer, global, got 'all'",
                error(MINIMAL + "prune:\n  scope: all\n"));
        assertEquals("recipe.yaml line 4: prune.control must be one of none, reinit, random, got 'shuffle'",
                error(MINIMAL + "prune:\n  control: shuffle\n"));
        assertEquals("recipe.yaml line 5: prune.control applies to unstructured pruning; leave it out when structure is set",
                error(MINIMAL + "prune:\n  structure: neurons\n  control: reinit\n"));
        assertEquals("--set prune.scope=global: prune.scope global applies to unstructured pruning; structured pruning "
                + "cuts each layer, so leave scope out when structure is set",
                error(MINIMAL + "prune:\n  structure: channels\n", "prune.scope=global"));
        Recipe r = parse(MINIMAL + "prune:\n  scope: global\n  control: random\n");
        assertEquals(new PruneParams(null, 3, 0.2, "0", PruneScope.GLOBAL, PruneControl.RANDOM, Structure.NONE), r.prune());
    }

    /** The distill and export keys are made from the stages' settings: a bad value names the recipe key. */
    @Test
    void distillAndExportKeysNameTheKey() {
        assertEquals("recipe.yaml line 4: distill.temperature must be a number > 0, got '0'",
                error(MINIMAL + "distill:\n  temperature: 0\n"));
        assertEquals("recipe.yaml line 5: distill.alpha must be a number from 0 to 1, got '1.5'",
                error(MINIMAL + "distill:\n  student: mlp-tiny\n  alpha: 1.5\n"));
        assertEquals("recipe.yaml line 4: distill.patience must be an integer >= 1, got '0'",
                error(MINIMAL + "distill:\n  patience: 0\n"));
        assertEquals("recipe.yaml line 4: distill.lr_decay must be a number > 0 and <= 1, got '0'",
                error(MINIMAL + "distill:\n  lr_decay: 0\n"));
        assertEquals("recipe.yaml line 4: export.opset must be an integer from 13 to 21, got '12'",
                error(MINIMAL + "export:\n  opset: 12\n"));
        assertStarts("recipe.yaml line 4: unknown key 'batch' in distill; allowed: enabled, student, temperature, alpha, "
                + "epochs, lr_decay, patience", error(MINIMAL + "distill:\n  batch: 8\n"));
    }

    @Test
    void booleansAreTrueOrFalseOnly() {
        assertEquals("recipe.yaml line 4: prune.enabled must be true or false, got 'yes'",
                error(MINIMAL + "prune:\n  enabled: yes\n"));
        assertEquals("recipe.yaml line 3: prune must be a mapping of its keys (enabled, levels, rate, rewind_to, scope, control, "
                + "structure, teacher) or true/false, got 'off'", error(MINIMAL + "prune: off\n"));
    }

    @Test
    void stringsAndTheirChecks() {
        assertStarts("recipe.yaml line 2: train.model must be a zoo model (mlp-tiny, lenet-300-100, ",
                error("train:\n  model: lenet-300\n"));
        assertStarts("recipe.yaml line 1: dataset must be a dataset name (fashion-mnist, mnist", error("dataset: cifar\n" + MINIMAL));
        assertEquals("recipe.yaml line 4: prune.rewind_to must be 0, an iteration like 500it, or an epoch like 1ep, got 'start'",
                error(MINIMAL + "prune:\n  rewind_to: start\n"));
        assertEquals("recipe.yaml line 4: serve.host must be a non-empty string, got a list",
                error(MINIMAL + "serve:\n  host: [a, b]\n"));
        assertEquals("recipe.yaml line 1: name must be a non-empty string, got nothing", error("name:\n" + MINIMAL));
        assertEquals("recipe.yaml line 1: name must be a non-empty string, got null", error("name: null\n" + MINIMAL));
        assertEquals("null", parse("name: 'null'\n" + MINIMAL).name(), "a quoted null is a string");
    }

    @Test
    void duplicateKeysAndSections() {
        assertEquals("recipe.yaml line 4: duplicate key 'epochs' in train (first on line 3)",
                error(MINIMAL + "  epochs: 3\n  epochs: 4\n"));
        assertEquals("recipe.yaml line 4: duplicate section 'train' (first on line 1)",
                error(MINIMAL + "prune: true\ntrain:\n  epochs: 3\n"));
        assertEquals("recipe.yaml line 2: duplicate key 'name' (first on line 1)", error("name: a\nname: b\n" + MINIMAL));
    }

    @Test
    void sectionsMustBeMappings() {
        assertEquals("recipe.yaml line 1: train must be a mapping of its keys (model, from, epochs, batch, lr, seed, "
                + "patience, val_fraction, lr_decay, init, label, categorical, snapshot, tolerance, refit, example_decay, "
                + "drop, image_size, channels, augment), got 'lenet-300-100'", error("train: lenet-300-100\n"));
        assertEquals("recipe.yaml line 3: quantize must be a mapping of its keys (enabled, calibration, percentile, samples, "
                + "granularity, keep_float, bits, block_size, keep_8bit, weight_sharing, conv_activations, qat_epochs, accuracy_budget) or true/false, got nothing", error(MINIMAL + "quantize:\nexport: true\n"));
        assertEquals("recipe.yaml line 4: bench must be a mapping of its keys (enabled, window_ms, warmup_ms, max_windows, "
                + "min_runs_per_window, stability, threads, callers) or true/false, got a list", error(MINIMAL + "bench:\n  - window_ms: 3\n"));
        assertStarts("recipe.yaml line 1: a recipe is a mapping of keys and sections (name, dataset, data, train,",
                error("- train\n- prune\n"));
        assertTrue(error("- train\n").endsWith("got a list"));
    }

    @Test
    void malformedYamlShowsSnakeYamlsProblemAndLine() {
        String message = error("train:\n  model: lenet-300-100\n  epochs: [3\nprune: true\n");
        assertTrue(message.startsWith("recipe.yaml line "), message);
        assertTrue(message.contains("malformed YAML: "), message);
        String tabs = error("train:\n\tmodel: lenet-300-100\n");
        assertTrue(tabs.startsWith("recipe.yaml line 2: malformed YAML: "), tabs);
        assertStarts("recipe.yaml line 3: malformed YAML: mapping values are not allowed here",
                error("train:\n  model: lenet-300-100\n  epochs: 3: 4\n"));
        assertFalse(message.contains("\n"), "one line: " + message);
        assertEquals("recipe.yaml line 2: malformed YAML: expected a single document in the stream on line 1, "
                + "but found another document", error("name: a\n---\n" + MINIMAL));
        assertEquals("recipe.yaml line 3: malformed YAML: found unexpected end of stream (while scanning a quoted scalar "
                + "on line 2)", error("train:\n  model: \"abc\n"));
    }

    @Test
    void emptyRecipeSaysWhatItNeeds() {
        for (String empty : new String[]{"", "\n\n", "# only a comment\n"}) {
            assertEquals("recipe.yaml: the recipe is empty; a recipe needs at least train.model (a zoo model to train, "
                    + "such as lenet-300-100) or train.from (a model file or run id to start from)", error(empty));
        }
    }

    @Test
    void modelOrFromExactlyOne() {
        assertStarts("recipe.yaml line 2: the recipe needs train.model", error("name: x\ntrain:\n  epochs: 3\n"));
        assertStarts("recipe.yaml: the recipe needs train.model", error("name: x\n"));
        assertStarts("recipe.yaml line 3: train.model and train.from are both set; give one",
                error(MINIMAL + "  from: runs/abc\n"));
        assertStarts("recipe.yaml line 2: the recipe needs train.model", error("train:\n  model: null\n"));
    }

    // ---- overrides --------------------------------------------------------------------------------------------

    @Test
    void overridesSetKeysWithTheirTypes() {
        Recipe r = parse(MINIMAL + "prune:\n  levels: 2\n", "prune.levels=5", "quantize.accuracy_budget=0.5", "distill=true",
                "name=night", "train.lr=1e-2", "prune.rewind_to=500it", "bench.window_ms=250.0", "data=/data");
        assertEquals(5, r.prune().levels());
        assertEquals(0.5, r.quantize().accuracyBudget());
        assertTrue(r.enabled("distill"));
        assertEquals("night", r.name());
        assertEquals(0.01, r.train().learningRate());
        assertEquals("500it", r.prune().rewindTo());
        assertEquals(250, r.bench().windowMs());
        assertEquals("/data", r.data());
    }

    @Test
    void overridesApplyInOrderAndCanSwitchModelForFrom() {
        Recipe r = parse(MINIMAL, "train.from=runs/abc", "train.model=null", "prune=false", "prune.levels=4",
                "quantize.accuracy_budget=null", "quantize.accuracy_budget=2");
        assertNull(r.train().model());
        assertEquals("runs/abc", r.from());
        assertFalse(r.enabled("prune"), "setting a key does not switch its section on");
        assertEquals(4, r.prune().levels());
        assertEquals(2.0, r.quantize().accuracyBudget());
        assertEquals("recipe.yaml line 1: train.model and train.from are both set; give one: model trains a zoo model "
                        + "from scratch, from starts from a model file or run id (--set train.from=null drops it)",
                error("train: {model: mlp-100, from: x.zip}\n"));
        assertStarts("--set train.from=x.zip: train.model and train.from are both set", error(MINIMAL, "train.from=x.zip"));
        assertStarts("--set train.from=null: the recipe needs train.model",
                error("train:\n  from: x.zip\n", "train.from=null"));
        assertEquals(3, parse("", "train.model=mlp-100", "prune.levels=3").prune().levels(), "overrides fill an empty recipe");
    }

    @Test
    void overrideErrorsNameTheOverride() {
        assertStarts("--set prune.levelz=5: unknown key 'levelz' in prune; allowed: enabled, levels, rate, rewind_to, scope, control, structure, teacher",
                error(MINIMAL, "prune.levelz=5"));
        assertEquals("--set prune.levels=many: prune.levels must be an integer >= 1, got 'many'",
                error(MINIMAL, "prune.levels=many"));
        assertEquals("--set prune.levels=2.5: prune.levels must be an integer >= 1, got '2.5'", error(MINIMAL, "prune.levels=2.5"));
        assertStarts("--set prunes.levels=5: unknown section 'prunes'; allowed: name, dataset, data, train,",
                error(MINIMAL, "prunes.levels=5"));
        assertStarts("--set prune.levels: expected KEY=VALUE", error(MINIMAL, "prune.levels"));
        assertStarts("--set distill=maybe: distill may be set to true or false", error(MINIMAL, "distill=maybe"));
        assertStarts("--set train=true: train is a section without an on/off switch", error(MINIMAL, "train=true"));
        assertStarts("--set nme=x: unknown key 'nme'; allowed: name, dataset", error(MINIMAL, "nme=x"));
        assertEquals("--set quantize.calibration=kl: quantize.calibration must be one of auto, minmax, percentile, entropy, "
                + "got 'kl'", error(MINIMAL, "quantize.calibration=kl"));
        assertEquals("--set prune.enabled=1: prune.enabled must be true or false, got '1'", error(MINIMAL, "prune.enabled=1"));
        assertEquals("--set name=: name must be a non-empty string, got nothing", error(MINIMAL, "name="));
    }

    /**
     * The distill section as the runner reads it: its switch and student, distillation's settings, and the student's
     * training settings (the train section's, but for the student's model and the schedule the section sets).
     */
    static void assertDistill(Recipe r, boolean enabled, String student, double temperature, double alpha, int epochs,
                              double lrDecay, int patience) {
        assertEquals(enabled, r.enabled("distill"));
        assertEquals(student, r.distill().student());
        assertEquals(temperature, r.distillSettings().temperature());
        assertEquals(alpha, r.distillSettings().alpha());
        TrainParams expected = TrainParams.SETTINGS.build(Map.of("model", student, "epochs", epochs, "lr-decay", lrDecay,
                "patience", patience, "example-decay", 1.0));
        TrainParams train = r.train();
        for (var setting : TrainParams.SETTINGS.settings()) {
            String name = setting.name();
            if (List.of("model", "epochs", "lr-decay", "patience", "example-decay").contains(name)) continue;
            expected = TrainParams.SETTINGS.with(expected, name, TrainParams.SETTINGS.get(train, name));
        }
        assertEquals(expected, r.distillStudent());
    }
}
