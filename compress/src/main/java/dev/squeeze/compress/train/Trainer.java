package dev.squeeze.compress.train;

import dev.squeeze.core.AtomicFiles;
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
import dev.squeeze.models.zoo.Network;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

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
    public static Network newNetwork(TrainParams params, TrainingData data) {
        var settings = new BuildSettings(params.seed(), params.learningRate(), data.inputShape(), data.classNames().size(),
                params.weightInit());
        return ModelZoo.get(params.model()).build(settings);
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

    /**
     * {@link #train(TrainParams, TrainingData, RunPaths, ModelInfo)}, then, when {@code params.refit()} applies to
     * the training split's size, the refit: what {@code squeeze train} runs.
     */
    public TrainingResult trainAndRefit(TrainParams params, TrainingData data, RunPaths paths, ModelInfo info) {
        TrainingResult result = train(params, data, paths, info);
        if (params.refit().appliesTo(data.train().size())) refit(params, data, paths, info, result);
        return result;
    }

    /**
     * Trains a fresh network (same seed, schedule and batches) on the training and validation examples together for
     * the epochs the validation chose, and makes its last weights the run's model, with the rewind snapshots of its
     * own trajectory. Resumable like the first pass: its checkpoints live in {@link RunPaths#refit()}.
     */
    private void refit(TrainParams params, TrainingData data, RunPaths paths, ModelInfo info, TrainingResult chosen) {
        TrainingData all = new TrainingData(data.dataset(), data.classNames(), data.inputShape(), data.columns(),
                data.train().concat(data.validation()), data.validation(), data.test(), data.normalization());
        monitor.message(refitNote(data, chosen));
        RunPaths refit = paths.refit();
        train(params.forRefit(chosen.bestEpoch()), all, refit, info);
        ModelFile.Loaded last = ModelFile.load(refit.resumeCheckpoint(), false);
        // The validation accuracy recorded is the first pass's: the refit trained on the validation examples.
        ModelFile.save(paths.model(), last.network(), info.atEpoch(chosen.bestEpoch(), chosen.bestValidationAccuracy()));
        try (Stream<Path> files = Files.list(refit.dir())) {
            for (Path snapshot : files.filter(f -> f.getFileName().toString().startsWith("rewind-")).toList()) {
                AtomicFiles.copy(snapshot, paths.dir().resolve(snapshot.getFileName()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the refit's rewind snapshots into " + paths.dir() + ": "
                    + e.getMessage(), e);
        }
    }

    /** What the refit does, in words, for the user. */
    private static String refitNote(TrainingData data, TrainingResult chosen) {
        return "refit: a fresh network trained on all " + (data.train().size() + data.validation().size())
                + " examples (training + validation) for the " + chosen.bestEpoch() + " epochs the validation chose "
                + "(" + TrainParams.mention("refit") + "; the validation accuracy is the first pass's)";
    }

    /** As {@link #train(TrainParams, TrainingData, RunPaths, ModelInfo)}, with a stage's {@code hooks}. */
    public TrainingResult train(TrainParams params, TrainingData data, RunPaths paths, ModelInfo info, TrainingHooks hooks) {
        Network net;
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
        BatchSource batches = ShuffledBatches.forTraining(params, data, hooks.softTargets());
        int steps = batches.batchesPerEpoch();
        RewindPoint snapshot = params.snapshot() == null || !hooks.saveSnapshots() ? null : RewindPoint.parse(params.snapshot());
        TrainingWatch watch = new TrainingWatch();
        List<String> warnings = new ArrayList<>();
        for (int i = 1; i <= history.size(); i++) watch.inspect(history.subList(0, i));   // said before the resume
        String stopReason = "reached the epochs limit of " + params.epochs() + " (" + TrainParams.mention("epochs") + ")";
        if (state.epochsSinceBest() >= params.patience()) {
            stopReason = earlyStop(params);
        }

        for (int epoch = state.epochsDone() + 1; epoch <= params.epochs() && state.epochsSinceBest() < params.patience(); epoch++) {
            monitor.epochStarted(epoch, params.epochs(), steps);
            // Set from the epoch, not multiplied in place, so a resumed run uses exactly the same rate.
            net.setLearningRate(params.learningRateAt(epoch, train.size()));
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
                    throw diverged(params, params.learningRateAt(epoch, train.size()), loss, epoch, step + 1, state, paths);
                }
                int size = batch.numExamples();
                lossSum += loss * size;
                seen += size;
                monitor.stepDone(step + 1, loss, seen / seconds(start));
            }
            double seconds = seconds(start);
            Evaluation trainEval = Evaluator.evaluate(net, trainSample, data.classNames());
            Evaluation valEval = Evaluator.evaluate(net, data.validation(), data.classNames());
            boolean best = holds(valEval.accuracy(), highestValidationAccuracy(history), data.validation().size(),
                    params.tolerance());
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
                stopReason = earlyStop(params);
            }
        }
        int bestEpoch = state.bestEpoch();
        EpochMetrics bestMetrics = history.stream().filter(m -> m.epoch() == bestEpoch).findFirst().orElseThrow();
        return new TrainingResult(List.copyOf(history), state.bestEpoch(), state.bestValidationAccuracy(),
                bestMetrics.trainAccuracy(), resumedAfter, stopReason, paths.model(), List.copyOf(warnings));
    }

    /**
     * Whether an epoch with validation accuracy {@code accuracy} counts as holding the best so far ({@code highest},
     * negative infinity before the first epoch): it must fall short of it by less than {@code tolerance} standard
     * errors of an accuracy measured on {@code validationSize} examples. With 0, only a strictly better accuracy counts.
     * A small validation set is noisy: an epoch that merely draws a lucky high would otherwise stop training
     * {@code patience} epochs later and keep weights trained on few steps.
     */
    static boolean holds(double accuracy, double highest, int validationSize, double tolerance) {
        if (highest == Double.NEGATIVE_INFINITY) return true;
        return accuracy > highest - tolerance * standardError(highest, validationSize);
    }

    private static String earlyStop(TrainParams params) {
        if (params.tolerance() == 0) return "early stop: no better validation accuracy for " + params.patience() + " epochs";
        return "early stop: validation accuracy " + fmt(params.tolerance()) + " standard error(s) or more below the best for "
                + params.patience() + " epochs";
    }

    /** The standard error of an accuracy {@code p} measured on {@code n} examples: sqrt(p(1-p)/n). */
    static double standardError(double p, int n) {
        return Math.sqrt(Math.max(0, p * (1 - p)) / n);
    }

    private static double highestValidationAccuracy(List<EpochMetrics> history) {
        double highest = Double.NEGATIVE_INFINITY;
        for (EpochMetrics m : history) highest = Math.max(highest, m.validationAccuracy());
        return highest;
    }

    /** Weights and optimizer state at {@code point}, what pruning rewinds surviving weights to. */
    private static void saveSnapshot(RunPaths paths, RewindPoint point, Network net, ModelInfo info) {
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
                        + "the inputs are unscaled); try a learning rate of %s (%s), or run 'squeeze doctor' to find a stable "
                        + "rate; %s",
                Double.isNaN(loss) ? "NaN" : "infinite", epoch, step, fmt(rate),
                fmt(params.learningRate() / 10), TrainParams.mention("lr"), kept));
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
