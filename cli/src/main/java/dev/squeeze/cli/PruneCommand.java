package dev.squeeze.cli;

import dev.squeeze.compress.prune.PruneControl;
import dev.squeeze.compress.prune.PruneOutcome;
import dev.squeeze.compress.prune.PruneParams;
import dev.squeeze.compress.prune.PruneScope;
import dev.squeeze.compress.prune.PruneService;
import dev.squeeze.compress.prune.Structure;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "prune", mixinStandardHelpOptions = true, sortOptions = false,
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
    DataOptions data;
    @Mixin
    WorkspaceOptions workspace;
    @Mixin
    ExperimenterOption by;

    @Option(names = "--from", required = true, paramLabel = "RUN|FILE",
            description = "A training run id (or unique prefix) from 'squeeze runs', or its model.zip.")
    String from;

    @Option(names = "--levels", required = true, paramLabel = "N", description = "Pruning rounds.")
    int levels;

    @Option(names = "--rate", paramLabel = "F", defaultValue = "" + PruneParams.DEFAULT_RATE,
            description = "Fraction of the surviving weights removed per round; the output layer loses half of it "
                    + "with --scope layer (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--rewind-to", paramLabel = "POINT", defaultValue = "0",
            description = "Rewind survivors to iteration 0 (the initialisation), an iteration (500it) or an epoch "
                    + "(1ep): late rewinding. A run without weights saved there is retrained once with them "
                    + "(default: ${DEFAULT-VALUE}).")
    String rewindTo;

    @Option(names = "--scope", paramLabel = "layer|global", defaultValue = "layer",
            description = "Prune each layer by the rate, or all layers with one threshold (default: ${DEFAULT-VALUE}).")
    PruneScope scope;

    @Option(names = "--control", paramLabel = "none|reinit|random", defaultValue = "none",
            description = "Train a control beside each level (default: ${DEFAULT-VALUE}).")
    PruneControl control;

    @Option(names = "--structure", paramLabel = "none|neurons|channels", defaultValue = "none",
            description = "Prune single weights (none: zeros, same file size), or remove whole neurons of dense layers "
                    + "or filters of convolutions by their norm, writing a physically smaller, faster network "
                    + "(default: ${DEFAULT-VALUE}).")
    String structure;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Override
    public Integer call() {
        var err = err();
        try (var monitor = new ConsoleTrainingMonitor(err, CommandContext.progressBarStream(env()))) {
            PruneOutcome outcome = new PruneService(by.applyTo(workspace.resolve(env())), CommandContext.datasetLocator(env(), err),
                    monitor).prune(new PruneParams(null, levels, rate, rewindTo, scope, control,
                    "none".equalsIgnoreCase(structure) ? null : Structure.parse(structure)), from, data.dataDir);
            print(json ? outcome.json() + System.lineSeparator() : outcome.format());
        }
        return ExitCodes.OK;
    }
}
