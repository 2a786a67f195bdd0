package dev.squeeze.serve.http;

import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.onnx.ExportService;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.quant.QuantizeOutcome;
import dev.squeeze.compress.quant.QuantizeService;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.LabeledData;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Real models for the server tests, built once per JVM: mlp-tiny trained for two epochs on the Fashion-MNIST fixtures,
 * exported as float ONNX ({@code tiny}) and, quantized, as int8 QDQ ({@code tiny-int8}); plus the fixture test images.
 */
public final class ServedModels {
    private static Path exports;

    private ServedModels() {
    }

    public static Path fixtures() {
        return Path.of(System.getProperty("squeeze.fixtures"), "fashion-mnist");
    }

    public static LabeledData testImages() {
        return DatasetLoader.load("fashion-mnist", fixtures()).test();
    }

    /** A folder holding {@code tiny.onnx} and {@code tiny-int8.onnx}. */
    public static synchronized Path exports() {
        if (exports != null) return exports;
        try {
            Path home = Files.createTempDirectory("squeeze-serve-models");
            Workspace ws = new Workspace(home.resolve("runs"), home.resolve("runs/ledger.db").toString());
            DatasetLocator locator = new DatasetLocator(null, null, null);
            TrainOutcome train = new TrainingService(ws, locator, TrainingMonitor.SILENT).train(
                    TrainParams.of("mlp-tiny", "fashion-mnist", 2, 60, 1e-3, 5, 3, 0.1, 0.8), fixtures(), false);
            QuantizeOutcome q = new QuantizeService(ws, locator, TrainingMonitor.SILENT).quantize(train.run().id(),
                    QuantParams.DEFAULTS, fixtures());
            ExportService export = new ExportService(ws, locator, TrainingMonitor.SILENT);
            export.export(train.run().id(), home.resolve("tiny.onnx"), 17, fixtures());
            export.export(q.model(), home.resolve("tiny-int8.onnx"), 17, fixtures());
            exports = home;
            return home;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code dir/name/model.onnx} from one of the exports. */
    public static void install(Path dir, String name, String export) {
        try {
            Files.createDirectories(dir.resolve(name));
            Files.copy(exports().resolve(export), dir.resolve(name).resolve("model.onnx"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Test image {@code i} as raw pixel values 0-255. */
    public static float[] pixels(int i) {
        LabeledData test = testImages();
        float[] out = new float[784];
        System.arraycopy(test.features(), i * 784, out, 0, 784);
        return out;
    }

    /** Test image {@code i} as a grey PNG. */
    public static byte[] png(int i) {
        float[] p = pixels(i);
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) img.getRaster().setSample(x, y, 0, (int) p[y * 28 + x]);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
