package dev.squeeze.cli;

import dev.squeeze.compress.sweep.SweepGrid;
import dev.squeeze.compress.sweep.SweepOutcome;
import dev.squeeze.compress.sweep.SweepParams;
import dev.squeeze.compress.sweep.SweepService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;


import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code squeeze sweep}: parses the options, runs {@link SweepService}, prints its summary. */
@Command(name = "sweep", modelTransformer = SweepCommand.Options.class, mixinStandardHelpOptions = true, sortOptions = false,
        header = "Train a grid of settings; rank which ones moved validation accuracy.",
        description = {"Every combination of the grid (or --random N of them) is a guarded training",
                "run, recorded in the ledger under one sweep id; an identical finished run is",
                "reused, so running the same sweep again trains nothing. A trial that fails (a",
                "diverged loss) is recorded and reported; the others go on. At the end a table",
                "ranks each swept setting by the spread of mean validation accuracy across its",
                "values: what mattered, and what did not.",
                "",
                "Grid keys: (the sweepable training settings, filled in by Options).",
                "The other options give the base settings every trial starts from.", ""},
        footer = {"", "Examples:", "  squeeze sweep --model mlp-tiny --grid 'lr=1e-3,3e-3,1e-2;batch=32,128'",
                "  squeeze sweep --grid 'model=mlp-tiny,lenet-300-100;lr=1e-3,1e-2' --parallel 2",
                "  squeeze runs --sweep <id>    the sweep's trials in the experiment table"})
final class SweepCommand extends SqueezeSubcommand implements Callable<Integer> {
    /** The training options, and the grid's keys named in the description: both made from TrainParams' settings. */
    public static final class Options extends TrainOptions {
        @Override
        public CommandSpec transform(CommandSpec spec) {
            String[] lines = spec.usageMessage().description();
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].startsWith("Grid keys:")) lines[i] = "Grid keys: " + String.join(", ", SweepGrid.KEYS) + ".";
            }
            spec.usageMessage().description(lines);
            return super.transform(spec);
        }
    }

    @Mixin
    StageOptions stage;

    @Option(names = "--grid", required = true, paramLabel = "SPEC",
            description = "The settings to sweep and their values, key=v1,v2;key2=v3 (for example "
                    + "'lr=1e-3,3e-3;batch=32,128').")
    String grid;

    @Option(names = "--model", paramLabel = "NAME",
            description = "Base zoo model; may be left out when the grid sweeps model.")
    String model;

    @Option(names = "--random", paramLabel = "N",
            description = "Train N distinct combinations drawn with --seed instead of the whole grid.")
    Integer random;

    @Option(names = "--parallel", paramLabel = "P", defaultValue = "1",
            description = "Trials trained at once (default: ${DEFAULT-VALUE}). Each uses SQUEEZE_THREADS ND4J "
                    + "threads (1 by default), so on a 2-core machine --parallel 2 keeps both cores busy.")
    int parallel;


    @Option(names = "--json", description = "Print the trials and the table as JSON instead of text.")
    boolean json;

    @Override
    public Integer call() {
        SweepParams params = new SweepParams(TrainOptions.params(spec, model), SweepGrid.parse(grid), random, parallel);
        PrintWriter err = err();
        var service = new SweepService(stage.workspace(env()), CommandContext.datasetLocator(env(), err),
                line -> {
                    err.println(line);
                    err.flush();
                });
        SweepOutcome outcome = service.run(params, stage.dataDir());
        print(json ? outcome.json() : outcome.format());
        return outcome.succeeded() > 0 ? ExitCodes.OK : ExitCodes.FAILURE;
    }
}
