package dev.squeeze.cli;

import dev.squeeze.models.data.DatasetLocator;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Map;

/** What every command takes from its surroundings: the environment and where messages go. */
final class CommandContext {
    private CommandContext() {
    }

    /** The dataset locator for {@code env}, reporting what it does on {@code err}. */
    static DatasetLocator datasetLocator(Map<String, String> env, PrintWriter err) {
        return DatasetLocator.fromEnvironment(env)
                .withProgress(line -> {
                    err.println(line);
                    err.flush();
                });
    }

    /** Where to draw a progress bar: stderr on an interactive terminal, nowhere otherwise. */
    static PrintStream progressBarStream(Map<String, String> env) {
        boolean terminal = System.console() != null && !"true".equalsIgnoreCase(env.get("CI"));
        return terminal ? System.err : null;
    }
}
