package dev.squeeze.cli;

import dev.squeeze.core.settings.SettingSpec;
import dev.squeeze.core.settings.StageSettings;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A stage's settings as command-line options, made from its settings record ({@link StageSettings}): one option per
 * setting, its flag, placeholder, help and default taken from the setting's {@code @Setting}. A command names a
 * subclass as its {@code @Command(modelTransformer = ...)}, and reads the values with {@link #read}. The values are
 * parsed by the setting's own rules, so a bad one is refused naming its flag ("--epochs must be an integer >= 1,
 * got '0'").
 *
 * @param <R> the settings record
 */
abstract class SettingOptions<R extends Record> implements IModelTransformer {
    private final StageSettings<R> settings;
    private final Set<String> omitted;

    /** Options for every setting except those named in {@code omitted} (which the command offers its own way). */
    SettingOptions(StageSettings<R> settings, Set<String> omitted) {
        this.settings = settings;
        this.omitted = Set.copyOf(omitted);
    }

    @Override
    public CommandSpec transform(CommandSpec spec) {
        for (SettingSpec setting : settings.settings()) {
            if (!omitted.contains(setting.name())) spec.addOption(option(setting));
        }
        return spec;
    }

    /** The option for {@code setting}. */
    static OptionSpec option(SettingSpec setting) {
        String help = setting.help() + (setting.defaultValue() == null ? "" : " (default: " + setting.defaultText() + ")");
        OptionSpec.Builder option = OptionSpec.builder(setting.flag()).paramLabel(setting.label()).description(help);
        switch (setting.type()) {
            case LIST -> option.type(List.class).auxiliaryTypes(String.class).splitRegex(",");
            case BOOLEAN -> option.type(String.class).arity("0..1").fallbackValue("true");
            default -> option.type(String.class).arity("1");
        }
        return option.build();
    }

    /**
     * The settings as given on {@code spec}'s command line, at their defaults where not given; {@code fixed} sets
     * the settings the command took another way (by name).
     */
    static <R extends Record> R read(CommandSpec spec, StageSettings<R> settings, Map<String, ?> fixed) {
        Map<String, Object> values = new LinkedHashMap<>(fixed);
        for (SettingSpec setting : settings.settings()) {
            OptionSpec option = spec.findOption(setting.flag());
            if (option == null || values.containsKey(setting.name())) continue;
            Object given = option.getValue();
            if (given == null) continue;
            String text = given instanceof List<?> list
                    ? String.join(",", list.stream().map(String::valueOf).toList()) : given.toString();
            values.put(setting.name(), setting.parse(text, setting.flag()));
        }
        return settings.build(values);
    }
}
