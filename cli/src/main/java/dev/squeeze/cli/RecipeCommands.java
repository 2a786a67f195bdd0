package dev.squeeze.cli;

import dev.squeeze.pipeline.recipe.Recipe;
import dev.squeeze.pipeline.recipe.RecipePrinter;
import dev.squeeze.pipeline.recipe.RecipeRunner;
import dev.squeeze.pipeline.recipe.Recipes;
import io.micronaut.runtime.server.EmbeddedServer;


/** What {@code run} and {@code demo} share: explain or run a recipe, print the table, then serve when it says so. */
final class RecipeCommands {
    private RecipeCommands() {
    }

    static int run(SqueezeSubcommand command, Recipe recipe, boolean explain, StageOptions stage)
            throws InterruptedException {
        if (explain) {
            command.print("# recipe hash " + Recipes.hash(recipe) + System.lineSeparator() + RecipePrinter.yaml(recipe));
            return ExitCodes.OK;
        }
        var err = command.err();
        RecipeRunner.Outcome outcome;
        try (var monitor = new ConsoleTrainingMonitor(err, CommandContext.progressBarStream(command.env()))) {
            outcome = new RecipeRunner(stage.workspace(command.env()), CommandContext.datasetLocator(command.env(), err), monitor)
                    .run(recipe, stage.dataDir());
        }
        command.print(outcome.format());
        if (recipe.enabled("serve") && recipe.enabled("export")) {
            EmbeddedServer server = RecipeRunner.serve(recipe, outcome);
            command.print("serving " + outcome.models() + " at " + server.getURL() + ServeCommand.grpc(server)
                    + " (dashboard: " + server.getURL() + "/; Ctrl-C to stop)" + System.lineSeparator());
            while (server.isRunning()) Thread.sleep(500);
        }
        return ExitCodes.OK;
    }
}
