package dev.squeeze.cli;

import dev.squeeze.compress.runs.Workspace;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;

/** Where runs and the ledger live; shared by every command that reads or writes runs. */
final class WorkspaceOptions {
    @Option(names = "--output", paramLabel = "DIR",
            description = "Folder for run folders (one per configuration hash). Default: $SQUEEZE_HOME or ./squeeze-runs.")
    Path output;

    @Option(names = "--ledger", paramLabel = "PATH|URL",
            description = "Run ledger: a SQLite file, or a jdbc:postgresql:// URL to share one with a team. "
                    + "Default: $SQUEEZE_LEDGER, else ledger.db in the runs folder.")
    String ledger;

    Workspace resolve(Map<String, String> env) {
        Workspace base = Workspace.fromEnvironment(env);
        if (output != null && ledger == null && !env.containsKey(Workspace.LEDGER_ENV)) {
            return new Workspace(output, output.resolve("ledger.db").toString());
        }
        return base.with(output, ledger);
    }
}
