package dev.squeeze.cli;

import dev.squeeze.pipeline.recipe.Recipes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        header = "The whole pipeline on Fashion-MNIST, ending with the compressed models served locally.",
        description = {"Runs the built-in recipe (print it with --explain): trains lenet-300-100, checks it with doctor,",
                "distils it into mlp-100, finds a lottery ticket, quantizes every model to int8, exports them all",
                "to ONNX, benchmarks size, latency and accuracy, writes the Pareto report, and serves the models",
                "with the dashboard at http://127.0.0.1:8080/. --quick runs a smaller recipe in about 3 minutes.", ""},
        footer = {"", "Examples:", "  squeeze demo", "  squeeze demo --quick --set serve=false"})
final class DemoCommand extends SqueezeSubcommand implements Callable<Integer> {
    @Mixin
    StageOptions stage;

    @Option(names = "--quick", description = "The quick recipe (a small model, fewer epochs and levels).")
    boolean quick;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a recipe setting, e.g. serve.port=9090.")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--explain", description = "Print the demo's recipe, fully resolved; run nothing.")
    boolean explain;

    @Override
    public Integer call() throws InterruptedException {
        return RecipeCommands.run(this, Recipes.builtIn(quick ? "demo-quick" : "demo", overrides), explain, stage);
    }
}
