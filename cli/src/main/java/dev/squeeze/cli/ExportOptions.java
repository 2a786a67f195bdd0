package dev.squeeze.cli;

import dev.squeeze.compress.onnx.ExportParams;
import picocli.CommandLine.Model.CommandSpec;

import java.util.Map;
import java.util.Set;

/** {@code export}'s settings as options, made from {@link ExportParams}' settings. */
public final class ExportOptions extends SettingOptions<ExportParams> {
    public ExportOptions() {
        super(ExportParams.SETTINGS, Set.of());
    }

    /** The settings as given; the source is the service's to resolve. */
    static ExportParams params(CommandSpec spec) {
        return read(spec, ExportParams.SETTINGS, Map.of());
    }
}
