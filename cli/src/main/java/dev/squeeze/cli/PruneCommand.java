package dev.squeeze.cli;

import dev.squeeze.compress.prune.PruneOutcome;
import dev.squeeze.compress.prune.PruneParams;
import dev.squeeze.compress.prune.PruneService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "prune", modelTransformer = PruneCommand.Options.class, mixinStandardHelpOptions = true, sortOptions = false,
        header = "Find a lottery ticket: iterative magnitude pruning with rewinding.",
        description = {"From a trained run: prune the smallest surviving weights, rewind the survivors (and the",
                "optimizer state) to the rewind point, retrain with pruned weights held at zero; repeat for each",
                "level. Each level is a ledger row (child of the previous) and is saved as it completes: the same",
                "command after a kill continues from the last complete level. A control beside each level shows",
                "whether the ticket is a ticket: --control reinit (same mask, fresh init), random (random mask,",
                "same sparsity). Writes ticket.zip (the last level's trained ticket), tickets.csv and a plot.", ""},
        footer = {"", "Examples:", "  squeeze prune --from 3f2a9c1b --levels 8 --control reinit",
                "  squeeze prune --from squeeze-runs/train-<hash>/model.zip --levels 8 --rewind-to 500it"})
final class PruneCommand extends SqueezeSubcommand implements Callable<Integer> {
    @Mixin
    StageOptions stage;

    @Option(names = "--from", required = true, paramLabel = "RUN|FILE",
            description = "A training run id (or unique prefix) from 'squeeze runs', or its model.zip.")
    String from;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    /** The pruning settings as options, made from {@link PruneParams}' settings. */
    public static final class Options extends SettingOptions<PruneParams> {
        public Options() {
            super(PruneParams.SETTINGS, Set.of());
        }
    }

    @Override
    public Integer call() {
        PruneParams params = SettingOptions.read(spec, PruneParams.SETTINGS, Map.of());
        var err = err();
        try (var monitor = new ConsoleTrainingMonitor(err, CommandContext.progressBarStream(env()))) {
            PruneOutcome outcome = new PruneService(stage.workspace(env()), CommandContext.datasetLocator(env(), err),
                    monitor).prune(params, from, stage.dataDir());
            print(json ? outcome.json() + System.lineSeparator() : outcome.format());
        }
        return ExitCodes.OK;
    }
}
