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
 * ({@link DatasetRegistry}), or the path of a CSV file (a name ending in {@code .csv}, read by
 * {@link CsvDataset}). The one entry point for both, so every command accepts both.
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

    /** Whether {@code name} is a CSV file's path rather than a registered dataset's name. */
    public static boolean isCsv(String name) {
        return name != null && name.toLowerCase(Locale.ROOT).endsWith(".csv");
    }

    /**
     * Fails fast, before any data is read, when {@code name} cannot be a dataset: an unknown name, or a
     * {@code .csv} path that is not an existing file (relative to the current directory).
     */
    public static void check(String name) {
        check(name, null);
    }

    /** {@link #check(String)}, also accepting a CSV file found under {@code dataDir} as {@link #open} does. */
    public static void check(String name, Path dataDir) {
        if (isCsv(name)) {
            csvFile(name, dataDir);
        } else {
            spec(name);
        }
    }

    /**
     * {@link #open(String, Path, DatasetLocator, TableOptions, Consumer)} with notices (such as rows dropped
     * for missing values) printed to stderr, where the CLI writes progress.
     */
    public static Dataset open(String name, Path dataDir, DatasetLocator locator, TableOptions table) {
        return open(name, dataDir, locator, table, System.err::println);
    }

    /**
     * @param dataDir where an image dataset's files are, or null to locate them; for a CSV path that does not
     *                exist as given, the directory it is looked up in
     * @param table   the label, categorical and dropped columns of a CSV file; null or {@link TableOptions#NONE} for
     *                images, which refuse them
     * @param notices told, one line each, what was done to the data (rows dropped for missing values)
     */
    public static Dataset open(String name, Path dataDir, DatasetLocator locator, TableOptions table,
                               Consumer<String> notices) {
        TableOptions options = table == null ? TableOptions.NONE : table;
        if (isCsv(name)) return CsvDataset.read(csvFile(name, dataDir), options, notices);
        spec(name); // an unknown name is the first thing to say
        if (options.given()) {
            throw new BadInputException("--label/--categorical/--drop apply to CSV datasets only; " + name
                    + " is an image dataset (give the path of a .csv file to train on a table)");
        }
        return DatasetLoader.load(name, dataDir, locator);
    }

    /** The registered spec, with the CSV alternative added to the unknown-name message. */
    private static DatasetSpec spec(String name) {
        try {
            return DatasetRegistry.get(name);
        } catch (BadInputException e) {
            throw new BadInputException(e.getMessage() + ", or the path of a .csv file", e);
        }
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
