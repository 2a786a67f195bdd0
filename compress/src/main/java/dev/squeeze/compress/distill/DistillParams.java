package dev.squeeze.compress.distill;

import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.core.BadInputException;

import java.util.List;

/**
 * The settings of one distillation run; their hash names its folder.
 *
 * @param teachers    configuration hashes of the teacher runs, sorted (their logits are averaged: order is moot)
 * @param student     how the student trains (model, dataset, epochs, seed, ...)
 * @param temperature softens the teacher's and the student's softmax in the soft term
 * @param alpha       weight of the soft term; {@code 1 - alpha} weighs the hard-label cross-entropy
 * @param studentFrom a model file whose weights the student starts from, or null for a fresh initialisation
 */
public record DistillParams(List<String> teachers, TrainParams student, double temperature, double alpha,
                            String studentFrom) {

    public static final double DEFAULT_TEMPERATURE = 4;
    public static final double DEFAULT_ALPHA = 0.9;
    /** What {@code --temperature auto} tries, keeping the best on the validation split. */
    public static final List<Double> AUTO_TEMPERATURES = List.of(2.0, 4.0, 8.0);
    public static final DistillParams DEFAULTS = new DistillParams(null, TrainParams.HASH_BASE, DEFAULT_TEMPERATURE,
            DEFAULT_ALPHA, null);

    public DistillParams {
        if (!(temperature > 0) || !Double.isFinite(temperature)) {
            throw new BadInputException("--temperature must be a positive number or auto, got " + temperature);
        }
        if (!(alpha >= 0 && alpha <= 1)) throw new BadInputException("--alpha must lie in [0, 1], got " + alpha);
        teachers = teachers == null ? null : teachers.stream().sorted().toList();
    }
}
