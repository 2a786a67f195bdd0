package dev.squeeze.cli;

import dev.squeeze.compress.train.TrainParams;
import picocli.CommandLine.Model.CommandSpec;

import java.util.Map;
import java.util.Set;

/**
 * The training settings other than the model, as options: {@code train}, {@code sweep} (the base every trial starts
 * from), {@code doctor} and {@code distill} (the student's) name it as their model transformer. Made from
 * {@link TrainParams}' settings.
 */
public class TrainOptions extends SettingOptions<TrainParams> {
    public TrainOptions() {
        super(TrainParams.SETTINGS, Set.of("model"));
    }

    /** These settings for {@code model} (null when a sweep's grid names the models). */
    static TrainParams params(CommandSpec spec, String model) {
        return read(spec, TrainParams.SETTINGS, model == null ? Map.of() : Map.of("model", model));
    }
}
