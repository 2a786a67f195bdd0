package dev.squeeze.models.data;

import dev.squeeze.core.BadInputException;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Opens a dataset by what the user typed after {@code --dataset}: a registered image dataset name
 * ({@link DatasetRegistry}), the path of a CSV file (a name ending in {@code .csv}, read by {@link CsvDataset}), or
 * the path of an image folder ({@code train/CLASS/*.png}, read by {@link ImageFolderDataset}). The one entry point for
 * all three, so every command accepts each. A registered name wins over a folder of the same name in the current
 * directory: write {@code ./mnist} for the folder.
 */
public final class Datasets {
    private Datasets() {
    }

    /**
     * Options that only tables have.
     *
     * @param label       the label column's name, or null for the last column
     * @param categorical columns to encode as categories even when their values are numbers (e.g. a year),
     *                    or null; others are still inferred
     * @param drop        columns to leave out (an id, a name: values that identify rows rather than describe them),
     *                    or null
     */
    public record TableOptions(String label, List<String> categorical, List<String> drop) {
        public static final TableOptions NONE = new TableOptions(null, null, null);

        public TableOptions {
            categorical = categorical == null ? null : List.copyOf(categorical);
            drop = drop == null || drop.isEmpty() ? null : List.copyOf(drop);
        }

        /** The label and categorical columns, dropping none. */
        public TableOptions(String label, List<String> categorical) {
            this(label, categorical, null);
        }

        /** Whether any option is given; image datasets take none. */
        public boolean given() {
            return label != null || (categorical != null && !categorical.isEmpty()) || drop != null;
        }
    }

    /**
     * Options that only image folders have: the size and channels every image is read at. The registered datasets
     * have theirs fixed; a model trained on a folder records its input shape, from which they are read again.
     *
     * @param height   rows of every image, or null (with width) for the first image's
     * @param width    columns of every image, or null (with height)
     * @param channels 1 (grey) or 3 (RGB), or null for 1 when every image is stored grey and 3 otherwise
     */
    public record ImageOptions(Integer height, Integer width, Integer channels) {
        public static final ImageOptions NONE = new ImageOptions(null, null, null);

        public ImageOptions {
            if ((height == null) != (width == null)) {
                throw new IllegalArgumentException("an image size needs both a height and a width, got " + height
                        + " and " + width);
            }
            if (height != null && (height <= 0 || width <= 0)) {
                throw new BadInputException("--image-size must be HxW with positive numbers, got " + height + "x" + width);
            }
            if (channels != null && channels != 1 && channels != 3) {
                throw new BadInputException("--channels must be 1 (grey) or 3 (RGB), got " + channels);
            }
        }

        /** The options from a size written {@code HxW} (or null) and a channel count (or null). */
        public static ImageOptions of(String size, Integer channels) {
            if (size == null) return new ImageOptions(null, null, channels);
            int[] hw = parseSize(size);
            return new ImageOptions(hw[0], hw[1], channels);
        }

        /** The options that read images back as {@code shape} = {channels, height, width} (a model's input shape). */
        public static ImageOptions of(long[] shape) {
            if (shape == null || shape.length != 3) return NONE;
            return new ImageOptions((int) shape[1], (int) shape[2], (int) shape[0]);
        }

        /** {@code {height, width}} of a size written {@code HxW} ({@code 28x28}); a bad one is a {@link BadInputException}. */
        public static int[] parseSize(String size) {
            String[] parts = size.trim().toLowerCase(Locale.ROOT).split("x", -1);
            try {
                if (parts.length == 2) {
                    int h = Integer.parseInt(parts[0].trim());
                    int w = Integer.parseInt(parts[1].trim());
                    if (h > 0 && w > 0) return new int[]{h, w};
                }
            } catch (NumberFormatException e) {
                // said below
            }
            throw new BadInputException("an image size is HEIGHTxWIDTH in pixels, such as 28x28, got '" + size + "'");
        }

        /** Whether any option is given; tables and the registered datasets take none. */
        public boolean given() {
            return height != null || channels != null;
        }

        /** The size as written, {@code HxW}, or null. */
        public String size() {
            return height == null ? null : height + "x" + width;
        }
    }

    /** Whether {@code name} is a CSV file's path rather than a registered dataset's name. */
    public static boolean isCsv(String name) {
        return name != null && name.toLowerCase(Locale.ROOT).endsWith(".csv");
    }

    /** Whether {@code name} is a dataset Squeeze knows by name (case-insensitive). */
    public static boolean isRegistered(String name) {
        return name != null && DatasetRegistry.names().contains(name.trim().toLowerCase(Locale.ROOT));
    }

    /**
     * Whether {@code name}, neither registered nor a CSV file, is meant as an image folder: it names an existing
     * directory, or is written as a path ({@code shirts/}, {@code ./shirts}, {@code /data/shirts}). A bare unknown word
     * is taken for a mistyped dataset name instead.
     */
    public static boolean isImageFolder(String name) {
        if (name == null || isCsv(name) || isRegistered(name)) return false;
        if (name.contains("/") || name.contains(java.io.File.separator)) return true;
        try {
            return Files.isDirectory(Path.of(name));
        } catch (InvalidPathException e) {
            return false;
        }
    }

    /**
     * Fails fast, before any data is read, when {@code name} cannot be a dataset: an unknown name, a {@code .csv} path
     * that is not an existing file, or a folder without {@code train/} (paths relative to the current directory).
     */
    public static void check(String name) {
        check(name, null);
    }

    /** {@link #check(String)}, also accepting a CSV file or image folder found under {@code dataDir} as {@link #open} does. */
    public static void check(String name, Path dataDir) {
        if (isCsv(name)) {
            csvFile(name, dataDir);
        } else if (!isRegistered(name)) {
            ImageFolderReader.requireLayout(imageFolder(name, dataDir));
        }
    }

    /**
     * {@link #open(String, Path, DatasetLocator, TableOptions, Consumer)} with notices (such as rows dropped
     * for missing values) printed to stderr, where the CLI writes progress.
     */
    public static Dataset open(String name, Path dataDir, DatasetLocator locator, TableOptions table) {
        return open(name, dataDir, locator, table, System.err::println);
    }

    /** {@link #open(String, Path, DatasetLocator, TableOptions, ImageOptions, Consumer)} with no image options. */
    public static Dataset open(String name, Path dataDir, DatasetLocator locator, TableOptions table,
                               Consumer<String> notices) {
        return open(name, dataDir, locator, table, ImageOptions.NONE, notices);
    }

    /**
     * @param dataDir where an image dataset's files are, or null to locate them; for a CSV file or image folder path
     *                that does not exist as given, the directory it is looked up in
     * @param table   the label, categorical and dropped columns of a CSV file; null or {@link TableOptions#NONE} for
     *                images, which refuse them
     * @param images  the size and channels of an image folder's images; null or {@link ImageOptions#NONE} for the
     *                others, which refuse them
     * @param notices told, one line each, what was done to the data (rows dropped for missing values, images skipped)
     */
    public static Dataset open(String name, Path dataDir, DatasetLocator locator, TableOptions table, ImageOptions images,
                               Consumer<String> notices) {
        TableOptions tableOptions = table == null ? TableOptions.NONE : table;
        ImageOptions imageOptions = images == null ? ImageOptions.NONE : images;
        if (isCsv(name)) {
            if (imageOptions.given()) {
                throw new BadInputException("--image-size/--channels apply to image folders only; " + name + " is a CSV "
                        + "file (give the path of a folder of train/CLASS/ images to train on images)");
            }
            return CsvDataset.read(csvFile(name, dataDir), tableOptions, notices);
        }
        if (!isRegistered(name)) {
            Path folder = imageFolder(name, dataDir);   // an unknown name is the first thing to say
            if (tableOptions.given()) {
                throw new BadInputException("--label/--categorical/--drop apply to CSV datasets only; " + name
                        + " is an image folder (its classes are its folder names)");
            }
            return ImageFolderDataset.read(folder, imageOptions, notices);
        }
        if (tableOptions.given()) {
            throw new BadInputException("--label/--categorical/--drop apply to CSV datasets only; " + name
                    + " is an image dataset (give the path of a .csv file to train on a table)");
        }
        if (imageOptions.given()) {
            DatasetSpec spec = DatasetRegistry.get(name);
            throw new BadInputException("--image-size/--channels apply to image folders only; " + name + " is a "
                    + "registered dataset of " + spec.channels() + "x" + spec.height() + "x" + spec.width() + " images");
        }
        return DatasetLoader.load(name, dataDir, locator);
    }

    /**
     * The image folder {@code name} denotes: the path as given (relative to the current directory), else under
     * dataDir. A name that is no folder is an unknown dataset name, or a missing folder when written as a path.
     */
    static Path imageFolder(String name, Path dataDir) {
        Path given;
        try {
            given = Path.of(name);
        } catch (InvalidPathException e) {
            throw new BadInputException(name + ": not a valid folder path (" + e.getReason() + ")");
        }
        if (Files.isDirectory(given)) return given;
        boolean lookInDataDir = dataDir != null && !given.isAbsolute();
        if (lookInDataDir && Files.isDirectory(dataDir.resolve(given))) return dataDir.resolve(given);
        if (!isImageFolder(name)) {
            try {
                DatasetRegistry.get(name);
            } catch (BadInputException e) {
                throw new BadInputException(e.getMessage() + ", the path of a .csv file, or the path of an image folder"
                        + " (holding train/CLASS/*.png)", e);
            }
        }
        if (Files.isRegularFile(given)) {
            throw new BadInputException(name + ": is a file, not a folder; give the path of a .csv file (its name ending "
                    + "in .csv) or of an image folder holding train/CLASS/ images");
        }
        throw new BadInputException(name + ": the folder does not exist"
                + (lookInDataDir ? " (nor " + dataDir.resolve(given) + ")" : "")
                + "; give the path of an image folder relative to the current directory"
                + (lookInDataDir ? " or to --data" : "") + ", or an absolute path");
    }

    /** The file a CSV name denotes: the path as given (relative to the current directory), else under dataDir. */
    static Path csvFile(String name, Path dataDir) {
        Path given;
        try {
            given = Path.of(name);
        } catch (InvalidPathException e) {
            throw new BadInputException(name + ": not a valid file path (" + e.getReason() + "); give the path of a"
                    + " .csv file");
        }
        if (Files.isRegularFile(given)) return given;
        boolean lookInDataDir = dataDir != null && !given.isAbsolute();
        if (lookInDataDir && Files.isRegularFile(dataDir.resolve(given))) return dataDir.resolve(given);
        if (Files.isDirectory(given)) {
            throw new BadInputException(name + ": is a directory, not a CSV file; give the path of a .csv file");
        }
        throw new BadInputException(name + ": the file does not exist"
                + (lookInDataDir ? " (nor " + dataDir.resolve(given) + ")" : "")
                + "; give the path of a CSV file relative to the current directory"
                + (lookInDataDir ? " or to --data" : "") + ", or an absolute path");
    }
}
