package dev.squeeze.models.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.squeeze.models.data.BadInputs.expectBadInput;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Image folders read by DataVec: real PNG and JPEG files written here (from the committed Fashion-MNIST fixture, or
 * drawn), decoded by OpenCV through DataVec's record reader.
 */
class ImageFolderDatasetTest {
    private static final int RED = 0xff0000;
    private static final int GREEN = 0x00ff00;
    private static final int BLUE = 0x0000ff;

    @TempDir
    Path dir;

    private static ImageDataset idxFixture() {
        return DatasetLoader.read(IdxFiles.fixtureSpec(), IdxFiles.fixtureDir());
    }

    private static ImageFolderDataset read(Path root, List<String> notices) {
        return ImageFolderDataset.read(root, Datasets.ImageOptions.NONE, notices::add);
    }

    @Test
    void aFolderWrittenFromTheIdxFixtureReadsBackWithTheSamePixelsLabelsAndOrderSkippingCorruptFiles() throws IOException {
        ImageDataset idx = idxFixture();
        Path root = dir.resolve("fashion");
        ImageFolderWriter.write(idx, root);
        List<String> folders = ImageFolderWriter.folderNames(idx.classNames());
        Path corrupt = root.resolve("train").resolve(folders.get(3)).resolve("corrupt.png");
        Files.write(corrupt, "this is not a PNG file".getBytes());
        Path first = root.resolve("train").resolve(folders.get(idx.train().labels()[0])).resolve("00000.png");
        byte[] png = Files.readAllBytes(first);
        Path truncated = root.resolve("train").resolve(folders.get(5)).resolve("truncated.png");
        Files.write(truncated, Arrays.copyOf(png, png.length / 2));

        List<String> notices = new ArrayList<>();
        ImageFolderDataset folder = read(root, notices);

        assertEquals(folders, folder.classNames());
        assertArrayEquals(new long[]{1, 28, 28}, folder.inputShape(), "grey PNGs read as one channel");
        assertArrayEquals(idx.train().labels(), folder.train().labels());
        assertArrayEquals(idx.train().features(), folder.train().features(), "PNG is lossless: the same pixels");
        assertArrayEquals(idx.test().labels(), folder.test().labels());
        assertArrayEquals(idx.test().features(), folder.test().features());
        assertTrue(folder.hasTestFolder());
        assertEquals(2, folder.skipped().size(), folder.skipped().toString());
        assertTrue(folder.skipped().get(0).contains("corrupt.png"), folder.skipped().toString());
        assertTrue(folder.skipped().get(1).contains("truncated.png"), folder.skipped().toString());
        assertTrue(notices.stream().anyMatch(n -> n.contains("skipped 2 of 2502 images") && n.contains("corrupt.png")
                && n.contains("truncated.png")), notices.toString());
    }

    @Test
    void pngAndJpegBothDecodeInRgbOrder() throws IOException {
        Path root = dir.resolve("colours");
        writeSolid(root.resolve("train/blue/a.png"), BLUE, "png");
        writeSolid(root.resolve("train/blue/b.jpg"), BLUE, "jpg");
        writeSolid(root.resolve("train/red/a.png"), RED, "png");
        writeSolid(root.resolve("train/red/b.jpg"), RED, "jpg");
        writeSolid(root.resolve("test/red/c.jpeg"), RED, "jpg");
        writeSolid(root.resolve("test/blue/c.png"), BLUE, "png");

        ImageFolderDataset data = read(root, new ArrayList<>());
        assertEquals(List.of("blue", "red"), data.classNames());
        assertArrayEquals(new long[]{3, 8, 8}, data.inputShape(), "colour images read as 3 channels");
        // Order: by file name, then class: a.png (blue), a.png (red), b.jpg (blue), b.jpg (red).
        assertArrayEquals(new int[]{0, 1, 0, 1}, data.train().labels());
        assertPixels(data.train(), 0, new int[]{0, 0, 255}, 0, "the PNG exactly, in RGB order");
        assertPixels(data.train(), 1, new int[]{255, 0, 0}, 0, "the PNG exactly, in RGB order");
        assertPixels(data.train(), 2, new int[]{0, 0, 255}, 8, "the JPEG within its loss");
        assertPixels(data.train(), 3, new int[]{255, 0, 0}, 8, "the JPEG within its loss");
        assertArrayEquals(new int[]{1, 0}, data.test().labels(), "c.jpeg (red) sorts before c.png (blue)");

        ImageFolderDataset grey = ImageFolderDataset.read(root, new Datasets.ImageOptions(null, null, 1), n -> {
        });
        assertArrayEquals(new long[]{1, 8, 8}, grey.inputShape());
        // OpenCV's luminance: 0.299 R + 0.587 G + 0.114 B.
        assertPixels(grey.train(), 0, new int[]{Math.round(0.114f * 255)}, 1, "blue, grey");
        assertPixels(grey.train(), 1, new int[]{Math.round(0.299f * 255)}, 1, "red, grey");
    }

    @Test
    void greyAndColourTogetherReadAsThreeChannelsAndOtherSizesAreResizedWithANotice() throws IOException {
        Path root = dir.resolve("mixed");
        writeGrey(root.resolve("train/dark/1.png"), 8, 8, 40);
        writeGrey(root.resolve("train/dark/2.png"), 16, 16, 40);
        writeSolid(root.resolve("train/green/1.png"), GREEN, "png");
        writeGrey(root.resolve("test/dark/3.png"), 8, 8, 40);
        writeSolid(root.resolve("test/green/3.png"), GREEN, "png");
        List<String> notices = new ArrayList<>();
        ImageFolderDataset data = read(root, notices);
        assertArrayEquals(new long[]{3, 8, 8}, data.inputShape(), "the first image's size; a colour image: 3 channels");
        LabeledData all = data.train().concat(data.test());
        for (int e = 0; e < all.size(); e++) {
            int[] want = all.labels()[e] == 0 ? new int[]{40, 40, 40} : new int[]{0, 255, 0};
            assertPixels(all, e, want, 0, "grey repeated in each channel; green exact");
        }
        assertTrue(notices.stream().anyMatch(n -> n.contains("resized 1 image of another size to 8x8")), notices.toString());

        ImageFolderDataset big = ImageFolderDataset.read(root, Datasets.ImageOptions.of("12x10", null), n -> {
        });
        assertArrayEquals(new long[]{3, 12, 10}, big.inputShape());
    }

    @Test
    void withoutATestFolderAFifthOfEachClassIsHeldOutTheSameWayEveryTime() {
        ImageDataset idx = idxFixture();
        Path root = dir.resolve("train-only");
        ImageFolderWriter.writeSplit(idx.train(), idx.inputShape(), ImageFolderWriter.folderNames(idx.classNames()),
                root.resolve("train"));
        List<String> notices = new ArrayList<>();
        ImageFolderDataset data = read(root, notices);
        assertFalse(data.hasTestFolder());
        assertTrue(notices.stream().anyMatch(n -> n.contains("no test/ folder")), notices.toString());
        int[] all = idx.train().classCounts();
        int[] test = data.test().classCounts();
        int[] train = data.train().classCounts();
        for (int c = 0; c < all.length; c++) {
            assertEquals(Math.round(all[c] * TestSplit.FRACTION), test[c], "class " + c + ": its own share");
            assertEquals(all[c], train[c] + test[c]);
        }
        ImageFolderDataset again = read(root, new ArrayList<>());
        assertArrayEquals(data.test().features(), again.test().features(), "the same test images on every read");
    }

    @Test
    void perChannelStatisticsComeFromTheTrainingSplitOnly() throws IOException {
        Path root = dir.resolve("stats");
        writeSolid(root.resolve("train/a/1.png"), 0x204060, "png");
        writeSolid(root.resolve("train/a/2.png"), 0x406080, "png");
        writeSolid(root.resolve("train/b/1.png"), 0x6080a0, "png");
        writeSolid(root.resolve("train/b/2.png"), 0x80a0c0, "png");
        writeSolid(root.resolve("test/a/1.png"), 0xffffff, "png");
        writeSolid(root.resolve("test/b/1.png"), 0xffffff, "png");
        ImageFolderDataset data = read(root, new ArrayList<>());
        Normalization n = data.fitNormalization(data.train());
        int plane = 8 * 8;
        // Means of 0x20,0x40,0x60,0x80 (R), 0x40..0xa0 (G), 0x60..0xc0 (B); each value spread +-1.5 and +-0.5 steps of 0x20.
        double std = Math.sqrt((1.5 * 1.5 + 0.5 * 0.5) / 2) * 0x20;
        float[] means = {0x50, 0x70, 0x90};
        for (int c = 0; c < 3; c++) {
            for (int j = c * plane; j < (c + 1) * plane; j++) {
                assertEquals(means[c], n.mean()[j], 1e-3, "channel " + c + " mean, train only (test is white)");
                assertEquals(std, n.std()[j], 1e-3, "channel " + c + " std");
            }
        }
    }

    @Test
    void anEmptyClassFolderIsRefusedNamingIt() throws IOException {
        Path root = dir.resolve("empty-class");
        writeGrey(root.resolve("train/cats/1.png"), 4, 4, 10);
        Files.createDirectories(root.resolve("train/dogs"));
        Files.writeString(root.resolve("train/dogs/notes.txt"), "not an image");
        expectBadInput(() -> read(root, new ArrayList<>()), root.resolve("train/dogs").toString(), "holds no images");
    }

    @Test
    void theLayoutIsCheckedAndEachProblemNamed() throws IOException {
        Path noTrain = Files.createDirectories(dir.resolve("flat/cats"));
        writeGrey(noTrain.resolve("1.png"), 4, 4, 10);
        expectBadInput(() -> Datasets.check(dir.resolve("flat").toString()), "has no train/ folder", "train/CLASS/");

        Path oneClass = dir.resolve("one");
        writeGrey(oneClass.resolve("train/cats/1.png"), 4, 4, 10);
        expectBadInput(() -> read(oneClass, new ArrayList<>()), "one class folder, cats", "at least 2");

        Path strayTest = dir.resolve("stray");
        writeGrey(strayTest.resolve("train/cats/1.png"), 4, 4, 10);
        writeGrey(strayTest.resolve("train/dogs/1.png"), 4, 4, 10);
        writeGrey(strayTest.resolve("test/birds/1.png"), 4, 4, 10);
        expectBadInput(() -> read(strayTest, new ArrayList<>()), strayTest.resolve("test/birds").toString(),
                "no training folder");

        Path allBad = dir.resolve("all-bad");
        writeGrey(allBad.resolve("train/cats/1.png"), 4, 4, 10);
        Files.createDirectories(allBad.resolve("train/dogs"));
        Files.write(allBad.resolve("train/dogs/1.png"), new byte[]{1, 2, 3});
        expectBadInput(() -> read(allBad, new ArrayList<>()), allBad.resolve("train/dogs").toString(),
                "none of its 1 images could be decoded");

        Path few = dir.resolve("few");
        writeGrey(few.resolve("train/cats/1.png"), 4, 4, 10);
        writeGrey(few.resolve("train/dogs/1.png"), 4, 4, 10);
        expectBadInput(() -> read(few, new ArrayList<>()), "too few images to hold out a test set", "test/CLASS/");
    }

    @Test
    void datasetsOpensAFolderByItsPathAndRefusesOptionsThatDoNotApply() throws IOException {
        Path root = dir.resolve("shapes");
        writeGrey(root.resolve("train/a/1.png"), 4, 4, 10);
        writeGrey(root.resolve("train/a/2.png"), 4, 4, 20);
        writeGrey(root.resolve("train/b/1.png"), 4, 4, 200);
        writeGrey(root.resolve("train/b/2.png"), 4, 4, 220);
        writeGrey(root.resolve("test/a/3.png"), 4, 4, 10);
        writeGrey(root.resolve("test/b/3.png"), 4, 4, 220);
        DatasetLocator locator = new DatasetLocator(null, null, null);

        assertTrue(Datasets.isImageFolder(root.toString()));
        assertTrue(Datasets.isImageFolder("shirts/"), "written as a path, even before it exists");
        assertFalse(Datasets.isImageFolder("fashion-mnist"));
        assertFalse(Datasets.isImageFolder("penguins"), "a bare unknown word is a mistyped name");
        Datasets.check(root.toString());
        Datasets.check("shapes", dir);
        Dataset opened = Datasets.open(root.toString(), null, locator, null, Datasets.ImageOptions.of("6x6", 3), n -> {
        });
        ImageFolderDataset folder = assertInstanceOf(ImageFolderDataset.class, opened);
        assertEquals("shapes", folder.name());
        assertArrayEquals(new long[]{3, 6, 6}, folder.inputShape());
        assertEquals(4, Datasets.open("shapes", dir, locator, null, null, n -> {
        }).train().size(), "found under --data");

        expectBadInput(() -> Datasets.open(root.toString(), null, locator, new Datasets.TableOptions("label", null),
                null, n -> { }), "--label/--categorical/--drop apply to CSV datasets only", "image folder");
        expectBadInput(() -> Datasets.open("fashion-mnist", IdxFiles.fixtureDir(), locator, null,
                Datasets.ImageOptions.of("32x32", null), n -> { }), "--image-size/--channels apply to image folders",
                "1x28x28");
        Path csv = Files.writeString(dir.resolve("t.csv"), "x,y\n1,a\n2,b\n");
        expectBadInput(() -> Datasets.open(csv.toString(), null, locator, null, new Datasets.ImageOptions(null, null, 1),
                n -> { }), "--image-size/--channels apply to image folders", "CSV file");
        expectBadInput(() -> Datasets.check(dir.resolve("nowhere/").toString()), "the folder does not exist");
        expectBadInput(() -> Datasets.check("penguins"), "unknown dataset 'penguins'", "an image folder");
        expectBadInput(() -> Datasets.ImageOptions.of("28", null), "HEIGHTxWIDTH", "'28'");
        expectBadInput(() -> new Datasets.ImageOptions(null, null, 2), "--channels must be 1 (grey) or 3 (RGB)");
    }

    // ---------------------------------------------------------------- drawing test images with the JDK

    private static void writeSolid(Path file, int rgb, String format) throws IOException {
        BufferedImage image = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) image.setRGB(x, y, rgb);
        write(image, format, file);
    }

    private static void writeGrey(Path file, int height, int width, int value) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < height; y++) for (int x = 0; x < width; x++) image.getRaster().setSample(x, y, 0, value);
        write(image, "png", file);
    }

    private static void write(BufferedImage image, String format, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(image, format, file.toFile()), "the JDK writes " + format);
    }

    /** Every pixel of example {@code e} has {@code want[c]} in channel c, within {@code tolerance}. */
    private static void assertPixels(LabeledData data, int e, int[] want, int tolerance, String what) {
        int plane = data.featureSize() / want.length;
        float[] x = Arrays.copyOfRange(data.features(), e * data.featureSize(), (e + 1) * data.featureSize());
        for (int c = 0; c < want.length; c++) {
            for (int j = c * plane; j < (c + 1) * plane; j++) {
                int channel = c;
                assertEquals(want[c], x[j], tolerance, () -> what + ": example " + e + ", channel " + channel);
            }
        }
    }
}
