package dev.squeeze.compress.train;

import dev.squeeze.compress.eval.Evaluation;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.saved.EvaluationService;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.ImageFolderWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Training on an image folder written here, as PNG files, from the committed Fashion-MNIST fixture: the same pixels,
 * labels and order as the IDX files, so the same run gets the same accuracy; and the model file finds the folder
 * again for {@code eval}.
 */
class ImageFolderTrainingTest {
    @TempDir
    Path tmp;

    private TrainingService service(String runs, List<String> messages) {
        TrainingMonitor monitor = new TrainingMonitor() {
            @Override
            public void message(String line) {
                messages.add(line);
            }
        };
        return new TrainingService(new Workspace(tmp.resolve(runs), tmp.resolve(runs + "/ledger.db").toString()),
                new DatasetLocator(null, null, null), monitor);
    }

    private static TrainParams tiny(String dataset) {
        return TrainParams.of("mlp-tiny", dataset, 2, 60, 1e-3, 11, 3, 0.1, 0.8);
    }

    @Test
    void aFolderOfThePngsOfTheIdxFixtureTrainsToTheSameAccuracyAndEvalFindsItAgain() {
        Path folder = tmp.resolve("fashion-folder");
        ImageFolderWriter.write(DatasetLoader.load("fashion-mnist", Fixtures.fashionMnistDir()), folder);

        TrainOutcome idx = service("idx", new ArrayList<>()).train(tiny("fashion-mnist"), Fixtures.fashionMnistDir(), false);
        List<String> messages = new ArrayList<>();
        TrainOutcome png = service("png", messages).train(tiny(folder.toString()), null, false);

        assertEquals("fashion-folder", png.run().dataset());
        assertEquals(idx.run().valAcc(), png.run().valAcc(), 0.0, "the same examples, normalised alike");
        assertEquals(idx.run().testAcc(), png.run().testAcc(), 0.0);
        assertTrue(messages.stream().anyMatch(m -> m.contains("1800 train / 200 validation / 500 test")), messages.toString());

        Evaluation again = new EvaluationService(new DatasetLocator(null, null, null))
                .evaluateTestSet(png.paths().model(), null, null);
        assertEquals(png.run().testAcc(), again.accuracy(), 1e-9, "eval reads the folder the model file names");
        assertEquals(500, again.examples());
    }

    @Test
    void augmentingATableIsRefusedBeforeTraining() {
        Path penguins = Path.of(System.getProperty("squeeze.fixtures"), "penguins", "penguins.csv");
        TrainParams table = TrainParams.of("mlp-tabular", penguins.toString(), 1, 16, 1e-2, 1, 3, 0.1, 0.8);
        TrainParams params = TrainParams.SETTINGS.with(TrainParams.SETTINGS.with(table, "label", "species"), "augment",
                List.of("flip"));
        BadInputException e = assertThrows(BadInputException.class,
                () -> service("table", new ArrayList<>()).train(params, null, false));
        assertTrue(e.getMessage().contains("--augment flips and shifts images; penguins.csv is a table"), e.getMessage());
    }
}
