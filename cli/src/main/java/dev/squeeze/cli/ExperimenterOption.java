package dev.squeeze.cli;

import dev.squeeze.compress.runs.Workspace;
import picocli.CommandLine.Option;

/** {@code --by NAME}: who the runs a command records are run by; shared by every command that records runs. */
final class ExperimenterOption {
    @Option(names = "--by", paramLabel = "NAME",
            description = "Experimenter recorded on the runs this command records (shown by 'squeeze runs'). "
                    + "Default: $SQUEEZE_USER, else the OS user.")
    String name;

    /** {@code workspace}, recording runs as run by the name given, if one was. */
    Workspace applyTo(Workspace workspace) {
        return workspace.withExperimenter(name);
    }
}
