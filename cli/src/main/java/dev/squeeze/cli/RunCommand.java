package dev.squeeze.cli;

import dev.squeeze.pipeline.recipe.RecipeParser;
import dev.squeeze.pipeline.recipe.Recipes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Run the pipeline a YAML recipe declares: train, doctor, distill, prune, quantize, shrink, export, bench, "
                + "serve.",
        description = {"Each stage goes through the same service as its single command and is a ledger row linked to",
                "its parent; the exported models, the benchmark and the report page go into the recipe's folder,",
                "recipe2-<hash> (the hash of the keys that differ from their defaults). Finished stages are reused:",
                "running the same recipe again, or after a kill, continues where it stopped. --explain prints the fully",
                "resolved recipe (every default filled in) without running it. docs/recipes.md, 'Recipe reference', lists every key.", ""},
        footer = {"", "Examples:", "  squeeze run recipe.yaml --explain", "  squeeze run recipe.yaml --set prune.levels=5 --set serve=false"})
final class RunCommand extends SqueezeSubcommand implements Callable<Integer> {
    @Mixin
    StageOptions stage;

    @Parameters(index = "0", paramLabel = "RECIPE", description = "The recipe file (YAML), or a built-in: demo, demo-quick.")
    Path recipe;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a recipe setting, e.g. prune.levels=5 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--explain", description = "Print the fully resolved recipe and its hash; run nothing.")
    boolean explain;

    @Override
    public Integer call() throws InterruptedException {
        String name = recipe.toString();
        var parsed = !java.nio.file.Files.exists(recipe) && Recipes.BUILT_IN.contains(name)
                ? Recipes.builtIn(name, overrides) : RecipeParser.parse(recipe, overrides);
        return RecipeCommands.run(this, parsed, explain, stage);
    }
}
