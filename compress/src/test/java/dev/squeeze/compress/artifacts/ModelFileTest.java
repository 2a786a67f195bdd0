package dev.squeeze.compress.artifacts;

import dev.squeeze.models.zoo.Network;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.Trainer;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.core.BadInputException;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelFileTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsWeightsAndMetadata() {
        TrainingData data = Fixtures.fashionMnist();
        MultiLayerNetwork net = Trainer.newNetwork(TrainParams.of("mlp-tiny"), data).asStack();
        ModelInfo info = new ModelInfo("mlp-tiny", "fashion-mnist", null, data.inputShape(), data.classNames(),
                data.normalization(), "abc", "run1", 4, 0.75);
        Path file = dir.resolve("model.zip");
        ModelFile.save(file, Network.of(net), info, true, "{\"k\":1}");

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
        MultiLayerNetwork net = Trainer.newNetwork(TrainParams.of("mlp-tiny"), data).asStack();
        Path file = dir.resolve("model.zip");
        ModelFile.save(file, Network.of(net), new ModelInfo("mlp-tiny", "fashion-mnist", null, data.inputShape(), data.classNames(),
                data.normalization(), "abc", "run1", 1, 0.5));
        byte[] whole = Files.readAllBytes(file);
        Path cut = Files.write(dir.resolve("cut.zip"), Arrays.copyOf(whole, whole.length / 2));
        var e = assertThrows(BadInputException.class, () -> ModelFile.load(cut, false));
        assertTrue(e.getMessage().startsWith(cut.toString()) || e.getMessage().contains(cut.toString()), e.getMessage());
    }

    @Test
    void aZipWithAnEntryThatEscapesItsFolderIsRefusedAsSuchNotAsNoZip() throws IOException {
        TrainingData data = Fixtures.fashionMnist();
        Path file = dir.resolve("model.zip");
        ModelFile.save(file, Trainer.newNetwork(TrainParams.of("mlp-tiny"), data), new ModelInfo("mlp-tiny",
                "fashion-mnist", null, data.inputShape(), data.classNames(), data.normalization(), "abc", "run1", 1, 0.5));
        // A whole, valid squeeze model file with one more entry that points outside the folder it unpacks into.
        Path slip = dir.resolve("slip.zip");
        try (ZipFile source = new ZipFile(file.toFile());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(slip))) {
            for (ZipEntry entry : java.util.Collections.list(source.entries())) {
                out.putNextEntry(new ZipEntry(entry.getName()));
                source.getInputStream(entry).transferTo(out);
            }
            out.putNextEntry(new ZipEntry("../../escape.sh"));
            out.write("echo pwned".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        var e = assertThrows(BadInputException.class, () -> ModelFile.load(slip, false));
        assertTrue(e.getMessage().contains("'../../escape.sh'") && e.getMessage().contains("escapes its folder")
                && e.getMessage().contains("refuse"), e.getMessage());
        assertFalse(e.getMessage().contains("not a zip"), e.getMessage());
        assertFalse(Files.exists(dir.getParent().getParent().resolve("escape.sh")));
    }

    @Test
    void aFolderGivenAsTheModelFileIsCalledAFolderNotMissing() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("models"));
        var e = assertThrows(BadInputException.class, () -> ModelFile.load(empty, false));
        assertTrue(e.getMessage().contains(empty + " is a folder, not a model file"), e.getMessage());
        assertFalse(e.getMessage().contains("does not exist"), e.getMessage());

        // A run folder: the message names the model file inside it.
        Path run = Files.createDirectories(dir.resolve("train-0123456789ab"));
        Files.writeString(run.resolve("model.zip"), "stands for a model");
        var inRun = assertThrows(BadInputException.class, () -> ModelFile.load(run, false));
        assertTrue(inRun.getMessage().contains(run.resolve("model.zip").toString()), inRun.getMessage());

        var int8 = assertThrows(BadInputException.class, () -> dev.squeeze.compress.quant.QuantizedModelFile.load(empty));
        assertTrue(int8.getMessage().contains("is a folder, not a model file"), int8.getMessage());
    }
}
