package dev.squeeze.cli;

import dev.squeeze.serve.http.ServeOptions;
import picocli.CommandLine.Model.CommandSpec;

import java.util.Map;
import java.util.Set;

/** How {@code serve} listens and serves, as options: made from {@link ServeOptions}' settings. */
public final class ServingOptions extends SettingOptions<ServeOptions> {
    public ServingOptions() {
        super(ServeOptions.SETTINGS, Set.of());
    }

    /** The settings as given on {@code spec}'s command line. */
    static ServeOptions options(CommandSpec spec) {
        return read(spec, ServeOptions.SETTINGS, Map.of());
    }
}
