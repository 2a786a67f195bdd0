package dev.squeeze.cli;

import dev.squeeze.models.zoo.ModelZoo;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

@Command(name = "models", mixinStandardHelpOptions = true, description = "List the model zoo: the names --model accepts.")
final class ModelsCommand extends SqueezeSubcommand implements Callable<Integer> {

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        ModelZoo.all().forEach((name, model) -> out.printf("%-16s %s%n", name, model.description()));
        return ExitCodes.OK;
    }
}
