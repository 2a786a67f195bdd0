package dev.squeeze.pipeline.recipe;

import dev.squeeze.compress.train.SettingChecks;
import dev.squeeze.core.settings.Setting;

/**
 * The recipe's own keys, those that are no stage's setting: the top-level keys, where training starts from, and the
 * on/off switch of each optional stage. Declared as settings records, like the stages' settings, so that
 * {@link RecipeSchema} makes every key the same way.
 */
public final class RecipeKeys {
    private RecipeKeys() {
    }

    public record Top(
            @Setting(help = "A label for the recipe's runs and reports; not part of the recipe hash.", defaultValue = "recipe")
            String name,
            @Setting(help = "The dataset: fashion-mnist, mnist, or a CSV file with a header row.",
                    defaultValue = "fashion-mnist", check = SettingChecks.Dataset.class)
            String dataset,
            @Setting(help = "Folder holding the dataset's files; null locates it ($SQUEEZE_DATA, /usr/share/datasets, then "
                    + "a verified download into the cache).")
            String data) {
    }

    public record Train(
            @Setting(help = "A squeeze model file or run id (or unique prefix) to start from instead of training; give "
                    + "model or from, not both.")
            String from) {
    }

    public record Doctor(
            @Setting(help = "Run 'squeeze doctor' (overfit one batch, initial loss, init, leakage, labels, lr range test) "
                    + "first.", defaultValue = "true")
            boolean enabled) {
    }

    /**
     * The distill section's own keys; the rest of it is {@link dev.squeeze.compress.distill.DistillParams}' settings
     * and some of the student's training settings ({@link RecipeSchema}).
     */
    public record Distill(
            @Setting(help = "Distill into the student and compress the student instead of the trained model.",
                    defaultValue = "false")
            boolean enabled,
            @Setting(help = "Zoo model to train as the student.", defaultValue = "mlp-100", check = SettingChecks.ZooModel.class)
            String student) {
    }

    /** The prune section's switch; its other keys are {@link dev.squeeze.compress.prune.PruneParams}' settings. */
    public record Prune(
            @Setting(help = "Prune the model level by level, retraining after each.", defaultValue = "true")
            boolean enabled) {
    }

    /** The quantize section's switch; its other keys are {@link dev.squeeze.compress.quant.QuantParams}' settings. */
    public record Quantize(
            @Setting(help = "Quantize weights and activations to int8.", defaultValue = "true")
            boolean enabled) {
    }

    /** The export section's switch; its other keys are {@link dev.squeeze.compress.onnx.ExportParams}' settings. */
    public record Export(
            @Setting(help = "Write the final model (and each earlier stage's) as ONNX.", defaultValue = "true")
            boolean enabled) {
    }

    /** The bench section's switch; its other keys are {@code BenchmarkOptions}' settings. */
    public record Bench(
            @Setting(help = "Measure every exported model the same way.", defaultValue = "true")
            boolean enabled) {
    }

    /** The serve section's switch; its other keys are {@code ServeOptions}' settings. */
    public record Serve(
            @Setting(help = "Start the model server at the end (Ctrl-C stops it).", defaultValue = "false")
            boolean enabled) {
    }
}
