package dev.squeeze.compress.train;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.artifacts.RewindPoint;
import dev.squeeze.compress.artifacts.RunPaths;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real training loop on real (fixture) Fashion-MNIST with the tiny zoo MLP. */
class TrainerTest {
    private static TrainingData data;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        data = Fixtures.fashionMnist();
    }

    private static TrainParams tiny(int epochs, long seed) {
        return TrainParams.of("mlp-tiny", "fashion-mnist", epochs, 60, 1e-3, seed, 3, 0.1, 0.8);
    }

    private static ModelInfo info() {
        return new ModelInfo("mlp-tiny", "fashion-mnist", null, data.inputShape(), data.classNames(), data.normalization(),
                "test", "test", 0, Double.NaN);
    }

    private TrainingResult train(TrainParams params, String folder, TrainingMonitor monitor) {
        return new Trainer(monitor).train(params, data, new RunPaths(tmp.resolve(folder)), info());
    }

    private static float[] weights(Path modelFile) {
        return ModelFile.load(modelFile, false).network().params().toFloatVector();
    }

    @Test
    void sameSeedGivesIdenticalWeightsAndAccuracy() {
        TrainingResult a = train(tiny(2, 7), "a", TrainingMonitor.SILENT);
        TrainingResult b = train(tiny(2, 7), "b", TrainingMonitor.SILENT);
        assertArrayEquals(weights(a.model()), weights(b.model()));
        assertEquals(a.history(), b.history().stream().map(m -> withSeconds(m, a.history().get(m.epoch() - 1))).toList());

        TrainingResult c = train(tiny(2, 8), "c", TrainingMonitor.SILENT);
        assertFalse(java.util.Arrays.equals(weights(a.model()), weights(c.model())), "another seed, other weights");
    }

    /** Timing differs between runs; everything else must not. */
    private static EpochMetrics withSeconds(EpochMetrics m, EpochMetrics timingFrom) {
        return new EpochMetrics(m.epoch(), m.trainLoss(), m.trainAccuracy(), m.validationLoss(), m.validationAccuracy(),
                timingFrom.seconds(), timingFrom.samplesPerSecond(), m.best());
    }

    @Test
    void learnsAndKeepsTheBestCheckpointWithHistory() throws Exception {
        TrainingResult result = train(tiny(3, 1), "run", TrainingMonitor.SILENT);
        assertEquals(3, result.history().size());
        assertTrue(result.bestValidationAccuracy() > 0.6, "a tiny MLP beats 60% on Fashion-MNIST in 3 epochs: "
                + result.bestValidationAccuracy());
        ModelFile.Loaded best = ModelFile.load(result.model(), false);
        assertEquals(result.bestEpoch(), best.info().epoch());
        assertEquals(result.bestValidationAccuracy(), best.info().validationAccuracy(), 0.0);
        List<String> csv = Files.readAllLines(new RunPaths(tmp.resolve("run")).history());
        assertEquals(EpochMetrics.CSV_HEADER, csv.get(0));
        assertEquals(4, csv.size());
    }

    /** Strict early stopping, the rule before issue 17: only a better validation accuracy counts. */
    @Test
    void stopsEarlyWhenValidationStopsImproving() {
        var params = TrainParams.of("mlp-tiny", "fashion-mnist", 60, 60, 3e-3, 3, 1, 0.1, 0.8, null, null, null, null,
                0, Refit.NEVER, 1);
        TrainingResult result = train(params, "early", TrainingMonitor.SILENT);
        assertTrue(result.history().size() < 60, "patience 1 stops long before 60 epochs");
        assertTrue(result.stopReason().startsWith("early stop"), result.stopReason());
        EpochMetrics last = result.history().get(result.history().size() - 1);
        assertFalse(last.best());
        double bestSeen = result.history().stream().mapToDouble(EpochMetrics::validationAccuracy).max().orElseThrow();
        assertEquals(bestSeen, result.bestValidationAccuracy(), 0.0);
    }

    @Test
    void anEpochHoldsWhenItFallsShortOfTheBestByLessThanTheToleratedStandardErrors() {
        // 200 validation examples at 85%: one standard error is sqrt(0.85 * 0.15 / 200) = 2.52 points.
        assertEquals(0.02525, Trainer.standardError(0.85, 200), 1e-5);
        assertTrue(Trainer.holds(0.83, 0.85, 200, 1), "2 points short, within one standard error");
        assertFalse(Trainer.holds(0.82, 0.85, 200, 1), "3 points short, beyond one standard error");
        assertTrue(Trainer.holds(0.82, 0.85, 200, 2));
        // 6,000 validation examples: the same 2 points are five standard errors.
        assertFalse(Trainer.holds(0.83, 0.85, 6_000, 1));
        // Tolerance 0: only a strictly better accuracy, as before.
        assertFalse(Trainer.holds(0.85, 0.85, 200, 0));
        assertTrue(Trainer.holds(0.851, 0.85, 200, 0));
        assertTrue(Trainer.holds(0.1, Double.NEGATIVE_INFINITY, 200, 0), "the first epoch always holds");
    }

    /**
     * The fixtures' 200 validation examples are noisy: with a tolerance of standard errors an epoch that draws a
     * lower accuracy than a lucky earlier one neither stops training nor loses its weights; the run keeps the latest
     * epoch within the tolerance, not the one that drew the highest number.
     */
    @Test
    void toleranceKeepsTheLatestEpochWithinItAndDoesNotStopOnNoise() {
        var strict = TrainParams.of("mlp-tiny", "fashion-mnist", 12, 60, 3e-3, 3, 1, 0.1, 0.8, null, null, null, null,
                0, Refit.NEVER, 1);
        var tolerant = TrainParams.of("mlp-tiny", "fashion-mnist", 12, 60, 3e-3, 3, 1, 0.1, 0.8, null, null, null, null,
                3, Refit.NEVER, 1);
        TrainingResult stopped = train(strict, "strict", TrainingMonitor.SILENT);
        TrainingResult kept = train(tolerant, "tolerant", TrainingMonitor.SILENT);
        assertTrue(stopped.history().size() < 12, "patience 1 stops the strict run early: " + stopped.history().size());
        assertEquals(12, kept.history().size(), "no epoch falls 3 standard errors (7.5 points) short: " + kept.stopReason());
        assertEquals(12, kept.bestEpoch(), "the last epoch is within the tolerance, so its weights are kept");
        double highest = kept.history().stream().mapToDouble(EpochMetrics::validationAccuracy).max().orElseThrow();
        assertEquals(kept.history().get(11).validationAccuracy(), kept.bestValidationAccuracy(), 0.0);
        assertTrue(kept.bestValidationAccuracy() > highest - 3 * Trainer.standardError(highest, 200));
        assertArrayEquals(weights(new RunPaths(tmp.resolve("tolerant")).resumeCheckpoint()), weights(kept.model()),
                "model.zip holds the last epoch's weights");
    }

    /**
     * Refit: after the first pass chose its epochs on the validation split, a fresh network trains on training and
     * validation examples together for that many epochs, and its last weights are the run's model.
     */
    @Test
    void refitTrainsAFreshNetworkOnTrainingAndValidationForTheChosenEpochs() throws Exception {
        var params = TrainParams.of("mlp-tiny", "fashion-mnist", 3, 60, 1e-3, 4, 3, 0.1, 0.95, null, null, null, null,
                1, Refit.ALWAYS, 1);
        var epochs = new java.util.ArrayList<EpochMetrics>();
        TrainingResult result = new Trainer(new TrainingMonitor() {
            @Override
            public void epochFinished(EpochMetrics metrics) {
                epochs.add(metrics);
            }
        }).trainAndRefit(params, data, new RunPaths(tmp.resolve("refit")), info());
        RunPaths paths = new RunPaths(tmp.resolve("refit"));
        assertEquals(3 + result.bestEpoch(), epochs.size(), "the first pass, then the chosen epochs again");
        assertArrayEquals(weights(paths.refit().resumeCheckpoint()), weights(paths.model()),
                "the run's model is the refit's last epoch");
        assertFalse(java.util.Arrays.equals(weights(paths.resumeCheckpoint()), weights(paths.model())));
        int all = data.train().size() + data.validation().size();
        double perEpoch = epochs.get(3).seconds() * epochs.get(3).samplesPerSecond();
        assertEquals(all, perEpoch, all * 0.01, "the refit's epochs see every training and validation example");
        assertTrue(Files.isRegularFile(paths.dir().resolve("rewind-0.zip")));
        assertArrayEquals(weights(paths.refit().snapshot(RewindPoint.INIT)), weights(paths.snapshot(RewindPoint.INIT)),
                "the run's rewind points are those of the weights it delivers");

        var never = TrainParams.of("mlp-tiny", "fashion-mnist", 3, 60, 1e-3, 4, 3, 0.1, 0.95, null, null, null, null,
                1, Refit.NEVER, 1);
        TrainingResult plain = new Trainer(TrainingMonitor.SILENT).trainAndRefit(never, data, new RunPaths(tmp.resolve("never")), info());
        assertFalse(Files.exists(new RunPaths(tmp.resolve("never")).refit().dir()), "never: no refit");
        assertEquals(result.history(), plain.history().stream().map(m -> withSeconds(m, result.history().get(m.epoch() - 1))).toList(),
                "the first pass is the same either way");
    }

    @Test
    void autoRefitsOnlySmallTrainingSplits() {
        assertTrue(Refit.AUTO.appliesTo(Refit.AUTO_BELOW - 1));
        assertFalse(Refit.AUTO.appliesTo(Refit.AUTO_BELOW));
        assertTrue(Refit.ALWAYS.appliesTo(1_000_000));
        assertFalse(Refit.NEVER.appliesTo(10));
        assertEquals(Refit.AUTO, Refit.parse(" Auto "));
        var e = assertThrows(dev.squeeze.core.BadInputException.class, () -> Refit.parse("sometimes"));
        assertEquals("--refit must be one of auto, always, never, got 'sometimes'", e.getMessage());
    }

    @Test
    void anInterruptedRefitResumesToTheSameWeights() {
        var params = TrainParams.of("mlp-tiny", "fashion-mnist", 2, 60, 1e-3, 6, 3, 0.1, 0.95, null, null, null, null,
                1, Refit.ALWAYS, 1);
        new Trainer(TrainingMonitor.SILENT).trainAndRefit(params, data, new RunPaths(tmp.resolve("whole")), info());
        var interrupt = new TrainingMonitor() {
            int finished;

            @Override
            public void epochFinished(EpochMetrics metrics) {
                if (++finished == 3) throw new IllegalStateException("simulated interrupt in the refit's first epoch");
            }
        };
        RunPaths resumed = new RunPaths(tmp.resolve("resumed"));
        assertThrows(IllegalStateException.class, () -> new Trainer(interrupt).trainAndRefit(params, data, resumed, info()));
        new Trainer(TrainingMonitor.SILENT).trainAndRefit(params, data, resumed, info());
        assertArrayEquals(weights(new RunPaths(tmp.resolve("whole")).model()), weights(resumed.model()));
    }

    @Test
    void nonFiniteLossStopsAtOnceNamingTheLearningRate() {
        var params = TrainParams.of("mlp-tiny", "fashion-mnist", 3, 60, 1e30, 1, 3, 0.1, 0.8);
        var e = assertThrows(TrainingDivergedException.class, () -> train(params, "nan", TrainingMonitor.SILENT));
        assertTrue(e.getMessage().contains("learning rate is likely too high"), e.getMessage());
        assertTrue(e.getMessage().contains("try a learning rate of 1.00e+29 (--lr or train.lr)"), e.getMessage());
        RunPaths paths = new RunPaths(tmp.resolve("nan"));
        assertFalse(Files.exists(paths.model()), "no epoch finished, so no model file");
    }

    @Test
    void anInterruptedRunResumesToTheSameWeightsAsAnUninterruptedOne() throws Exception {
        TrainingResult whole = train(tiny(4, 5), "whole", TrainingMonitor.SILENT);

        var interrupt = new TrainingMonitor() {
            @Override
            public void epochFinished(EpochMetrics metrics) {
                if (metrics.epoch() == 2) throw new IllegalStateException("simulated interrupt");
            }
        };
        assertThrows(IllegalStateException.class, () -> train(tiny(4, 5), "resumed", interrupt));
        var messages = new java.util.ArrayList<String>();
        TrainingResult resumed = train(tiny(4, 5), "resumed", new TrainingMonitor() {
            @Override
            public void message(String line) {
                messages.add(line);
            }
        });
        assertEquals(2, resumed.resumedAfterEpoch());
        assertEquals(4, resumed.history().size());
        assertTrue(messages.get(0).contains("after epoch 2"), messages.toString());
        assertArrayEquals(weights(new RunPaths(tmp.resolve("whole")).resumeCheckpoint()),
                weights(new RunPaths(tmp.resolve("resumed")).resumeCheckpoint()));
        assertEquals(whole.bestValidationAccuracy(), resumed.bestValidationAccuracy(), 0.0);
        try (Stream<Path> files = Files.list(tmp.resolve("resumed"))) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".partial")), "no temporary files left");
        }
    }

    @Test
    void shufflesFeaturesAndLabelsTogether() {
        int[] order = dev.squeeze.models.data.TrainValSplit.permutation(data.train().size(), ShuffledBatches.epochSeed(1, 1));
        var batch = data.train().toDataSet(order, 0, 50);
        for (int i = 0; i < 50; i++) {
            int source = order[i];
            assertEquals(data.train().labels()[source], batch.getLabels().getRow(i).argMax().getInt(0));
            assertEquals(data.train().features()[source * 784 + 400], batch.getFeatures().getFloat(i, 400), 0f);
        }
        assertNotEquals(0, order[0] - 0 + order[1] - 1, "the order is shuffled");
    }

    @Test
    void networkIsSeeded() {
        MultiLayerNetwork a = Trainer.newNetwork(tiny(1, 3), data).asStack();
        MultiLayerNetwork b = Trainer.newNetwork(tiny(1, 3), data).asStack();
        assertEquals(a.params(), b.params());
    }
}
