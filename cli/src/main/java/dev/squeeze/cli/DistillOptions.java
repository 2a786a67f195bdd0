package dev.squeeze.cli;

import dev.squeeze.compress.distill.DistillParams;
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.settings.SettingSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code distill}'s settings as options: distillation's own ({@link DistillParams}) and the student's training
 * settings ({@link TrainOptions}), all made from their records. {@code --temperature} alone is written here, by hand:
 * it also takes {@code auto} (several runs, the best on validation kept), which the record's one temperature cannot
 * hold; its help, default and range are still the setting's.
 */
public final class DistillOptions extends SettingOptions<DistillParams> {
    static final String TEMPERATURE = "--temperature";

    public DistillOptions() {
        super(DistillParams.SETTINGS, Set.of("temperature"));
    }

    @Override
    public CommandSpec transform(CommandSpec spec) {
        spec.addOption(OptionSpec.builder(TEMPERATURE).paramLabel("T|auto").type(String.class).arity("1")
                .description(temperature().help() + " auto tries " + autoText() + " and keeps the best on validation"
                        + " (default: " + temperature().defaultText() + ").")
                .build());
        super.transform(spec);
        return new TrainOptions().transform(spec);
    }

    /** The temperatures to try: the one given, {@link DistillParams#AUTO_TEMPERATURES} for auto, else the default. */
    static List<Double> temperatures(CommandSpec spec) {
        SettingSpec setting = temperature();
        Object given = spec.findOption(TEMPERATURE).getValue();
        if (given == null) return List.of((Double) setting.defaultValue());
        String text = given.toString().trim();
        if (text.equalsIgnoreCase("auto")) return DistillParams.AUTO_TEMPERATURES;
        try {
            return List.of((Double) setting.parse(text, TEMPERATURE));
        } catch (BadInputException e) {
            throw new BadInputException(TEMPERATURE + " must be " + setting.requirement() + ", or auto, got '" + text + "'");
        }
    }

    /** The weight of the soft term, as given. */
    static double alpha(CommandSpec spec) {
        return read(spec, DistillParams.SETTINGS, Map.of()).alpha();
    }

    private static SettingSpec temperature() {
        return DistillParams.SETTINGS.setting("temperature").orElseThrow();
    }

    private static String autoText() {
        List<String> texts = DistillParams.AUTO_TEMPERATURES.stream().map(SettingSpec::text).toList();
        return String.join(", ", texts.subList(0, texts.size() - 1)) + " and " + texts.get(texts.size() - 1);
    }
}
