package dev.squeeze.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Map;

/** What every top-level command has: the root (for the environment), its own spec, and {@code --verbose}. */
abstract class SqueezeSubcommand {
    @ParentCommand
    SqueezeCommand root;
    @Spec
    CommandSpec spec;
    @Mixin
    VerboseOption verbose;

    Map<String, String> env() {
        return root.env();
    }

    /** Progress and messages. */
    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** Prints a result on stdout. */
    void print(String text) {
        PrintWriter out = spec.commandLine().getOut();
        out.print(text);
        out.flush();
    }
}
