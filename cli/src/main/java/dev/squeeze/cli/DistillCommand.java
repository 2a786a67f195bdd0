package dev.squeeze.cli;

import dev.squeeze.compress.distill.DistillOutcome;
import dev.squeeze.compress.distill.DistillService;
import dev.squeeze.compress.train.TrainParams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "distill", modelTransformer = DistillOptions.class, mixinStandardHelpOptions = true, sortOptions = false,
        header = "Distil a teacher (or several, averaged) into a smaller student.",
        description = {"Trains --student on alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE(labels, student),",
                "the teachers' logits averaged (an ensemble when --teacher is repeated) and computed once. Beside it,",
                "the same student on hard labels alone, same budget and seed (reused when the ledger holds it), so",
                "the gain is always visible. --temperature auto tries " + "2, 4 and 8 and keeps the best on validation.",
                "An ONNX teacher (a Squeeze export, or any model whose one input takes the dataset's raw features",
                "and whose output 'logits', else its first, is [N, classes]) runs in ONNX Runtime; its file's",
                "SHA-256 names the run.", ""},
        footer = {"", "Examples:", "  squeeze distill --teacher 3f2a9c1b --student mlp-100 --epochs 15",
                "  squeeze distill --teacher a1 --teacher b2 --teacher c3 --student mlp-100 --temperature auto",
                "  squeeze distill --teacher teacher.onnx --student mlp-100 --dataset fashion-mnist"})
final class DistillCommand extends SqueezeSubcommand implements Callable<Integer> {
    @Mixin
    StageOptions stage;

    @Option(names = "--teacher", required = true, paramLabel = "RUN|FILE",
            description = "A trained run id (or prefix), a model file, or an ONNX file that takes the dataset's raw "
                    + "features (recognised by its content; run in ONNX Runtime); repeat for an ensemble.")
    List<String> teachers;

    @Option(names = "--student", required = true, paramLabel = "NAME", description = "Zoo model to train as the student.")
    String student;

    @Option(names = "--student-from", paramLabel = "FILE",
            description = "Start the student from this model file (of the student's architecture) instead of a fresh init.")
    java.nio.file.Path studentFrom;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Override
    public Integer call() {
        TrainParams studentParams = TrainOptions.params(spec, student);
        List<Double> temperatures = DistillOptions.temperatures(spec);
        double alpha = DistillOptions.alpha(spec);
        var err = err();
        try (var monitor = new ConsoleTrainingMonitor(err, CommandContext.progressBarStream(env()))) {
            DistillOutcome outcome = new DistillService(stage.workspace(env()), CommandContext.datasetLocator(env(), err),
                    monitor).distill(teachers, studentParams, temperatures, alpha, studentFrom, stage.dataDir());
            print(json ? outcome.json() + System.lineSeparator() : outcome.format());
        }
        return ExitCodes.OK;
    }
}
