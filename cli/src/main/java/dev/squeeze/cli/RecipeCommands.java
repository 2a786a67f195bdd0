package dev.squeeze.cli;

import dev.squeeze.cli.recipe.Recipe;
import dev.squeeze.cli.recipe.RecipePrinter;
import dev.squeeze.cli.recipe.RecipeRunner;
import dev.squeeze.cli.recipe.Recipes;
import dev.squeeze.serve.http.SqueezeServer;

import java.nio.file.Path;
import java.util.Map;

/** What {@code run} and {@code demo} share: explain or run a recipe, print the table, then serve when it says so. */
final class RecipeCommands {
    private RecipeCommands() {
    }

    static int run(SqueezeSubcommand command, Recipe recipe, boolean explain, Path dataDir, WorkspaceOptions workspace,
                   ExperimenterOption by)
            throws InterruptedException {
        if (explain) {
            command.print("# recipe hash " + Recipes.hash(recipe) + System.lineSeparator() + RecipePrinter.yaml(recipe));
            return ExitCodes.OK;
        }
        var err = command.err();
        RecipeRunner.Outcome outcome;
        try (var monitor = new ConsoleTrainingMonitor(err, CommandContext.progressBarStream(command.env()))) {
            outcome = new RecipeRunner(by.applyTo(workspace.resolve(command.env())), CommandContext.datasetLocator(command.env(), err), monitor)
                    .run(recipe, dataDir);
        }
        command.print(outcome.format());
        if (recipe.serve().enabled() && recipe.export().enabled()) {
            io.micronaut.runtime.server.EmbeddedServer server;
            try {
                server = SqueezeServer.start(Map.of("squeeze.serve.models", outcome.models().toAbsolutePath().toString(),
                        "micronaut.server.port", recipe.serve().port() == 0 ? -1 : recipe.serve().port(),
                        "micronaut.server.host", recipe.serve().host()));
            } catch (dev.squeeze.serve.http.PortInUseException e) {
                throw new dev.squeeze.models.core.BadInputException(e.getMessage() + ": stop what is listening there, or pick "
                        + "another port with --set serve.port=N (0 picks a free one); the models are in " + outcome.models(), e);
            }
            command.print("serving " + outcome.models() + " at " + server.getURL() + " (dashboard: " + server.getURL()
                    + "/; Ctrl-C to stop)" + System.lineSeparator());
            if (recipe.bench().enabled()) {
                // The dashboard's numbers come from the server's own benchmark of what it serves.
                var b = recipe.bench();
                server.getApplicationContext().getBean(dev.squeeze.serve.http.ModelServing.class).benchmarks().submit(
                        java.util.List.of(), dev.squeeze.serve.bench.BenchmarkOptions.DEFAULTS
                                .withWarmup(java.time.Duration.ofMillis(b.warmupMs()))
                                .withWindow(java.time.Duration.ofMillis(b.windowMs())).withMaxWindows(b.maxWindows()));
            }
            while (server.isRunning()) Thread.sleep(500);
        }
        return ExitCodes.OK;
    }
}
