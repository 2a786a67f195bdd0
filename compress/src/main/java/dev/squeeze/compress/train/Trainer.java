package dev.squeeze.compress.train;

import dev.squeeze.models.core.AtomicFiles;
import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.artifacts.RewindPoint;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.eval.Evaluation;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.zoo.BuildSettings;
import dev.squeeze.models.zoo.ModelZoo;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The guarded training loop: an explicit {@code fit(DataSet)} per mini-batch (DL4J's list iterator
 * merges pre-made batches), a fresh seeded permutation each epoch that moves features and labels
 * together, a stop on the first non-finite loss, early stopping on validation accuracy, and an atomic
 * checkpoint every epoch.
 */
public final class Trainer {
    /** Train accuracy is measured on at most this many training examples after each epoch. */
    static final int TRAIN_ACCURACY_SAMPLE = 10_000;

    private final TrainingMonitor monitor;

    public Trainer(TrainingMonitor monitor) {
        this.monitor = monitor;
    }

    /** A freshly initialised network for {@code params}, seeded, for {@code data}'s input shape and classes. */
    public static MultiLayerNetwork newNetwork(TrainParams params, TrainingData data) {
        var settings = new BuildSettings(params.seed(), params.learningRate(), data.inputShape(), data.classNames().size(),
                params.weightInit());
        MultiLayerNetwork net = new MultiLayerNetwork(ModelZoo.get(params.model()).configuration(settings));
        net.init();
        return net;
    }

    /**
     * Trains {@code params.model()} on {@code data}, writing checkpoints under {@code paths}. Resumes from
     * the resume checkpoint when one is there.
     *
     * @param info metadata every checkpoint carries (its epoch and accuracy are filled in here)
     */
    public TrainingResult train(TrainParams params, TrainingData data, RunPaths paths, ModelInfo info) {
        return train(params, data, paths, info, TrainingHooks.plain(params, data));
    }

    /** As {@link #train(TrainParams, TrainingData, RunPaths, ModelInfo)}, with a stage's {@code hooks}. */
    public TrainingResult train(TrainParams params, TrainingData data, RunPaths paths, ModelInfo info, TrainingHooks hooks) {
        MultiLayerNetwork net;
        TrainingState state;
        Optional<ModelFile.Loaded> resume = loadResumeCheckpoint(paths);
        if (resume.isPresent()) {
            net = resume.get().network();
            hooks.afterStep().accept(net);
            state = readState(resume.get().stateJson().orElseThrow());
            monitor.message("resuming " + paths.dir().getFileName() + " after epoch " + state.epochsDone()
                    + " (best val acc " + percent(state.bestValidationAccuracy()) + " at epoch " + state.bestEpoch() + ")");
        } else {
            net = hooks.start().get();
            state = new TrainingState(0, 0, Double.NEGATIVE_INFINITY, 0, List.of());
            if (hooks.saveSnapshots()) saveSnapshot(paths, RewindPoint.INIT, net, info);
        }
        int resumedAfter = state.epochsDone();
        List<EpochMetrics> history = new ArrayList<>(state.history());
        LabeledData train = data.train();
        LabeledData trainSample = train.head(TRAIN_ACCURACY_SAMPLE);
        BatchSource batches = new ShuffledBatches(train, params.batch(), params.seed(), hooks.softTargets());
        int steps = batches.batchesPerEpoch();
        RewindPoint snapshot = params.snapshot() == null || !hooks.saveSnapshots() ? null : RewindPoint.parse(params.snapshot());
        TrainingWatch watch = new TrainingWatch();
        List<String> warnings = new ArrayList<>();
        for (int i = 1; i <= history.size(); i++) watch.inspect(history.subList(0, i));   // said before the resume
        String stopReason = "reached the --epochs limit of " + params.epochs();
        if (state.epochsSinceBest() >= params.patience()) {
            stopReason = "early stop: no better validation accuracy for " + params.patience() + " epochs";
        }

        for (int epoch = state.epochsDone() + 1; epoch <= params.epochs() && state.epochsSinceBest() < params.patience(); epoch++) {
            monitor.epochStarted(epoch, params.epochs(), steps);
            // Set from the epoch, not multiplied in place, so a resumed run uses exactly the same rate.
            net.setLearningRate(params.learningRateAt(epoch));
            long start = System.nanoTime();
            double lossSum = 0;
            int seen = 0;
            for (int step = 0; step < steps; step++) {
                DataSet batch = batches.batch(epoch, step);
                net.fit(batch);
                hooks.afterStep().accept(net);
                if (snapshot != null && (long) (epoch - 1) * steps + step + 1 == snapshot.iteration(steps)) {
                    saveSnapshot(paths, snapshot, net, info);
                }
                double loss = net.score();
                if (!Double.isFinite(loss)) {
                    throw diverged(params, params.learningRateAt(epoch), loss, epoch, step + 1, state, paths);
                }
                int size = batch.numExamples();
                lossSum += loss * size;
                seen += size;
                monitor.stepDone(step + 1, loss, seen / seconds(start));
            }
            double seconds = seconds(start);
            Evaluation trainEval = Evaluator.evaluate(net, trainSample, data.classNames());
            Evaluation valEval = Evaluator.evaluate(net, data.validation(), data.classNames());
            boolean best = valEval.accuracy() > state.bestValidationAccuracy();
            EpochMetrics metrics = new EpochMetrics(epoch, lossSum / seen, trainEval.accuracy(), valEval.loss(),
                    valEval.accuracy(), seconds, seen / seconds, best);
            history.add(metrics);
            if (best) {
                ModelFile.save(paths.model(), net, info.atEpoch(epoch, valEval.accuracy()));
                state = new TrainingState(epoch, epoch, valEval.accuracy(), 0, List.copyOf(history));
            } else {
                state = new TrainingState(epoch, state.bestEpoch(), state.bestValidationAccuracy(),
                        state.epochsSinceBest() + 1, List.copyOf(history));
            }
            // Weights, optimizer state and progress in one atomic file: a resume never pairs one epoch's
            // weights with another epoch's progress.
            ModelFile.save(paths.resumeCheckpoint(), net, info.atEpoch(epoch, valEval.accuracy()), true, Json.write(state));
            writeHistory(paths, history);
            monitor.epochFinished(metrics);
            for (String warning : watch.inspect(history)) {
                warnings.add(warning);
                monitor.message(warning);
            }
            if (state.epochsSinceBest() >= params.patience()) {
                stopReason = "early stop: no better validation accuracy for " + params.patience() + " epochs";
            }
        }
        int bestEpoch = state.bestEpoch();
        EpochMetrics bestMetrics = history.stream().filter(m -> m.epoch() == bestEpoch).findFirst().orElseThrow();
        return new TrainingResult(List.copyOf(history), state.bestEpoch(), state.bestValidationAccuracy(),
                bestMetrics.trainAccuracy(), resumedAfter, stopReason, paths.model(), List.copyOf(warnings));
    }

    /** Weights and optimizer state at {@code point}, what pruning rewinds surviving weights to. */
    private static void saveSnapshot(RunPaths paths, RewindPoint point, MultiLayerNetwork net, ModelInfo info) {
        ModelFile.save(paths.snapshot(point), net, info.atEpoch(0, Double.NaN), true, null);
    }

    private static Optional<ModelFile.Loaded> loadResumeCheckpoint(RunPaths paths) {
        if (!Files.isRegularFile(paths.resumeCheckpoint())) return Optional.empty();
        ModelFile.Loaded loaded = ModelFile.load(paths.resumeCheckpoint(), true);
        return loaded.stateJson().isPresent() ? Optional.of(loaded) : Optional.empty();
    }

    private static TrainingState readState(String json) {
        try {
            return Json.read(json, TrainingState.class);
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable training state in the resume checkpoint: " + e.getMessage(), e);
        }
    }

    private static TrainingDivergedException diverged(TrainParams params, double rate, double loss, int epoch, int step,
                                                      TrainingState state, RunPaths paths) {
        String kept = state.bestEpoch() > 0
                ? "the last good checkpoint (epoch " + state.bestEpoch() + ", val acc "
                  + percent(state.bestValidationAccuracy()) + ") is kept at " + paths.model()
                : "no epoch finished, so there is no checkpoint to keep";
        return new TrainingDivergedException(String.format(Locale.ROOT,
                "loss became %s at epoch %d, step %d (learning rate %s): the learning rate is likely too high (or "
                        + "the inputs are unscaled); try --lr %s, or run 'squeeze doctor' to find a stable rate; %s",
                Double.isNaN(loss) ? "NaN" : "infinite", epoch, step, fmt(rate),
                fmt(params.learningRate() / 10), kept));
    }

    private static void writeHistory(RunPaths paths, List<EpochMetrics> history) {
        StringBuilder csv = new StringBuilder(EpochMetrics.CSV_HEADER).append('\n');
        for (EpochMetrics m : history) csv.append(m.csvRow()).append('\n');
        AtomicFiles.writeString(paths.history(), csv.toString());
    }

    private static double seconds(long startNanos) {
        return Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
    }

    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.3g", v);
    }
}
