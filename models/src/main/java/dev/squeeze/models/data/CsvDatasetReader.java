package dev.squeeze.models.data;

import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.FeatureColumn.Kind;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads a CSV file into a {@link CsvDataset}: parses it (RFC 4180: comma separated, fields that hold
 * commas, quotes or line breaks are quoted, a quote inside them is doubled), drops rows with missing
 * values, infers or takes each column's kind, encodes the features and splits off the test rows.
 *
 * <p>Rows are numbered as a spreadsheet shows them: the header is row 1, a blank line is a row, a quoted
 * value with line breaks is still one row. Every error is a {@link BadInputException} whose one line
 * names the file, the row and column where they apply, and what to do.
 */
final class CsvDatasetReader {

    /** Values that mean "unknown": R writes NA, UCI files use ?, spreadsheets leave the cell empty. */
    private static final Set<String> MISSING = Set.of("", "NA", "?");
    /**
     * A plain decimal number. Stricter than {@link Double#parseDouble}, which would also take {@code NaN},
     * {@code Infinity}, {@code 1f} or hex, none of which is a measurement in a table.
     */
    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
    /** How programs write a number that is not finite: NaN, Infinity, inf (any case, signed). */
    private static final Pattern NOT_FINITE = Pattern.compile("[+-]?(nan|inf|infinity)", Pattern.CASE_INSENSITIVE);
    /** Fewest complete rows that leave a test split and a training split a validation set can be carved from. */
    static final int MIN_ROWS = 10;
    /** A categorical column with more values than this (and than half the rows) is probably an identifier. */
    private static final int MANY_VALUES = 20;
    /**
     * Share of the heap the encoded feature matrix may take: the text, the splits and the network's copies need the
     * rest. Beyond it, reading would end in an OutOfMemoryError; it is refused, naming the widest columns.
     */
    private static final int HEAP_SHARE = 4;
    /** How many dropped row numbers a notice lists before "...". */
    private static final int LISTED_ROWS = 5;

    private CsvDatasetReader() {
    }

    /** One record of the file: its spreadsheet row number and its values, trimmed. */
    private record Row(int number, String[] values) {
    }

    static CsvDataset read(Path file, Datasets.TableOptions options, Consumer<String> notices) {
        List<Row> rows = new Parser(file, readText(file)).parse();
        if (rows.isEmpty()) {
            throw bad(file, "the file is empty; a CSV dataset needs a header row naming the columns, then one row"
                    + " per example");
        }
        Row headerRow = rows.get(0);
        String[] header = header(file, headerRow);
        List<Row> data = rows.subList(1, rows.size());
        if (data.isEmpty()) {
            throw bad(file, "has a header (row " + headerRow.number + ") but no data rows; add one row per example");
        }
        for (Row row : data) requireWidth(file, header, row);

        int label = options.label() == null ? header.length - 1 : columnIndex(file, header, options.label(), "--label");
        boolean[] declared = new boolean[header.length];
        if (options.categorical() != null) {
            for (String name : options.categorical()) {
                int c = columnIndex(file, header, name, "--categorical");
                if (c == label) {
                    throw bad(file, "--categorical names the label column " + quote(name) + "; the label's values"
                            + " are always the classes: leave it out of --categorical");
                }
                declared[c] = true;
            }
        }
        boolean[] dropped = new boolean[header.length];
        if (options.drop() != null) {
            for (String name : options.drop()) {
                int c = columnIndex(file, header, name, "--drop");
                if (c == label) {
                    throw bad(file, "--drop names the label column " + quote(name) + "; name the label with --label"
                            + " and drop other columns");
                }
                if (declared[c]) {
                    throw bad(file, "--drop and --categorical both name the column " + quote(name) + "; keep it in"
                            + " one of them");
                }
                dropped[c] = true;
            }
        }

        List<Row> complete = dropMissing(file, header, data, dropped, notices);
        if (complete.size() < MIN_ROWS) {
            throw bad(file, "only " + complete.size() + " complete rows (" + (data.size() - complete.size())
                    + " dropped for missing values); a CSV dataset needs at least " + MIN_ROWS
                    + " to hold out a test set: add rows or fill in the missing values");
        }

        for (int c = 0; c < header.length; c++) {
            if (!dropped[c] && !declared[c]) requireFinite(file, header, complete, c);
        }
        boolean[] numeric = new boolean[header.length];
        for (int c = 0; c < header.length; c++) numeric[c] = allNumbers(complete, c);

        Levels classes = Levels.of(complete, label, numeric[label]);
        if (classes.size() < 2) {
            throw bad(file, "the label column " + quote(header[label]) + " holds the one value "
                    + quote(classes.names().get(0)) + " in all " + complete.size() + " complete rows; a classifier"
                    + " needs at least 2 classes: name the label column with --label (columns: "
                    + columnList(header) + ")");
        }

        List<Encoding> encodings = new ArrayList<>();
        List<FeatureColumn> columns = new ArrayList<>();
        for (int c = 0; c < header.length; c++) {
            if (c == label || dropped[c]) continue;
            Encoding encoding = Encoding.of(c, declared[c], numeric[c], complete, columns.size());
            // Refused before anything is encoded: a unique id one-hot encodes into rows x rows floats.
            if (encoding.kind == Kind.ONE_HOT && !declared[c] && encoding.width() > MANY_VALUES
                    && encoding.width() > complete.size() / 2) {
                throw bad(file, "column " + quote(header[c]) + " has " + encoding.width() + " distinct values in "
                        + complete.size() + " rows: it identifies rows (an id or a name) and cannot generalise, and"
                        + " one-hot it would be " + encoding.width() + " features; leave it out with --drop "
                        + optionValue(header[c]) + " (or, to keep it, declare it with --categorical)");
            }
            encodings.add(encoding);
            columns.addAll(encoding.features(header[c]));
        }
        if (columns.isEmpty()) {
            throw bad(file, "has no feature columns besides the label " + quote(header[label])
                    + "; add the columns the classes should be predicted from");
        }
        requireRoom(file, header, encodings, complete.size(), columns.size());

        int width = columns.size();
        float[] features = new float[complete.size() * width];
        int[] labels = new int[complete.size()];
        int[] rowNumbers = new int[complete.size()];
        for (int i = 0; i < complete.size(); i++) {
            Row row = complete.get(i);
            for (Encoding encoding : encodings) encoding.encode(file, header, row, features, i * width);
            labels[i] = classes.indexOf(row.values[label]);
            rowNumbers[i] = row.number;
        }
        LabeledData all = new LabeledData(features, labels, width, classes.size());

        boolean[] isTest = TestSplit.stratified(labels, classes.size());
        int[] trainIdx = TestSplit.indices(isTest, false);
        int[] testIdx = TestSplit.indices(isTest, true);
        if (testIdx.length == 0) {
            throw bad(file, "no class has enough complete rows to hold out a test set (class counts "
                    + Arrays.toString(all.classCounts()) + "); add rows");
        }
        return new CsvDataset(file, header[label], classes.names(), columns, all.select(trainIdx), all.select(testIdx),
                select(rowNumbers, trainIdx), select(rowNumbers, testIdx), data.size() - complete.size());
    }

    // ---------------------------------------------------------------- reading and parsing

    private static String readText(Path file) {
        try {
            String text = Files.readString(file); // UTF-8, and strict: malformed bytes throw
            // Excel writes a byte-order mark; left in, it would become part of the first column's name.
            return text.startsWith("\uFEFF") ? text.substring(1) : text;
        } catch (CharacterCodingException e) {
            throw bad(file, "is not UTF-8 text; save it as CSV with UTF-8 encoding");
        } catch (NoSuchFileException e) {
            throw bad(file, "no such file; check the path");
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read it (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + "); check that it is a readable file", e);
        }
    }

    /** A one-pass RFC 4180 parser over the whole text; it knows the header once read, to name columns in errors. */
    private static final class Parser {
        private final Path file;
        private final String text;
        private final List<Row> rows = new ArrayList<>();
        private int pos;
        private int row = 1;

        Parser(Path file, String text) {
            this.file = file;
            this.text = text;
        }

        /** The non-blank records; blank lines are skipped but still counted as rows. */
        List<Row> parse() {
            int n = text.length();
            List<String> values = new ArrayList<>();
            while (pos < n) {
                values.add(value(values.size()).trim());
                if (pos < n && text.charAt(pos) == ',') {
                    pos++;
                    if (pos == n) values.add(""); // "a,b," ends with an empty last value
                    continue;
                }
                // End of the record: a line break (\r\n, \n or \r) or the end of the text.
                boolean blank = values.size() == 1 && values.get(0).isEmpty();
                if (!blank) rows.add(new Row(row, values.toArray(String[]::new)));
                values.clear();
                if (pos < n) pos += text.startsWith("\r\n", pos) ? 2 : 1;
                row++;
            }
            if (!values.isEmpty()) rows.add(new Row(row, values.toArray(String[]::new)));
            return rows;
        }

        /** One value starting at {@link #pos}; leaves {@link #pos} on the comma, line break or end after it. */
        private String value(int index) {
            int n = text.length();
            StringBuilder value = new StringBuilder();
            if (text.charAt(pos) != '"') {
                while (pos < n && !endsValue(text.charAt(pos))) value.append(text.charAt(pos++));
                return value.toString();
            }
            pos++;
            while (true) {
                if (pos >= n) {
                    throw bad(file, "row " + row + ", " + column(index) + ": a quoted value is never closed;"
                            + " end it with a quote, and write a quote inside a quoted value as two (\"\")");
                }
                char ch = text.charAt(pos++);
                if (ch == '"') {
                    if (pos < n && text.charAt(pos) == '"') {
                        value.append('"');
                        pos++;
                    } else {
                        break;
                    }
                } else {
                    value.append(ch); // line breaks included: a quoted value may span lines and stays one row
                }
            }
            if (pos < n && !endsValue(text.charAt(pos))) {
                throw bad(file, "row " + row + ", " + column(index) + ": text after the closing quote of "
                        + quote(value.toString()) + "; write a quote inside a quoted value as two (\"\")");
            }
            return value.toString();
        }

        private String column(int index) {
            String[] header = rows.isEmpty() ? null : rows.get(0).values;
            return header != null && index < header.length ? "column " + quote(header[index]) : "value " + (index + 1);
        }

        private static boolean endsValue(char ch) {
            return ch == ',' || ch == '\n' || ch == '\r';
        }
    }

    /** The column names; a first row that is data, unnamed or repeated columns are errors. */
    private static String[] header(Path file, Row row) {
        String[] names = row.values;
        for (int c = 0; c < names.length; c++) {
            if (NUMBER.matcher(names[c]).matches()) {
                throw bad(file, "row " + row.number + " is not a header: column " + (c + 1) + " is the number "
                        + quote(names[c]) + " where a column name was expected; add a header row naming the columns");
            }
            if (names[c].isEmpty()) {
                throw bad(file, "row " + row.number + " (the header): column " + (c + 1) + " has no name; name every"
                        + " column (an unnamed row-index column written by pandas or R is not a feature: remove it)");
            }
        }
        Map<String, Integer> seen = new HashMap<>();
        for (int c = 0; c < names.length; c++) {
            Integer first = seen.putIfAbsent(names[c], c);
            if (first != null) {
                throw bad(file, "row " + row.number + " (the header): columns " + (first + 1) + " and " + (c + 1)
                        + " are both named " + quote(names[c]) + "; give every column its own name");
            }
        }
        if (names.length < 2) {
            throw bad(file, "row " + row.number + " (the header) names one column, " + quote(names[0])
                    + "; a CSV dataset needs a label column and at least one feature column, separated by commas");
        }
        return names;
    }

    private static void requireWidth(Path file, String[] header, Row row) {
        int got = row.values.length;
        if (got == header.length) return;
        String where = got < header.length
                ? "no value for column " + quote(header[got])
                : "a value after the last column " + quote(header[header.length - 1]);
        throw bad(file, "row " + row.number + " has " + got + " values but the header names " + header.length
                + " columns (" + where + "); give every row one value per column, and quote values that contain"
                + " a comma (\"a,b\")");
    }

    private static int columnIndex(Path file, String[] header, String name, String option) {
        for (int c = 0; c < header.length; c++) {
            if (header[c].equals(name.trim())) return c;
        }
        throw bad(file, option + " names the column " + quote(name) + ", which the header does not have; its columns"
                + " are: " + columnList(header));
    }

    /**
     * The rows without a missing value in a column that is kept ({@code ignored} columns do not count); the dropped
     * rows are counted and told to {@code notices}.
     */
    private static List<Row> dropMissing(Path file, String[] header, List<Row> data, boolean[] ignored,
                                         Consumer<String> notices) {
        List<Row> complete = new ArrayList<>(data.size());
        List<Integer> dropped = new ArrayList<>();
        Map<String, Integer> missingPerColumn = new LinkedHashMap<>();
        for (Row row : data) {
            boolean missing = false;
            for (int c = 0; c < header.length; c++) {
                if (!ignored[c] && MISSING.contains(row.values[c])) {
                    missing = true;
                    missingPerColumn.merge(header[c], 1, Integer::sum);
                }
            }
            if (missing) dropped.add(row.number);
            else complete.add(row);
        }
        if (!dropped.isEmpty()) {
            String listed = dropped.stream().limit(LISTED_ROWS).map(String::valueOf).collect(Collectors.joining(", "))
                    + (dropped.size() > LISTED_ROWS ? ", ..." : "");
            String perColumn = missingPerColumn.entrySet().stream().map(e -> quote(e.getKey()) + " " + e.getValue())
                    .collect(Collectors.joining(", "));
            notices.accept(file + ": dropped " + dropped.size() + " of " + data.size() + " rows with a missing value"
                    + " (NA, ? or empty) in " + perColumn + "; rows " + listed);
        }
        return complete;
    }

    /**
     * Refuses a NaN, an infinity or a number too large for a double ({@code 1e400}) in a column whose other values
     * are all numbers: it would otherwise turn the whole column into categories without a word, or into an infinite
     * feature. A column of text is left alone (a "NaN" there is one more category).
     */
    private static void requireFinite(Path file, String[] header, List<Row> rows, int column) {
        Row first = null;
        boolean anyNumber = false;
        for (Row row : rows) {
            String value = row.values[column];
            boolean number = NUMBER.matcher(value).matches();
            boolean finite = number && Double.isFinite(Double.parseDouble(value));
            if (finite) {
                anyNumber = true;
            } else if (number || NOT_FINITE.matcher(value).matches()) {
                if (first == null) first = row;
            } else {
                return; // text: a categorical column
            }
        }
        if (first == null || !anyNumber) return;
        String value = first.values[column];
        throw bad(file, "row " + first.number + ", column " + quote(header[column]) + ": " + quote(value)
                + (NUMBER.matcher(value).matches() ? " is too large for a number (it overflows to infinity)"
                : " is not a finite number") + " in a column of numbers; replace it with a measured value, or with NA"
                + " to drop the row");
    }

    /**
     * Refuses a table whose encoded features would not fit in memory, before they are allocated, naming the widest
     * one-hot columns to leave out.
     */
    private static void requireRoom(Path file, String[] header, List<Encoding> encodings, int rows, int width) {
        long bytes = (long) rows * width * Float.BYTES;
        long room = Runtime.getRuntime().maxMemory() / HEAP_SHARE;
        if (bytes <= room) return;
        List<Encoding> widest = encodings.stream().filter(e -> e.kind == Kind.ONE_HOT)
                .sorted(Comparator.comparingInt(Encoding::width).reversed()).limit(3).toList();
        String named = widest.stream().map(e -> quote(header[e.column]) + " (" + e.width() + " values)")
                .collect(Collectors.joining(", "));
        throw bad(file, rows + " rows x " + width + " features would take " + (bytes >> 20) + " MB, more than the "
                + (room >> 20) + " MB this run can spare" + (widest.isEmpty() ? "; use fewer columns or rows"
                : "; the widest one-hot columns are " + named + ": leave them out with --drop "
                + widest.stream().map(e -> optionValue(header[e.column])).collect(Collectors.joining(","))));
    }

    private static boolean allNumbers(List<Row> rows, int column) {
        for (Row row : rows) {
            if (!NUMBER.matcher(row.values[column]).matches()) return false;
        }
        return true;
    }

    // ---------------------------------------------------------------- encoding

    /**
     * The distinct values of one column, sorted so that indices do not depend on row order: numerically
     * when every value is a number (so 2 comes before 10, and 1 and 1.0 are one value), else by their
     * characters.
     *
     * @param names one spelling per value (the first seen), in index order
     */
    private record Levels(List<String> names, Map<Object, Integer> index, boolean numeric) {

        static Levels of(List<Row> rows, int column, boolean numeric) {
            Map<Object, String> spelling = new HashMap<>();
            for (Row row : rows) spelling.putIfAbsent(key(row.values[column], numeric), row.values[column]);
            List<Object> keys = new ArrayList<>(spelling.keySet());
            keys.sort(numeric ? Comparator.comparingDouble(k -> (Double) k) : Comparator.comparing(k -> (String) k));
            Map<Object, Integer> index = new HashMap<>();
            List<String> names = new ArrayList<>(keys.size());
            for (Object key : keys) {
                index.put(key, names.size());
                names.add(spelling.get(key));
            }
            return new Levels(List.copyOf(names), index, numeric);
        }

        private static Object key(String value, boolean numeric) {
            // + 0.0 turns -0.0 into 0.0, which Double.equals would otherwise tell apart.
            return numeric ? Double.parseDouble(value) + 0.0 : value;
        }

        int size() {
            return names.size();
        }

        int indexOf(String value) {
            return index.get(key(value, numeric));
        }
    }

    /**
     * How one source column becomes features: {@code NUMERIC} one value as it is, {@code BINARY} one 0/1
     * value (1 = the second of the two sorted values), {@code ONE_HOT} one feature per value.
     *
     * @param offset index of the column's first feature
     */
    private record Encoding(int column, Kind kind, Levels levels, int offset) {

        /**
         * A column is categorical when declared so, when any value is not a number, or when it is numbers
         * with exactly two distinct values (a 0/1 flag: standardising it would be the leak the checks catch).
         */
        static Encoding of(int column, boolean declared, boolean numeric, List<Row> rows, int offset) {
            Levels levels = Levels.of(rows, column, numeric);
            boolean categorical = declared || !numeric || levels.size() == 2;
            Kind kind = !categorical ? Kind.NUMERIC : levels.size() == 2 ? Kind.BINARY : Kind.ONE_HOT;
            return new Encoding(column, kind, levels, offset);
        }

        int width() {
            return kind == Kind.ONE_HOT ? levels.size() : 1;
        }

        List<FeatureColumn> features(String name) {
            return switch (kind) {
                case NUMERIC -> List.of(new FeatureColumn(name, name, kind));
                case BINARY -> List.of(new FeatureColumn(name + "=" + levels.names().get(1), name, kind));
                default -> levels.names().stream().map(v -> new FeatureColumn(name + "=" + v, name, kind)).toList();
            };
        }

        void encode(Path file, String[] header, Row row, float[] out, int base) {
            String value = row.values[column];
            switch (kind) {
                case NUMERIC -> {
                    float x = (float) Double.parseDouble(value);
                    if (!Float.isFinite(x)) {
                        throw bad(file, "row " + row.number + ", column " + quote(header[column]) + ": " + quote(value)
                                + " is beyond the range of a 32-bit float; rescale the column (e.g. to other units)");
                    }
                    out[base + offset] = x;
                }
                case BINARY -> out[base + offset] = levels.indexOf(value);
                default -> out[base + offset + levels.indexOf(value)] = 1f;
            }
        }
    }

    // ---------------------------------------------------------------- the test split

    private static int[] select(int[] values, int[] indices) {
        int[] out = new int[indices.length];
        for (int i = 0; i < indices.length; i++) out[i] = values[indices[i]];
        return out;
    }

    // ---------------------------------------------------------------- messages

    private static String columnList(String[] header) {
        StringJoiner joiner = new StringJoiner(", ");
        for (String name : header) joiner.add(quote(name));
        return joiner.toString();
    }

    /** A column name as it would be typed after an option: quoted for the shell when it holds anything unusual. */
    private static String optionValue(String name) {
        return name.matches("[A-Za-z0-9_.:-]+") ? name : "'" + name.replace("'", "'\\''") + "'";
    }

    /** A value or name for a one-line message: quoted, line breaks shown as \n, long ones shortened. */
    private static String quote(String value) {
        String oneLine = value.replace("\r", "\\r").replace("\n", "\\n");
        return "'" + (oneLine.length() > 40 ? oneLine.substring(0, 37) + "..." : oneLine) + "'";
    }

    private static BadInputException bad(Path file, String problem) {
        return new BadInputException(file + ": " + problem);
    }
}
