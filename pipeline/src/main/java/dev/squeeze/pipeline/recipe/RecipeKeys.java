package dev.squeeze.pipeline.recipe;

import dev.squeeze.compress.train.SettingChecks;
import dev.squeeze.core.settings.Setting;

/**
 * The recipe's own keys, those that are no stage's setting: the top-level keys, where training starts from, and the
 * distillation's student. Declared as settings records, like the stages' settings, so that {@link RecipeSchema} makes
 * every key the same way. (Each optional section's {@code enabled} switch is declared in {@link RecipeSchema}.)
 */
public final class RecipeKeys {
    private RecipeKeys() {
    }

    public record Top(
            @Setting(help = "A label for the recipe's runs and reports; not part of the recipe hash.", defaultValue = "recipe")
            String name,
            @Setting(help = "The dataset: fashion-mnist, mnist, a CSV file with a header row, or a folder of images in "
                    + "train/CLASS/ (and optionally test/CLASS/) folders.",
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

    /** The distill section's student; its other keys are DistillParams' settings and some of TrainParams'. */
    public record Distill(
            @Setting(help = "Zoo model to train as the student.", defaultValue = "mlp-100", check = SettingChecks.ZooModel.class)
            String student) {
    }
}
