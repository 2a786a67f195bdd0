package dev.squeeze.models.data;

import dev.squeeze.core.BadInputException;
import org.bytedeco.javacv.OpenCVFrameConverter;
import org.bytedeco.leptonica.global.lept;
import org.bytedeco.opencv.opencv_core.Mat;
import org.datavec.api.io.labels.ParentPathLabelGenerator;
import org.datavec.api.split.CollectionInputSplit;
import org.datavec.api.writable.NDArrayWritable;
import org.datavec.api.writable.Writable;
import org.datavec.image.data.ImageWritable;
import org.datavec.image.loader.NativeImageLoader;
import org.datavec.image.recordreader.ImageRecordReader;
import org.datavec.image.transform.BaseImageTransform;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.bytedeco.opencv.global.opencv_core.CV_16U;
import static org.bytedeco.opencv.global.opencv_core.CV_8U;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGR2GRAY;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGR2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGRA2GRAY;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGRA2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_GRAY2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;

/**
 * Reads an image folder ({@link ImageFolderDataset}) with DataVec: an {@link ImageRecordReader} over the image files,
 * labelled by their parent folder ({@link ParentPathLabelGenerator}), decoded by OpenCV through
 * {@link NativeImageLoader}, converted to the wanted channels by OpenCV ({@link ToChannels}) and resized by the
 * loader. Squeeze decodes nothing itself.
 */
final class ImageFolderReader {
    /** The file name extensions DataVec's loader reads, lower case. */
    static final Set<String> EXTENSIONS = Set.copyOf(Arrays.stream(NativeImageLoader.ALLOWED_FORMATS)
            .map(f -> f.toLowerCase(Locale.ROOT)).toList());
    /** How many unreadable files a notice names before it only counts the rest. */
    static final int NAMED_SKIPS = 10;

    private ImageFolderReader() {
    }

    /** One image file and its class (the folder it is in). */
    record ImageFile(Path path, String className) {
    }

    /** What {@link #read} decoded: one row per readable file, in the files' order, and the files it skipped. */
    record Decoded(LabeledData data, int[] sourceIndex, List<String> skipped, int resized) {
    }

    static ImageFolderDataset read(Path root, String name, Datasets.ImageOptions options, Consumer<String> notices) {
        Path trainDir = root.resolve("train");
        Path testDir = root.resolve("test");
        requireLayout(root);
        List<String> classes = classFolders(trainDir);
        if (classes.size() < 2) {
            throw new BadInputException(trainDir + ": " + (classes.isEmpty() ? "holds no class folders" : "holds one class "
                    + "folder, " + classes.get(0)) + "; an image folder dataset needs a folder per class (at least 2) "
                    + "under train/, named after the class, holding its images");
        }
        List<String> ignored = new ArrayList<>();
        List<ImageFile> trainFiles = imageFiles(trainDir, classes, ignored);
        boolean testFolder = Files.isDirectory(testDir);
        List<ImageFile> testFiles = List.of();
        if (testFolder) {
            List<String> testClasses = classFolders(testDir);
            for (String c : testClasses) {
                if (!classes.contains(c)) {
                    throw new BadInputException(testDir.resolve(c) + ": a test class folder with no training folder ("
                            + trainDir + " holds " + String.join(", ", classes) + "); the test classes must be classes "
                            + "the model is trained on: add " + trainDir.resolve(c) + " or remove this folder");
                }
            }
            if (testClasses.isEmpty()) {
                throw new BadInputException(testDir + ": holds no class folders; put each class's test images in "
                        + "test/CLASS/, as in train/, or remove test/ to hold out a share of train/ instead");
            }
            testFiles = imageFiles(testDir, testClasses, ignored);
        }
        if (!ignored.isEmpty()) {
            notices.accept(root + ": left out " + ignored.size() + " file" + (ignored.size() == 1 ? "" : "s")
                    + " that are not images by their name (" + names(ignored) + "); images end in "
                    + String.join(", ", new TreeSet<>(EXTENSIONS).stream().map(e -> "." + e).toList()));
        }

        List<ImageFile> all = new ArrayList<>(trainFiles);
        all.addAll(testFiles);
        // Leptonica, DataVec's fallback for what OpenCV cannot decode, prints its own errors to stderr; the files it
        // cannot read are listed in one notice instead.
        int severity = lept.setMsgSeverity(lept.L_SEVERITY_NONE);
        int[] size;
        Decoded decoded;
        try {
            size = options.height() != null ? new int[]{options.height(), options.width()} : firstSize(all);
            decoded = decode(root, all, classes, size[0], size[1], options.channels());
        } finally {
            lept.setMsgSeverity(severity);
        }
        int height = size[0];
        int width = size[1];
        if (!decoded.skipped.isEmpty()) {
            notices.accept(root + ": skipped " + decoded.skipped.size() + " of " + all.size() + " images that could not "
                    + "be decoded (corrupt, truncated or not an image): " + names(decoded.skipped));
        }
        if (decoded.resized > 0) {
            notices.accept(root + ": resized " + decoded.resized + " image" + (decoded.resized == 1 ? "" : "s")
                    + " of another size to " + height + "x" + width + (options.height() == null
                    ? " (the first image's size; --image-size HxW sets it)" : ""));
        }
        int channels = decoded.data.featureSize() / (height * width);
        LabeledData both = decoded.data;
        int nTrain = 0;
        while (nTrain < decoded.sourceIndex.length && decoded.sourceIndex[nTrain] < trainFiles.size()) nTrain++;
        int[] trainRows = range(0, nTrain);
        int[] testRows = range(nTrain, decoded.sourceIndex.length);
        requireEveryClass(trainDir, classes, both.select(trainRows), trainFiles);
        if (!testFolder) {
            LabeledData train = both.select(trainRows);
            boolean[] isTest = TestSplit.stratified(train.labels(), classes.size());
            trainRows = TestSplit.indices(isTest, false);
            testRows = TestSplit.indices(isTest, true);
            if (testRows.length == 0) {
                throw new BadInputException(trainDir + ": too few images to hold out a test set (per class "
                        + Arrays.toString(train.classCounts()) + "; a fifth of a class rounds to none below 3); add "
                        + "images, or put test images in test/CLASS/ folders beside train/");
            }
            notices.accept(root + ": no test/ folder; holding out " + Math.round(TestSplit.FRACTION * 100) + "% of each "
                    + "class's training images as the test set (the same images on every run)");
            return new ImageFolderDataset(name, root, classes, channels, height, width, train.select(trainRows),
                    train.select(testRows), decoded.skipped, false);
        }
        if (testRows.length == 0) {
            throw new BadInputException(testDir + ": none of its images could be decoded; fix them or remove test/");
        }
        return new ImageFolderDataset(name, root, classes, channels, height, width, both.select(trainRows),
                both.select(testRows), decoded.skipped, true);
    }

    /** Fails unless {@code root} looks like an image folder dataset: a {@code train/} folder inside. */
    static void requireLayout(Path root) {
        if (!Files.isDirectory(root.resolve("train"))) {
            throw new BadInputException(root + ": has no train/ folder; an image folder dataset holds train/CLASS/ "
                    + "folders of images (.png, .jpg, ...), one per class, and optionally test/CLASS/ likewise");
        }
    }

    /** The class folders directly under {@code dir}, sorted by name (their order is the label order). */
    private static List<String> classFolders(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new BadInputException("cannot list " + dir + ": " + e.getMessage());
        }
    }

    /**
     * The image files of each class folder, ordered by file name and then class, so a folder written from an indexed
     * dataset ({@code 00000.png}, {@code 00001.png}, ... in their class folders) reads back in the original order. A
     * class folder without images is refused; files that are not images by their extension go to {@code ignored}.
     */
    private static List<ImageFile> imageFiles(Path dir, List<String> classes, List<String> ignored) {
        List<ImageFile> files = new ArrayList<>();
        for (String c : classes) {
            Path folder = dir.resolve(c);
            int images = 0;
            try (Stream<Path> entries = Files.list(folder)) {
                for (Path p : entries.sorted().toList()) {
                    String fileName = p.getFileName().toString();
                    if (fileName.startsWith(".")) continue;
                    if (Files.isRegularFile(p) && EXTENSIONS.contains(extension(fileName))) {
                        files.add(new ImageFile(p, c));
                        images++;
                    } else {
                        ignored.add(dir.getFileName() + "/" + c + "/" + fileName);
                    }
                }
            } catch (IOException e) {
                throw new BadInputException("cannot list " + folder + ": " + e.getMessage());
            }
            if (images == 0) {
                throw new BadInputException(folder + ": the class folder " + c + " holds no images (.png, .jpg, ...); "
                        + "add its images or remove the folder");
            }
        }
        files.sort(Comparator.comparing((ImageFile f) -> f.path.getFileName().toString()).thenComparing(ImageFile::className));
        return files;
    }

    private static String extension(String fileName) {
        int dot = fileName.lastIndexOf('.');
        return dot < 0 ? "" : fileName.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    /** The height and width of the first file DataVec can decode, as stored. */
    private static int[] firstSize(List<ImageFile> files) {
        NativeImageLoader loader = new NativeImageLoader();
        for (ImageFile f : files) {
            try {
                long[] shape = loader.asMatrix(f.path.toFile()).shape();   // [1, channels, height, width]
                return new int[]{(int) shape[2], (int) shape[3]};
            } catch (IOException | RuntimeException e) {
                // unreadable: decode() lists it; the size comes from the next one
            }
        }
        throw new BadInputException("none of the " + files.size() + " images could be decoded (corrupt, or not images)");
    }

    /**
     * Every file through one {@link ImageRecordReader}, at {@code height x width}; files it cannot decode are skipped
     * and named. {@code channels} null reads 3 and keeps 1 when every image was stored grey.
     */
    static Decoded decode(Path root, List<ImageFile> files, List<String> classes, int height, int width,
                          Integer channels) {
        int read = channels == null ? 3 : channels;
        ToChannels conversion = new ToChannels(read);
        ImageRecordReader reader = new ImageRecordReader(height, width, read, new ParentPathLabelGenerator(), conversion);
        reader.setLogLabelCountOnInit(false);
        List<URI> uris = files.stream().map(f -> f.path.toUri()).toList();
        try {
            reader.initialize(new CollectionInputSplit(uris));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // Every class has training images, so the classes DataVec infers from the parent folders are ours, sorted alike.
        if (!reader.getLabels().equals(classes)) {
            throw new IllegalStateException("DataVec labelled the classes " + reader.getLabels() + ", expected " + classes);
        }
        int plane = height * width;
        byte[] pixels = new byte[Math.multiplyExact(files.size(), read * plane)];
        int[] labels = new int[files.size()];
        int[] source = new int[files.size()];
        List<String> skipped = new ArrayList<>();
        boolean allGrey = true;
        int resized = 0;
        int n = 0;
        for (int i = 0; i < files.size(); i++) {
            List<Writable> record;
            try {
                record = reader.next();
            } catch (RuntimeException e) {
                skipped.add(root.relativize(files.get(i).path) + " (" + reason(e) + ")");
                continue;
            }
            INDArray image = ((NDArrayWritable) record.get(0)).get();   // [1, read, height, width]
            float[] values = image.reshape(image.length()).toFloatVector();
            for (int j = 0; j < values.length; j++) pixels[n * read * plane + j] = (byte) Math.round(values[j]);
            labels[n] = classes.indexOf(reader.getLabels().get(record.get(1).toInt()));
            source[n] = i;
            allGrey &= conversion.sourceChannels == 1;
            if (conversion.sourceHeight != height || conversion.sourceWidth != width) resized++;
            n++;
        }
        try {
            reader.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int kept = channels == null && allGrey ? 1 : read;
        float[] features = new float[n * kept * plane];
        for (int e = 0; e < n; e++) {
            // Grey images read as 3 equal channels (OpenCV's GRAY2RGB copies the value): the first is the image.
            for (int j = 0; j < kept * plane; j++) features[e * kept * plane + j] = pixels[e * read * plane + j] & 0xff;
        }
        return new Decoded(new LabeledData(features, Arrays.copyOf(labels, n), kept * plane, classes.size()),
                Arrays.copyOf(source, n), List.copyOf(skipped), resized);
    }

    /** Why DataVec could not read a file, in one line. */
    private static String reason(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getCause() != cause) cause = cause.getCause();
        String message = cause.getMessage();
        return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message.strip().lines().findFirst().orElse("");
    }

    /** Refuses a class of which no image could be decoded. */
    private static void requireEveryClass(Path trainDir, List<String> classes, LabeledData train, List<ImageFile> files) {
        int[] counts = train.classCounts();
        for (int c = 0; c < counts.length; c++) {
            if (counts[c] == 0) {
                String name = classes.get(c);
                long inFolder = files.stream().filter(f -> f.className.equals(name)).count();
                throw new BadInputException(trainDir.resolve(name) + ": none of its " + inFolder + " images could be "
                        + "decoded; fix or replace them");
            }
        }
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) r[i] = from + i;
        return r;
    }

    private static String names(List<String> items) {
        String shown = String.join(", ", items.subList(0, Math.min(NAMED_SKIPS, items.size())));
        return items.size() > NAMED_SKIPS ? shown + " and " + (items.size() - NAMED_SKIPS) + " more" : shown;
    }

    /**
     * DataVec's hook between decoding and resizing: turns what OpenCV decoded (grey, BGR or BGRA, 8 or 16 bits) into
     * {@code channels} 8-bit channels, grey or in RGB order, with OpenCV's own conversions; and notes the channels and
     * size the file had. Doing it here rather than by the loader's own conversion keeps colour images RGB (the loader would
     * leave 3-channel images BGR but turn 4-channel ones RGB).
     */
    static final class ToChannels extends BaseImageTransform<Mat> {
        private final int channels;
        /** Channels of the last image as stored (1 grey, 3 colour, 4 with alpha). */
        int sourceChannels;
        /** The last image's size as stored. */
        int sourceHeight;
        int sourceWidth;

        ToChannels(int channels) {
            super(new Random(0));
            this.channels = channels;
            this.converter = new OpenCVFrameConverter.ToMat();
        }

        @Override
        protected ImageWritable doTransform(ImageWritable image, Random random) {
            if (image == null) return null;
            Mat mat = converter.convert(image.getFrame());
            sourceChannels = mat.channels();
            sourceHeight = mat.rows();
            sourceWidth = mat.cols();
            if (mat.depth() != CV_8U) {
                Mat bytes = new Mat();
                mat.convertTo(bytes, CV_8U, mat.depth() == CV_16U ? 1.0 / 257 : 1.0, 0);
                mat = bytes;
            }
            int code = switch (sourceChannels * 10 + channels) {
                case 11 -> -1;
                case 13 -> COLOR_GRAY2RGB;
                case 31 -> COLOR_BGR2GRAY;
                case 33 -> COLOR_BGR2RGB;
                case 41 -> COLOR_BGRA2GRAY;
                case 43 -> COLOR_BGRA2RGB;
                default -> throw new IllegalArgumentException("cannot convert an image of " + sourceChannels
                        + " channels to " + channels);
            };
            if (code < 0) return new ImageWritable(converter.convert(mat));
            Mat converted = new Mat();
            cvtColor(mat, converted, code);
            return new ImageWritable(converter.convert(converted));
        }

        @Override
        public float[] query(float... coordinates) {
            return coordinates;
        }
    }
}
