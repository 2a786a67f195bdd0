package dev.squeeze.cli;

import dev.squeeze.pipeline.bench.BenchService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Write the size/speed/accuracy page: Pareto plots and table of every benchmarked model.",
        description = {"Reads the latest 'squeeze bench' result of each model from the ledger and writes index.html",
                "(readable offline: inline SVG plots of accuracy against file size and against latency, the",
                "Pareto frontier marked, and the table), the two SVGs and points.json into the --report folder.", ""},
        footer = {"", "Example:", "  squeeze bench --models served/ && squeeze report --output report/"})
final class ReportCommand extends SqueezeSubcommand implements Callable<Integer> {
    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Folder to write the page into.")
    Path output;

    @Option(names = "--ledger", paramLabel = "PATH|URL",
            description = "Run ledger (default: $SQUEEZE_LEDGER, else ledger.db in $SQUEEZE_HOME or ./squeeze-runs).")
    String ledger;

    @Override
    public Integer call() {
        var workspace = dev.squeeze.compress.runs.Workspace.fromEnvironment(env()).with(null, ledger);
        int points = new BenchService(workspace, null, dev.squeeze.compress.train.TrainingMonitor.SILENT).report(output);
        print("wrote " + output.resolve("index.html") + " (" + points + " models)" + System.lineSeparator());
        return ExitCodes.OK;
    }
}
