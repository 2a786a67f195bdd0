package dev.squeeze.compress.train;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingWatchTest {

    private static EpochMetrics epoch(int e, double trainLoss, double trainAcc, double valAcc) {
        return new EpochMetrics(e, trainLoss, trainAcc, 0.5, valAcc, 1, 1000, false);
    }

    private static List<String> watch(List<EpochMetrics> history) {
        TrainingWatch watch = new TrainingWatch();
        List<String> said = new ArrayList<>();
        for (int i = 1; i <= history.size(); i++) said.addAll(watch.inspect(history.subList(0, i)));
        return said;
    }

    @Test
    void healthyTrainingSaysNothing() {
        assertEquals(List.of(), watch(List.of(epoch(1, 0.9, 0.70, 0.68), epoch(2, 0.6, 0.80, 0.77),
                epoch(3, 0.45, 0.85, 0.82), epoch(4, 0.38, 0.87, 0.84), epoch(5, 0.33, 0.88, 0.85))));
    }

    @Test
    void aStalledLossIsSaidOnceWithTheEpochItStalledFrom() {
        List<String> said = watch(List.of(epoch(1, 2.302, 0.10, 0.10), epoch(2, 2.301, 0.10, 0.10),
                epoch(3, 2.301, 0.11, 0.10), epoch(4, 2.300, 0.10, 0.10), epoch(5, 2.300, 0.10, 0.10)));
        assertEquals(1, said.size(), said.toString());
        assertTrue(said.get(0).contains("stalled at 2.3000 for 3 epochs (2.3020 at epoch 1)"), said.get(0));
    }

    @Test
    void validationFallingWhileTrainingRisesIsOverfittingFromThePeak() {
        List<String> said = watch(List.of(epoch(1, 0.5, 0.85, 0.84), epoch(2, 0.3, 0.90, 0.88),
                epoch(3, 0.2, 0.93, 0.87), epoch(4, 0.12, 0.96, 0.86)));
        assertEquals(1, said.size(), said.toString());
        assertTrue(said.get(0).contains("fallen since epoch 2 (88.00% -> 86.00%)"), said.get(0));
        assertTrue(said.get(0).contains("overfitting"), said.get(0));
    }

    @Test
    void theRealLoopReportsAStallInItsResult(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
        TrainingData data = Fixtures.fashionMnist();
        // All-zero weights: every hidden unit stays identical and dead, so the loss cannot move.
        var params = TrainParams.of("mlp-tiny", "fashion-mnist", 5, 60, 1e-3, 1, 10, 0.1, 1.0, "zero", null, null, null,
                TrainParams.DEFAULT_TOLERANCE, TrainParams.DEFAULT_REFIT,
                TrainParams.DEFAULT_EXAMPLE_DECAY);
        var messages = new ArrayList<String>();
        TrainingResult result = new Trainer(new TrainingMonitor() {
            @Override
            public void message(String line) {
                messages.add(line);
            }
        }).train(params, data, new dev.squeeze.compress.artifacts.RunPaths(tmp.resolve("run")),
                new dev.squeeze.compress.artifacts.ModelInfo("mlp-tiny", "fashion-mnist", null, data.inputShape(),
                        data.classNames(), data.normalization(), "h", "r", 0, Double.NaN));
        assertTrue(result.warnings().stream().anyMatch(w -> w.contains("stalled")), result.warnings().toString());
        assertEquals(result.warnings(), messages);
    }
}
