package dev.squeeze.cli;

import dev.squeeze.compress.distill.EnsembleService;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "train", modelTransformer = TrainOptions.class, mixinStandardHelpOptions = true, sortOptions = false,
        header = "Train a zoo model, guarded against silent bugs; record the run.",
        description = {"Guards: features and labels are shuffled together, a NaN loss stops training at",
                "once, early stopping keeps the best epoch, every epoch is checkpointed atomically.",
                "The run is named by the hash of its settings: the same command again reuses a",
                "finished run or resumes an interrupted one. Every run is a row in the ledger",
                "('squeeze runs').", ""},
        footer = {"", "Example:", "  squeeze train --model lenet-300-100 --epochs 20 --lr 1e-3"})
final class TrainCommand extends SqueezeSubcommand implements Callable<Integer> {
    @Mixin
    StageOptions stage;

    @Option(names = "--model", required = true, paramLabel = "NAME", description = "Zoo model ('squeeze models' lists them).")
    String model;


    @Option(names = "--ensemble", paramLabel = "N",
            description = "Train N members with seeds S..S+N-1 and record them as one ensemble (a distillation "
                    + "teacher: 'squeeze distill --teacher ENSEMBLE_ID').")
    Integer ensemble;

    @Option(names = "--force", description = "Train again even if this exact configuration has already finished.")
    boolean force;

    @Override
    public Integer call() {
        TrainParams params = TrainOptions.params(spec, model);
        var err = err();
        try (var monitor = new ConsoleTrainingMonitor(err, CommandContext.progressBarStream(env()))) {
            if (ensemble != null) {
                var trained = new EnsembleService(stage.workspace(env()), CommandContext.datasetLocator(env(), err),
                        monitor).train(params, ensemble, stage.dataDir());
                for (TrainOutcome member : trained.members()) {
                    print(String.format(java.util.Locale.ROOT, "member    %s  seed %d  test %.2f%%%n", member.run().id(),
                            params.seed() + trained.members().indexOf(member), 100 * member.run().testAcc()));
                }
                print(String.format(java.util.Locale.ROOT, "ensemble  %s  test %.2f%% (averaged logits); use it as "
                        + "'squeeze distill --teacher %s'%n", trained.run().id(), 100 * trained.run().testAcc(), trained.run().id()));
                return ExitCodes.OK;
            }
            var service = new TrainingService(stage.workspace(env()),
                    CommandContext.datasetLocator(env(), err), monitor);
            TrainOutcome outcome = service.train(params, stage.dataDir(), force);
            print(outcome.format());
        }
        return ExitCodes.OK;
    }
}
