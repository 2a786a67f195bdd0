package dev.squeeze.models.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Test-side IDX writing (the product only reads IDX) and access to the committed fixtures. */
final class IdxFiles {

    private IdxFiles() {
    }

    /** The committed Fashion-MNIST subset; Maven sets {@code squeeze.fixtures}, an IDE run falls back to the source tree. */
    static Path fixtureDir() {
        String root = System.getProperty("squeeze.fixtures", "src/test/fixtures");
        return Path.of(root, DatasetRegistry.FASHION_MNIST);
    }

    /**
     * Fashion-MNIST as the fixtures are: the same names, classes and shape, but the fixtures' own content
     * hashes and counts, so a download of the fixture files verifies against it.
     */
    static DatasetSpec fixtureSpec() {
        DatasetSpec real = DatasetRegistry.get(DatasetRegistry.FASHION_MNIST);
        return new DatasetSpec(real.name(), real.title(), real.baseUrls(),
                new DatasetSpec.Split("train",
                        fixtureFile("train-images-idx3-ubyte.gz",
                                "71a9f8cec24060d6752b3e4940ce6d6fd729334afa47b735dd553481aa83b53e"),
                        fixtureFile("train-labels-idx1-ubyte.gz",
                                "8983259dfbc9f185f92698916f7daf361704b43ba7d19568cc7bcdeefdc1bece"),
                        FixtureCutter.TRAIN_EXAMPLES),
                new DatasetSpec.Split("test",
                        fixtureFile("t10k-images-idx3-ubyte.gz",
                                "c9bd0ed7148856eb2287d902861921296d6c36d95a5113341a35554343e84123"),
                        fixtureFile("t10k-labels-idx1-ubyte.gz",
                                "9f5f7b9143df7bffff73a8bf7d8a53545dbf787f86e5e195c64401d2c6f8f372"),
                        FixtureCutter.TEST_EXAMPLES),
                real.classNames(), real.channels(), real.height(), real.width(), real.systemPackage(),
                real.labelChangingFlips());
    }

    private static DatasetFile fixtureFile(String name, String contentSha256) {
        return new DatasetFile(name, contentSha256, DatasetFile.HashOf.CONTENT);
    }

    /** IDX bytes: the magic number, then each dimension, then the data. */
    static byte[] content(int magic, int[] dims, byte[] data) {
        ByteBuffer buffer = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        buffer.putInt(magic);
        for (int d : dims) buffer.putInt(d);
        return buffer.put(data).array();
    }

    static byte[] imagesContent(int count, int rows, int cols, byte[] pixels) {
        return content(IdxReader.IMAGES_MAGIC, new int[]{count, rows, cols}, pixels);
    }

    static byte[] labelsContent(byte[] labels) {
        return content(IdxReader.LABELS_MAGIC, new int[]{labels.length}, labels);
    }

    /**
     * Gzip with Java's defaults. The header's modification time is always 0, so equal content gives equal
     * bytes and re-cut fixtures do not show up as changes.
     */
    static byte[] gzip(byte[] content) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
            out.write(content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The decompressed IDX bytes of {@code file}, however it is stored. */
    static byte[] readContent(Path file) throws IOException {
        try (InputStream in = IdxReader.openContent(file)) {
            return in.readAllBytes();
        }
    }

    static Path write(Path file, byte[] bytes) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        return Files.write(file, bytes);
    }

    /** Copies the four fixture files into {@code dir}. */
    static Path copyFixtures(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (DatasetFile file : DatasetRegistry.get(DatasetRegistry.FASHION_MNIST).files()) {
            Files.copy(fixtureDir().resolve(file.fileName()), dir.resolve(file.fileName()));
        }
        return dir;
    }
}
