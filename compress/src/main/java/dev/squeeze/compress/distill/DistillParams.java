package dev.squeeze.compress.distill;

import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.core.settings.Setting;
import dev.squeeze.core.settings.StageSettings;

import java.util.List;

/**
 * The settings of one distillation run; their hash names its folder. Temperature and alpha are the stage's own
 * settings; the teachers, the student's training settings ({@link TrainParams}' own) and the student's starting file
 * are what the command or the recipe names, resolved by {@link DistillService} (run ids to hashes, a file to its
 * absolute path), so they are not settings with a default.
 *
 * @param teachers    configuration hashes of the teacher runs, sorted (their logits are averaged: order is moot)
 * @param student     how the student trains (model, dataset, epochs, seed, ...)
 * @param temperature softens the teacher's and the student's softmax in the soft term
 * @param alpha       weight of the soft term; {@code 1 - alpha} weighs the hard-label cross-entropy
 * @param studentFrom a model file whose weights the student starts from, or null for a fresh initialisation
 */
public record DistillParams(
        List<String> teachers,
        TrainParams student,
        @Setting(help = "Softmax temperature of the soft term.", label = "T", defaultValue = "4", min = 0,
                minExclusive = true)
        double temperature,
        @Setting(help = "Weight of the soft term; 1 - alpha weighs the hard labels.", label = "A", defaultValue = "0.9",
                min = 0, max = 1)
        double alpha,
        String studentFrom) {

    /** The settings, as options and recipe keys see them. */
    public static final StageSettings<DistillParams> SETTINGS = StageSettings.of(DistillParams.class);

    public static final double DEFAULT_TEMPERATURE = (double) SETTINGS.setting("temperature").orElseThrow().defaultValue();
    public static final double DEFAULT_ALPHA = (double) SETTINGS.setting("alpha").orElseThrow().defaultValue();
    /** What {@code --temperature auto} tries, keeping the best on the validation split. */
    public static final List<Double> AUTO_TEMPERATURES = List.of(2.0, 4.0, 8.0);
    /** What configuration hashes are taken against: the settings' hash bases, the student's against its own. */
    public static final DistillParams DEFAULTS = SETTINGS.with(SETTINGS.hashBase(), "student", TrainParams.HASH_BASE);

    /**
     * Sorts the teachers; the ranges are checked where the values come in (options, recipes) and by
     * {@link #SETTINGS}{@code .check} before the stage runs.
     */
    public DistillParams {
        teachers = teachers == null ? null : teachers.stream().sorted().toList();
    }
}
