package dev.squeeze.compress.train;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
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
        return new TrainParams("mlp-tiny", "fashion-mnist", epochs, 60, 1e-3, seed, 3, 0.1, 0.8);
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

    @Test
    void stopsEarlyWhenValidationStopsImproving() {
        var params = new TrainParams("mlp-tiny", "fashion-mnist", 60, 60, 3e-3, 3, 1, 0.1, 0.8);
        TrainingResult result = train(params, "early", TrainingMonitor.SILENT);
        assertTrue(result.history().size() < 60, "patience 1 stops long before 60 epochs");
        assertTrue(result.stopReason().startsWith("early stop"), result.stopReason());
        EpochMetrics last = result.history().get(result.history().size() - 1);
        assertFalse(last.best());
        double bestSeen = result.history().stream().mapToDouble(EpochMetrics::validationAccuracy).max().orElseThrow();
        assertEquals(bestSeen, result.bestValidationAccuracy(), 0.0);
    }

    @Test
    void nonFiniteLossStopsAtOnceNamingTheLearningRate() {
        var params = new TrainParams("mlp-tiny", "fashion-mnist", 3, 60, 1e30, 1, 3, 0.1, 0.8);
        var e = assertThrows(TrainingDivergedException.class, () -> train(params, "nan", TrainingMonitor.SILENT));
        assertTrue(e.getMessage().contains("learning rate is likely too high"), e.getMessage());
        assertTrue(e.getMessage().contains("try --lr 1.00e+29"), e.getMessage());
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
        MultiLayerNetwork a = Trainer.newNetwork(tiny(1, 3), data);
        MultiLayerNetwork b = Trainer.newNetwork(tiny(1, 3), data);
        assertEquals(a.params(), b.params());
    }
}
