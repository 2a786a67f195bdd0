package dev.squeeze.models.data;

import dev.squeeze.core.AtomicFiles;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Writes images as an image folder, the layout {@link ImageFolderDataset} reads: {@code train/CLASS/00000.png}, ...
 * and {@code test/CLASS/...}, lossless PNG (grey or RGB) written by the JDK's {@link ImageIO}. A folder written from a
 * registered dataset reads back with the same pixels, labels and order, so the folder path can be tried (and tested)
 * against numbers known from the dataset itself.
 */
public final class ImageFolderWriter {
    private ImageFolderWriter() {
    }

    /**
     * Class folder names that sort in label order and are valid file names: {@code 0-T-shirt_top}, {@code 1-Trouser},
     * ... (the index, zero-padded to the widest, then the name with anything but letters, digits, {@code -} and
     * {@code _} replaced by {@code _}).
     */
    public static List<String> folderNames(List<String> classNames) {
        int digits = String.valueOf(classNames.size() - 1).length();
        List<String> names = new ArrayList<>();
        for (int c = 0; c < classNames.size(); c++) {
            String safe = classNames.get(c).replaceAll("[^A-Za-z0-9_-]", "_");
            names.add(String.format(Locale.ROOT, "%0" + digits + "d-%s", c, safe));
        }
        return names;
    }

    /** Writes {@code dataset}'s train and test splits under {@code root} ({@code train/} and {@code test/}). */
    public static void write(Dataset dataset, Path root) {
        long[] shape = dataset.inputShape();
        if (shape.length != 3) throw new IllegalArgumentException(dataset.name() + " is not a dataset of images");
        List<String> folders = folderNames(dataset.classNames());
        writeSplit(dataset.train(), shape, folders, root.resolve("train"));
        writeSplit(dataset.test(), shape, folders, root.resolve("test"));
    }

    /**
     * Writes each example of {@code data} (raw values 0..255, {@code shape} = {channels, height, width}, channels 1 or
     * 3) as {@code dir/<its class folder>/<its index, zero-padded>.png}.
     */
    public static void writeSplit(LabeledData data, long[] shape, List<String> folders, Path dir) {
        int channels = (int) shape[0];
        int height = (int) shape[1];
        int width = (int) shape[2];
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("PNG images here are grey or RGB");
        int digits = Math.max(5, String.valueOf(data.size() - 1).length());
        try {
            for (String folder : folders) Files.createDirectories(dir.resolve(folder));
            float[] x = data.features();
            int plane = height * width;
            for (int e = 0; e < data.size(); e++) {
                BufferedImage image = new BufferedImage(width, height,
                        channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
                WritableRaster raster = image.getRaster();
                int base = e * data.featureSize();
                for (int y = 0; y < height; y++) {
                    for (int col = 0; col < width; col++) {
                        for (int c = 0; c < channels; c++) {
                            raster.setSample(col, y, c, Math.round(x[base + c * plane + y * width + col]));
                        }
                    }
                }
                Path file = dir.resolve(folders.get(data.labels()[e]))
                        .resolve(String.format(Locale.ROOT, "%0" + digits + "d.png", e));
                AtomicFiles.writeStream(file, out -> {
                    if (!ImageIO.write(image, "png", out)) throw new IOException("no PNG writer in this JDK");
                });
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write images under " + dir + ": " + e.getMessage(), e);
        }
    }
}
