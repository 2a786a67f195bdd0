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

    public record Distill(
            @Setting(help = "Distill into the student and compress the student instead of the trained model.",
                    defaultValue = "false")
            boolean enabled,
            @Setting(help = "Zoo model to train as the student.", defaultValue = "mlp-100", check = SettingChecks.ZooModel.class)
            String student,
            @Setting(help = "Softmax temperature of the soft term.", defaultValue = "4.0", min = 0, minExclusive = true)
            double temperature,
            @Setting(help = "Weight of the soft term; 1 - alpha weighs the hard labels.", defaultValue = "0.5", min = 0, max = 1)
            double alpha,
            @Setting(help = "Most student epochs; early stopping may end sooner.", defaultValue = "30", min = 1)
            int epochs,
            @Setting(help = "The student's learning-rate decay per epoch; 1 keeps it constant.", defaultValue = "0.9",
                    min = 0, minExclusive = true, max = 1)
            double lrDecay,
            @Setting(help = "Stop the student after this many epochs without a better validation accuracy.",
                    defaultValue = "5", min = 1)
            int patience) {
    }

    public record Prune(
            @Setting(help = "Prune the model level by level, retraining after each.", defaultValue = "true")
            boolean enabled,
            @Setting(help = "Pruning rounds.", defaultValue = "3", min = 1)
            int levels,
            @Setting(help = "Fraction of the surviving weights removed per round.", defaultValue = "0.2", min = 0,
                    minExclusive = true, max = 1, maxExclusive = true)
            double rate,
            @Setting(help = "Rewind survivors to 0 (the initialisation), an iteration (500it) or an epoch (1ep).",
                    defaultValue = "0", check = SettingChecks.TrainingPoint.class)
            String rewindTo,
            @Setting(help = "none zeros single weights (same file size); neurons/channels remove whole neurons or conv "
                    + "channels (a smaller, faster model).", defaultValue = "none", choices = {"none", "neurons", "channels"})
            String structure) {
    }

    public record Quantize(
            @Setting(help = "Quantize weights and activations to int8.", defaultValue = "true")
            boolean enabled,
            @Setting(help = "How activation ranges are calibrated; auto tries each and keeps the most accurate.",
                    defaultValue = "auto", choices = {"auto", "minmax", "percentile", "entropy"})
            String calibration,
            @Setting(help = "One weight scale per output channel, or one per layer.", defaultValue = "channel",
                    choices = {"channel", "tensor"})
            String granularity,
            @Setting(help = "Training examples to calibrate on.", defaultValue = "1000", min = 1)
            int samples,
            @Setting(help = "Epochs of quantization-aware training after calibration; 0 for none.", defaultValue = "0", min = 0)
            int qatEpochs,
            @Setting(help = "Most validation accuracy, in points, int8 may lose; QAT is tried when it loses more. null: no "
                    + "budget.", min = 0, max = 100)
            Double accuracyBudget) {
    }

    public record Export(
            @Setting(help = "Write the final model (and each earlier stage's) as ONNX.", defaultValue = "true")
            boolean enabled,
            @Setting(help = "ONNX opset; 13 is the first with per-channel int8.", defaultValue = "17", min = 13, max = 21)
            int opset) {
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
