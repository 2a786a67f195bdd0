package dev.squeeze.compress.artifacts;

import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.Trainer;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.models.BadInputException;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelFileTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsWeightsAndMetadata() {
        TrainingData data = Fixtures.fashionMnist();
        MultiLayerNetwork net = Trainer.newNetwork(TrainParams.of("mlp-tiny"), data);
        ModelInfo info = new ModelInfo("mlp-tiny", "fashion-mnist", null, data.inputShape(), data.classNames(),
                data.normalization(), "abc", "run1", 4, 0.75);
        Path file = dir.resolve("model.zip");
        ModelFile.save(file, net, info, true, "{\"k\":1}");

        ModelFile.Loaded loaded = ModelFile.load(file, true);
        assertEquals(net.params(), loaded.network().params());
        assertEquals(info.normalization(), loaded.info().normalization());
        assertArrayEquals(info.inputShape(), loaded.info().inputShape());
        assertEquals(info.classNames(), loaded.info().classNames());
        assertEquals("{\"k\":1}", loaded.stateJson().orElseThrow());
    }

    @Test
    void refusesFilesThatAreNotModelsWithOneLine() throws IOException {
        Path text = Files.writeString(dir.resolve("notes.zip"), "not a zip");
        var e = assertThrows(BadInputException.class, () -> ModelFile.load(text, false));
        assertTrue(e.getMessage().contains("not a squeeze model file"), e.getMessage());

        var missing = assertThrows(BadInputException.class, () -> ModelFile.load(dir.resolve("nope.zip"), false));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    }

    @Test
    void refusesATruncatedModelFile() throws IOException {
        TrainingData data = Fixtures.fashionMnist();
        MultiLayerNetwork net = Trainer.newNetwork(TrainParams.of("mlp-tiny"), data);
        Path file = dir.resolve("model.zip");
        ModelFile.save(file, net, new ModelInfo("mlp-tiny", "fashion-mnist", null, data.inputShape(), data.classNames(),
                data.normalization(), "abc", "run1", 1, 0.5));
        byte[] whole = Files.readAllBytes(file);
        Path cut = Files.write(dir.resolve("cut.zip"), Arrays.copyOf(whole, whole.length / 2));
        var e = assertThrows(BadInputException.class, () -> ModelFile.load(cut, false));
        assertTrue(e.getMessage().startsWith(cut.toString()) || e.getMessage().contains(cut.toString()), e.getMessage());
    }
}
