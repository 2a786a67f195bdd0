package dev.squeeze.cli;

import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunQuery;
import dev.squeeze.compress.ledger.RunTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.concurrent.Callable;

@Command(name = "runs", mixinStandardHelpOptions = true, sortOptions = false,
        header = "List every run (the experiment table); add notes to runs.",
        description = {"The experiment table: every run with its code commit, experimenter, stage, model,",
                "dataset, accuracies, sizes, status and notes, newest first. A run whose process died",
                "without a word (kill -9, power loss) shows as killed. Listing works on a read-only disk.", ""},
        subcommands = RunsCommand.Note.class,
        footer = {"", "Examples:", "  squeeze runs --model lenet-300-100 --sort test_acc",
                "  squeeze runs --by alice --json",
                "  squeeze runs --rebuild            (after losing or breaking ledger.db)",
                "  squeeze runs note 3f2a9c1b \"lr 1e-3 beats 3e-3 here\""})
final class RunsCommand extends SqueezeSubcommand implements Callable<Integer> {
    @Mixin
    WorkspaceOptions workspace;

    @Option(names = "--model", paramLabel = "NAME", description = "Only runs of this model.")
    String model;
    @Option(names = "--dataset", paramLabel = "NAME", description = "Only runs on this dataset.")
    String dataset;
    @Option(names = "--stage", paramLabel = "STAGE", description = "Only runs of this stage (train, distill, prune, ...).")
    String stage;
    @Option(names = "--sweep", paramLabel = "ID", description = "Only the trials of this sweep ('squeeze sweep' prints its id).")
    String sweep;
    @Option(names = "--by", paramLabel = "NAME", description = "Only runs by this experimenter ($SQUEEZE_USER or --by when recorded).")
    String by;
    @Option(names = "--sort", paramLabel = "COLUMN",
            description = "Sort by this column, highest first for numbers (e.g. test_acc, val_acc, started_at).")
    String sort;
    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;
    @Option(names = "--rebuild", description = "Restore the ledger from the copies of its rows in the run folders "
            + "(under --output): adds the runs it lacks; an unreadable ledger file is first renamed aside.")
    boolean rebuild;

    @Override
    public Integer call() {
        Workspace where = workspace.resolve(env());
        if (rebuild) {
            RunLedger.Rebuilt rebuilt = RunLedger.rebuild(where.ledgerLocation(), where.runsRoot());
            if (rebuilt.movedAside() != null) err().println("moved the unreadable ledger aside to " + rebuilt.movedAside());
            err().println("rebuilt ledger " + where.ledgerLocation() + " from the run folders in " + where.runsRoot()
                    + ": " + rebuilt.restored() + " runs restored, " + rebuilt.alreadyThere() + " already there");
            err().flush();
        }
        RunQuery query = RunQuery.all().withModel(model).withDataset(dataset).withStage(stage)
                .withSweepId(sweep).withRunBy(by);
        if (sort != null) query = query.sortedBy(sort, true);
        try (RunLedger ledger = RunLedger.openForListing(where.ledgerLocation())) {
            var runs = ledger.query(query);
            print(json ? RunTable.json(runs) : RunTable.text(runs));
        }
        return ExitCodes.OK;
    }

    @Command(name = "note", mixinStandardHelpOptions = true, description = "Add a note to a run (appended to its notes).")
    static final class Note implements Callable<Integer> {
        @ParentCommand
        RunsCommand runs;
        @Spec
        CommandSpec spec;
        @Mixin
        VerboseOption verbose;

        @Parameters(index = "0", paramLabel = "ID", description = "Run id, or a unique prefix of it.")
        String id;
        @Parameters(index = "1", paramLabel = "TEXT", description = "The note.")
        String text;

        @Override
        public Integer call() {
            try (RunLedger ledger = RunLedger.open(runs.workspace.resolve(runs.root.env()).ledgerLocation())) {
                ledger.addNote(id, text);
                spec.commandLine().getErr().println("noted on run " + ledger.get(id).orElseThrow().id());
            }
            return ExitCodes.OK;
        }
    }
}
