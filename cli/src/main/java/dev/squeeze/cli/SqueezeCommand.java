package dev.squeeze.cli;

import picocli.CommandLine.Command;

import java.util.Map;

@Command(name = "squeeze", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Shrink trained neural networks and serve them: train, distill, prune",
                "(lottery tickets), quantize (int8), export (ONNX), benchmark, serve, or search them all",
                "for the smallest model within an accuracy budget (shrink). Every run is recorded in a",
                "ledger. Start with 'squeeze demo', or declare a pipeline in a recipe and 'squeeze run' it.", ""},
        subcommands = {DemoCommand.class, RunCommand.class, TrainCommand.class, DoctorCommand.class, PruneCommand.class,
                DistillCommand.class, QuantizeCommand.class, ExportCommand.class, ShrinkCommand.class, ServeCommand.class,
                BenchCommand.class, ReportCommand.class, EvalCommand.class, RunsCommand.class, ModelsCommand.class,
                SweepCommand.class},
        commandListHeading = "%nCommands:%n",
        footer = {"", "Runs and the ledger live in $SQUEEZE_HOME (default ./squeeze-runs).",
                "'squeeze COMMAND --help' explains each command."})
public final class SqueezeCommand implements Runnable {
    private final Map<String, String> env;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    SqueezeCommand(Map<String, String> env) {
        this.env = env;
    }

    Map<String, String> env() {
        return env;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
