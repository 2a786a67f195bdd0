package dev.squeeze.models.data;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * A folder of the user's own images: {@code train/CLASS/*.png|jpg|...}, one folder per class, and optionally
 * {@code test/CLASS/...} likewise; read with DataVec ({@link ImageFolderReader}). Labels are class indices in the
 * sorted order of the folder names, which are the class names. Each example is the raw pixel values 0..255,
 * channel-first ({@code C x H x W}, row-major: NCHW), grey or RGB.
 *
 * <ul>
 *   <li>Size: {@link Datasets.ImageOptions#height()} x width, by default the first image's; images of another size
 *       are resized (stretched, bilinear) by DataVec's loader, and a notice says how many.
 *   <li>Channels: 1 or 3; by default 1 when every image is stored grey, else 3 (grey images then repeat their value in
 *       each channel, colour ones turn grey by OpenCV's luminance weights when 1 is asked for).
 *   <li>Order: by file name, then class, so a folder written from an indexed dataset ({@code 00000.png}, ...) reads
 *       back in its original order.
 *   <li>Files that cannot be decoded are skipped, and named in a notice with their count; a class folder with no images
 *       is refused, naming it.
 *   <li>Without {@code test/}, a fifth of each class is held out as the test set ({@link TestSplit}), the same on
 *       every run.
 * </ul>
 *
 * <p>Normalization is one mean and std per channel, fitted on the training split ({@link Normalization#perChannel}).
 * Which flips keep a label is the folder owner's knowledge, so {@link #labelChangingFlips()} is empty.
 */
public final class ImageFolderDataset implements Dataset {
    private final String name;
    private final Path root;
    private final List<String> classNames;
    private final int channels;
    private final int height;
    private final int width;
    private final LabeledData train;
    private final LabeledData test;
    private final List<String> skipped;
    private final boolean testFolder;

    ImageFolderDataset(String name, Path root, List<String> classNames, int channels, int height, int width,
                       LabeledData train, LabeledData test, List<String> skipped, boolean testFolder) {
        this.name = name;
        this.root = root;
        this.classNames = List.copyOf(classNames);
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.train = train;
        this.test = test;
        this.skipped = List.copyOf(skipped);
        this.testFolder = testFolder;
    }

    /**
     * Reads the image folder {@code root}.
     *
     * @param options the size and channels to read the images at; {@link Datasets.ImageOptions#NONE} for the defaults
     * @param notices told, one line each, what was done to the data (files skipped, images resized, a test split held out)
     * @throws dev.squeeze.core.BadInputException naming the folder at fault: no {@code train/}, fewer than 2 classes,
     *                                              an empty class folder, a test class with no training folder
     */
    public static ImageFolderDataset read(Path root, Datasets.ImageOptions options, Consumer<String> notices) {
        Path fileName = root.toAbsolutePath().normalize().getFileName();
        String name = fileName == null ? root.toString() : fileName.toString();
        return ImageFolderReader.read(root, name, options == null ? Datasets.ImageOptions.NONE : options, notices);
    }

    /** The folder's name, e.g. {@code shirts}. */
    @Override
    public String name() {
        return name;
    }

    /** The folder as it was opened. */
    public Path root() {
        return root;
    }

    /** The class folders' names, sorted: class {@code i} is the i-th. */
    @Override
    public List<String> classNames() {
        return classNames;
    }

    @Override
    public long[] inputShape() {
        return new long[]{channels, height, width};
    }

    @Override
    public LabeledData train() {
        return train;
    }

    @Override
    public LabeledData test() {
        return test;
    }

    @Override
    public List<FeatureColumn> columns() {
        return FeatureColumn.pixels(channels * height * width);
    }

    /** One mean and std per channel, from {@code trainSplit}: colour channels differ in brightness. */
    @Override
    public Normalization fitNormalization(LabeledData trainSplit) {
        return Normalization.perChannel(trainSplit, channels);
    }

    /** The files that could not be decoded, relative to the folder, each with DataVec's reason. */
    public List<String> skipped() {
        return skipped;
    }

    /** Whether the test set is the folder's own {@code test/} (else a held-out share of {@code train/}). */
    public boolean hasTestFolder() {
        return testFolder;
    }

    @Override
    public String toString() {
        return "ImageFolderDataset[" + root + ": " + train.size() + " train, " + test.size() + " test"
                + (testFolder ? "" : " (held out)") + ", " + channels + "x" + height + "x" + width + ", classes "
                + classNames + (skipped.isEmpty() ? "" : ", " + skipped.size() + " skipped") + "]";
    }
}
