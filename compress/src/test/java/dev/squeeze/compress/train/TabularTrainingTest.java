package dev.squeeze.compress.train;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.ledger.RunStatus;
import dev.squeeze.models.data.CsvDataset;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.data.FeatureColumn;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A table end to end: mlp-tabular trained on the real Palmer penguins CSV through the train service. */
class TabularTrainingTest {
    @TempDir
    Path tmp;

    private static Path penguins() {
        String root = System.getProperty("squeeze.fixtures");
        if (root == null) throw new IllegalStateException("system property squeeze.fixtures is not set (run through Maven)");
        Path file = Path.of(root, "penguins", "penguins.csv");
        if (!Files.isRegularFile(file)) throw new IllegalStateException("no fixture at " + file);
        return file;
    }

    @Test
    void mlpTabularLearnsPenguinsAndItsModelFileLeavesCategoriesUnscaled() {
        String csv = penguins().toString();
        TrainParams defaults = TrainParams.of("mlp-tabular").withDataset(csv, "species", null).withLearningRate(1e-2);
        // 20 epochs, batch 32 (239 training rows after validation), a slower decay and more patience than
        // for images: a small table gives few steps per epoch.
        TrainParams params = TrainParams.of(defaults.model(), defaults.dataset(), 20, 32, defaults.learningRate(),
                defaults.seed(), 5, defaults.validationFraction(), 0.9, null, defaults.label(), defaults.categorical(), null,
                defaults.tolerance(), defaults.refit(), defaults.exampleDecay());
        var service = new TrainingService(new Workspace(tmp.resolve("runs"), tmp.resolve("runs/ledger.db").toString()),
                new DatasetLocator(null, null, null), TrainingMonitor.SILENT);

        TrainOutcome outcome = service.train(params, null, false);

        assertEquals(RunStatus.DONE, outcome.run().status());
        double testAccuracy = outcome.run().testAcc();
        assertTrue(testAccuracy >= 0.9, "penguins are easy to tell apart; test accuracy " + testAccuracy);

        CsvDataset table = CsvDataset.read(penguins(), new Datasets.TableOptions("species", null));
        ModelInfo info = ModelFile.load(outcome.paths().model(), false).info();
        assertArrayEquals(new long[]{9}, info.inputShape());
        assertEquals(List.of("Adelie", "Chinstrap", "Gentoo"), info.classNames());
        assertEquals(TrainingData.prepare(table, params.validationFraction()).normalization(), info.normalization(),
                "the saved statistics are those of the training split");
        for (int j = 0; j < table.columns().size(); j++) {
            FeatureColumn column = table.columns().get(j);
            assertEquals(column.kind() == FeatureColumn.Kind.NUMERIC, info.normalization().standardizes(j),
                    column.name() + " is " + column.kind());
        }
    }
}
