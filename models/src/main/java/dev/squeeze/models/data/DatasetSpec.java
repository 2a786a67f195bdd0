package dev.squeeze.models.data;

import java.net.URI;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What a named image dataset is: where to download it, how to verify it, what its examples look like.
 * Instances come from {@link DatasetRegistry}; tests may build their own (e.g. with fixture hashes).
 *
 * @param name          registry name and directory name, e.g. {@code fashion-mnist}
 * @param title         human-readable name for messages, e.g. {@code Fashion-MNIST}
 * @param baseUrls      download locations tried in order; each file is fetched from {@code base + fileName}
 * @param train         the training split
 * @param test          the test split
 * @param classNames    one name per label value, in label order
 * @param channels      channels per image (1 for grey-scale IDX)
 * @param height        image rows
 * @param width         image columns
 * @param systemPackage the Debian package that installs the files under
 *                      {@code /usr/share/datasets/<name>}, or {@code null} when there is none
 * @param labelChangingFlips the flips after which an image no longer shows what its label says
 *                      ({@link Dataset#labelChangingFlips()}); empty when none does
 */
public record DatasetSpec(String name, String title, List<URI> baseUrls, Split train, Split test,
                          List<String> classNames, int channels, int height, int width, String systemPackage,
                          Set<Flip> labelChangingFlips) {

    /**
     * One split of the dataset: its image and label files and how many examples the published files hold.
     *
     * @param name   "train" or "test"
     * @param images the idx3 images file
     * @param labels the idx1 labels file
     * @param count  examples in the published files (a subset, such as a test fixture, may hold fewer)
     */
    public record Split(String name, DatasetFile images, DatasetFile labels, int count) {
        public Split {
            if (images == null || labels == null) throw new IllegalArgumentException(name + ": needs both files");
            if (count <= 0) throw new IllegalArgumentException(name + ": count must be positive, got " + count);
        }
    }

    public DatasetSpec {
        if (name == null || !name.matches("[a-z0-9][a-z0-9-]*")) {
            throw new IllegalArgumentException("a dataset name is lower-case letters, digits and '-', got " + name);
        }
        if (baseUrls == null || baseUrls.isEmpty()) throw new IllegalArgumentException(name + ": needs a base URL");
        // URI.resolve drops the last path segment unless it ends in '/'.
        baseUrls = baseUrls.stream().map(DatasetSpec::asDirectory).toList();
        classNames = List.copyOf(classNames);
        if (classNames.size() < 2) throw new IllegalArgumentException(name + ": needs at least 2 classes");
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException(name + ": image shape must be positive, got "
                    + channels + "x" + height + "x" + width);
        }
        labelChangingFlips = labelChangingFlips == null || labelChangingFlips.isEmpty()
                ? Set.of() : Set.copyOf(EnumSet.copyOf(labelChangingFlips));
    }

    /** Number of classes: label values run 0..numClasses-1. */
    public int numClasses() {
        return classNames.size();
    }

    /** One example's shape {@code {channels, height, width}}, as the model zoo takes it. */
    public long[] inputShape() {
        return new long[]{channels, height, width};
    }

    /** Values per flattened example: channels x height x width. */
    public int featureSize() {
        return channels * height * width;
    }

    /** The four files: train images, train labels, test images, test labels. */
    public List<DatasetFile> files() {
        return List.of(train.images(), train.labels(), test.images(), test.labels());
    }

    /** The file names, comma-separated, for messages that tell the user what a directory must hold. */
    public String fileNames() {
        return String.join(", ", files().stream().map(DatasetFile::fileName).toList());
    }

    private static URI asDirectory(URI uri) {
        String s = uri.toString();
        return s.endsWith("/") ? uri : URI.create(s + "/");
    }
}
