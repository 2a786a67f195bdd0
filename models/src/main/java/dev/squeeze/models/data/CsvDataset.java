package dev.squeeze.models.data;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * A table read from a CSV file ({@link #read}): one label column whose distinct values are the classes,
 * and feature columns encoded as numbers, each with its {@link FeatureColumn.Kind}: measured numbers stay
 * {@code NUMERIC}, two-valued columns become one {@code BINARY} 0/1 feature, other categorical columns
 * become one {@code ONE_HOT} feature per value. The kinds are what lets {@link #fitNormalization}
 * (the interface's default, deliberately not overridden) standardise the numeric columns only.
 *
 * <p>A CSV file has no test set of its own, so a fifth ({@value #TEST_FRACTION}) of the complete rows is
 * held out as one: stratified by class (each class gives the same share, rounded), chosen by a
 * permutation with the constant seed {@link #TEST_SPLIT_SEED}, so the same file always tests on the same
 * rows whatever the training seed. Both splits keep the file's row order.
 */
public final class CsvDataset implements Dataset {

    /** Share of the complete rows held out as the test set ({@link TestSplit#FRACTION}). */
    public static final double TEST_FRACTION = TestSplit.FRACTION;
    /** Seeds the test split ({@link TestSplit#SEED}): changing {@code --seed} never moves rows between train and test. */
    public static final long TEST_SPLIT_SEED = TestSplit.SEED;

    private final String name;
    private final Path file;
    private final String labelColumn;
    private final List<String> classNames;
    private final List<FeatureColumn> columns;
    private final LabeledData train;
    private final LabeledData test;
    private final int[] trainRows;
    private final int[] testRows;
    private final int droppedRows;

    CsvDataset(Path file, String labelColumn, List<String> classNames, List<FeatureColumn> columns,
               LabeledData train, LabeledData test, int[] trainRows, int[] testRows, int droppedRows) {
        Path fileName = file.getFileName();
        this.name = fileName == null ? file.toString() : fileName.toString();
        this.file = file;
        this.labelColumn = labelColumn;
        this.classNames = List.copyOf(classNames);
        this.columns = List.copyOf(columns);
        this.train = train;
        this.test = test;
        this.trainRows = trainRows.clone();
        this.testRows = testRows.clone();
        this.droppedRows = droppedRows;
    }

    /**
     * Reads {@code file}; rows with a missing value are dropped and counted in {@link #droppedRows()}
     * (the notice saying which is discarded: use the other overload to show it).
     */
    public static CsvDataset read(Path file, Datasets.TableOptions options) {
        return read(file, options, notice -> {
        });
    }

    /**
     * Reads {@code file}: a header row, then one row per example, comma separated with RFC-4180 quotes.
     *
     * @param options which column is the label (default: the last one) and which columns are categorical
     *                besides those inferred; {@code null} means none given
     * @param notices told, in one line each, what was done to the data that the user should know about
     *                (rows dropped for missing values, a column that looks like an identifier)
     * @throws dev.squeeze.core.BadInputException with a one-line message naming the file (and the row and
     *                                              column where one is at fault) and what to do
     */
    public static CsvDataset read(Path file, Datasets.TableOptions options, Consumer<String> notices) {
        return CsvDatasetReader.read(file, options == null ? Datasets.TableOptions.NONE : options, notices);
    }

    /** The file name, e.g. {@code penguins.csv}. */
    @Override
    public String name() {
        return name;
    }

    /** The file as it was opened. */
    public Path file() {
        return file;
    }

    /** The header name of the label column. */
    public String labelColumn() {
        return labelColumn;
    }

    /** The label column's distinct values, sorted (numerically when all are numbers): class {@code i} is the i-th. */
    @Override
    public List<String> classNames() {
        return classNames;
    }

    /** {@code {number of encoded features}}. */
    @Override
    public long[] inputShape() {
        return new long[]{columns.size()};
    }

    @Override
    public LabeledData train() {
        return train;
    }

    @Override
    public LabeledData test() {
        return test;
    }

    /** The encoded features in order: each source column in header order, expanded in place when one-hot. */
    @Override
    public List<FeatureColumn> columns() {
        return columns;
    }

    /**
     * The file row each training example came from, numbered as a spreadsheet shows them (the header is
     * row 1), so a finding about example {@code i} can be traced to the file.
     */
    public int[] trainRows() {
        return trainRows.clone();
    }

    /** The file row each test example came from (header = row 1). */
    public int[] testRows() {
        return testRows.clone();
    }

    /** How many data rows were dropped because a value was missing ({@code NA}, {@code ?} or empty). */
    public int droppedRows() {
        return droppedRows;
    }

    @Override
    public String toString() {
        return "CsvDataset[" + file + ": " + (train.size() + test.size()) + " rows (" + train.size() + " train, "
                + test.size() + " test, " + droppedRows + " dropped), " + columns.size() + " features, label "
                + labelColumn + " " + classNames + "]";
    }
}
