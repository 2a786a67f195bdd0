package dev.squeeze.models.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.squeeze.models.data.BadInputs.expectBadInput;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class IdxReaderTest {

    @TempDir
    Path dir;

    /** Three 2x3 images whose pixels cover 0 and 255, so unsigned conversion is exercised. */
    private static final byte[] PIXELS = new byte[3 * 2 * 3];
    private static final byte[] LABELS = {0, 9, (byte) 200};

    static {
        for (int i = 0; i < PIXELS.length; i++) PIXELS[i] = (byte) (i * 15);
        PIXELS[PIXELS.length - 1] = (byte) 255;
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void roundTripsImagesAndLabelsGzippedOrRaw(boolean gzip) throws IOException {
        byte[] images = IdxFiles.imagesContent(3, 2, 3, PIXELS);
        byte[] labels = IdxFiles.labelsContent(LABELS);
        Path imagesFile = IdxFiles.write(dir.resolve("images"), gzip ? IdxFiles.gzip(images) : images);
        Path labelsFile = IdxFiles.write(dir.resolve("labels"), gzip ? IdxFiles.gzip(labels) : labels);

        IdxReader.Images read = IdxReader.readImages(imagesFile);
        assertEquals(3, read.count());
        assertEquals(2, read.rows());
        assertEquals(3, read.cols());
        float[] expected = new float[PIXELS.length];
        for (int i = 0; i < expected.length; i++) expected[i] = PIXELS[i] & 0xff;
        assertArrayEquals(expected, read.pixels());
        assertEquals(255f, read.pixels()[PIXELS.length - 1], "pixels are unsigned and not scaled");

        assertArrayEquals(new int[]{0, 9, 200}, IdxReader.readLabels(labelsFile));
    }

    @Test
    void emptyImageSetIsValid() throws IOException {
        Path file = IdxFiles.write(dir.resolve("empty"), IdxFiles.imagesContent(0, 28, 28, new byte[0]));
        assertEquals(0, IdxReader.readImages(file).count());
    }

    @Test
    void truncatedRawFileSaysHowMuchWasDeclaredAndHowMuchIsThere() throws IOException {
        byte[] content = IdxFiles.imagesContent(3, 2, 3, PIXELS);
        Path file = IdxFiles.write(dir.resolve("train-images-idx3-ubyte"), Arrays.copyOf(content, content.length - 5));
        expectBadInput(() -> IdxReader.readImages(file), file.toString(),
                "truncated: header declares 3 images of 2x3 (34 bytes) but the file holds 29", "re-download");
    }

    @Test
    void truncatedContentInsideAValidGzip() throws IOException {
        byte[] content = IdxFiles.labelsContent(LABELS);
        Path file = IdxFiles.write(dir.resolve("labels.gz"), IdxFiles.gzip(Arrays.copyOf(content, 9)));
        expectBadInput(() -> IdxReader.readLabels(file), file.toString(),
                "truncated: header declares 3 labels (11 bytes) but the decompressed file holds 9");
    }

    @Test
    void gzipCutShort() throws IOException {
        byte[] gz = IdxFiles.gzip(IdxFiles.imagesContent(3, 2, 3, PIXELS));
        Path file = IdxFiles.write(dir.resolve("train-images-idx3-ubyte.gz"), Arrays.copyOf(gz, gz.length - 12));
        expectBadInput(() -> IdxReader.readImages(file), file.toString(), "truncated", "gzip");
    }

    @Test
    void halfARealDownload() throws IOException {
        byte[] gz = Files.readAllBytes(IdxFiles.fixtureDir().resolve("train-images-idx3-ubyte.gz"));
        Path file = IdxFiles.write(dir.resolve("train-images-idx3-ubyte.gz"), Arrays.copyOf(gz, gz.length / 2));
        expectBadInput(() -> IdxReader.readImages(file), file.toString(),
                "truncated: header declares 2000 images of 28x28 (1568016 bytes) but the gzip stream ends after",
                "re-download it or point --data at a complete copy");
    }

    @Test
    void truncatedHeader() throws IOException {
        Path file = IdxFiles.write(dir.resolve("short"), Arrays.copyOf(IdxFiles.labelsContent(LABELS), 6));
        expectBadInput(() -> IdxReader.readLabels(file), file.toString(),
                "truncated: the header needs 8 bytes but the file holds 6");
    }

    @Test
    void emptyFile() throws IOException {
        Path file = IdxFiles.write(dir.resolve("nothing.gz"), new byte[0]);
        expectBadInput(() -> IdxReader.readImages(file), file.toString(), "too short to be an IDX file");
    }

    @Test
    void trailingBytes() throws IOException {
        byte[] content = IdxFiles.imagesContent(3, 2, 3, PIXELS);
        byte[] withGarbage = Arrays.copyOf(content, content.length + 7);
        Path file = IdxFiles.write(dir.resolve("images.gz"), IdxFiles.gzip(withGarbage));
        expectBadInput(() -> IdxReader.readImages(file), file.toString(),
                "7 unexpected bytes after the data", "declares 3 images of 2x3 (34 bytes)", "holds 41");
    }

    @Test
    void wrongMagic() throws IOException {
        byte[] content = IdxFiles.content(0x0D03, new int[]{3, 2, 3}, new byte[18 * 4]); // a float IDX file
        Path file = IdxFiles.write(dir.resolve("images.gz"), IdxFiles.gzip(content));
        expectBadInput(() -> IdxReader.readImages(file), file.toString(),
                "not an IDX images file: magic number 0x00000d03, expected 0x00000803");
    }

    @Test
    void labelsWhereImagesBelongSaysTheFilesAreSwapped() throws IOException {
        Path file = IdxFiles.write(dir.resolve("train-images-idx3-ubyte.gz"),
                IdxFiles.gzip(IdxFiles.labelsContent(LABELS)));
        expectBadInput(() -> IdxReader.readImages(file), file.toString(), "is an IDX labels file (magic 2049)",
                "swapped");
    }

    @Test
    void plainTextNamedGzIsNeitherGzipNorIdx() throws IOException {
        Path file = IdxFiles.write(dir.resolve("train-labels-idx1-ubyte.gz"), "<html>Not Found</html>".getBytes());
        expectBadInput(() -> IdxReader.readLabels(file), file.toString(), "not an IDX labels file",
                "despite its .gz name, it is not gzip-compressed");
    }

    @Test
    void corruptGzipData() throws IOException {
        byte[] gz = IdxFiles.gzip(IdxFiles.imagesContent(3, 2, 3, PIXELS));
        for (int i = 10; i < gz.length - 8; i++) gz[i] ^= (byte) 0x5a; // keep the gzip header, wreck the deflate data
        Path file = IdxFiles.write(dir.resolve("t10k-images-idx3-ubyte.gz"), gz);
        expectBadInput(() -> IdxReader.readImages(file), file.toString(), "gzip");
    }

    @Test
    void gzipMagicWithoutAGzipHeader() throws IOException {
        Path file = IdxFiles.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), new byte[]{0x1f, (byte) 0x8b, 1});
        expectBadInput(() -> IdxReader.readLabels(file), file.toString(), "gzip");
    }

    @Test
    void impossibleDimension() throws IOException {
        Path file = IdxFiles.write(dir.resolve("images"), IdxFiles.content(IdxReader.IMAGES_MAGIC,
                new int[]{3, 0, 28}, new byte[0]));
        expectBadInput(() -> IdxReader.readImages(file), file.toString(), "impossible size 0 in dimension 1");
    }

    @Test
    void hugeDeclaredCountIsRefusedBeforeAllocating() throws IOException {
        Path file = IdxFiles.write(dir.resolve("images"), IdxFiles.content(IdxReader.IMAGES_MAGIC,
                new int[]{Integer.MAX_VALUE, 28, 28}, new byte[0]));
        expectBadInput(() -> IdxReader.readImages(file), file.toString(), "more than one array can hold");
    }

    @Test
    void missingFile() {
        Path file = dir.resolve("absent.gz");
        expectBadInput(() -> IdxReader.readImages(file), file.toString(), "no such file");
        assertEquals(false, Files.exists(file));
    }
}
