package dev.squeeze.cli;

import picocli.CommandLine.Option;

/** {@code --verbose}: stack traces on errors. Read by {@link SqueezeCli}'s error handler. */
final class VerboseOption {
    @Option(names = {"-v", "--verbose"}, description = "Print the stack trace when something fails.")
    boolean verbose;
}
