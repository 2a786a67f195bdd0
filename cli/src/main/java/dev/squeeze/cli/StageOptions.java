package dev.squeeze.cli;

import dev.squeeze.compress.runs.Workspace;
import picocli.CommandLine.Mixin;

import java.nio.file.Path;
import java.util.Map;

/**
 * What every command that runs stages has: where the dataset's files are ({@code --data}), where runs and the ledger
 * go ({@code --output}, {@code --ledger}) and who runs them ({@code --by}). One mixin, so a stage command declares
 * it once.
 */
final class StageOptions {
    @Mixin
    DataOptions data;
    @Mixin
    WorkspaceOptions output;
    @Mixin
    ExperimenterOption by;

    /** The workspace the options and {@code env} name, recording runs as the experimenter. */
    Workspace workspace(Map<String, String> env) {
        return by.applyTo(output.resolve(env));
    }

    /** The folder {@code --data} names, or null to locate the dataset. */
    Path dataDir() {
        return data.dataDir;
    }
}
