package dev.squeeze.cli;

import dev.squeeze.compress.artifacts.CodeVersion;
import picocli.CommandLine;

final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = SqueezeCommand.class.getPackage().getImplementationVersion();
        return new String[]{"squeeze " + (version == null ? "dev" : version) + " (commit " + CodeVersion.commit() + ")"};
    }
}
