package dev.squeeze.models.data;

import dev.squeeze.models.data.FeatureColumn.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;

import static dev.squeeze.models.data.BadInputs.expectBadInput;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CSV tables: the real Palmer penguins file, small tables written here, and every error contract. */
class CsvDatasetTest {

    private static final Datasets.TableOptions SPECIES = new Datasets.TableOptions("species", null);
    /** The 11 penguins rows holding NA, numbered as a spreadsheet shows them (header = row 1). */
    private static final Set<Integer> PENGUIN_ROWS_WITH_NA = Set.of(5, 10, 11, 12, 13, 49, 180, 220, 258, 270, 273);

    @TempDir
    Path dir;

    static Path penguinsFile() {
        String root = System.getProperty("squeeze.fixtures", "src/test/fixtures");
        return Path.of(root, "penguins", "penguins.csv");
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
    }

    private static List<FeatureColumn> ofKind(Dataset data, Kind kind) {
        return data.columns().stream().filter(c -> c.kind() == kind).toList();
    }

    @Test
    void penguinsLoadTheCompleteRowsAndSayWhichWereDropped() {
        List<String> notices = new ArrayList<>();
        CsvDataset penguins = CsvDataset.read(penguinsFile(), SPECIES, notices::add);

        assertEquals("penguins.csv", penguins.name());
        assertEquals("species", penguins.labelColumn());
        assertEquals(List.of("Adelie", "Chinstrap", "Gentoo"), penguins.classNames());
        assertEquals(333, penguins.train().size() + penguins.test().size(), "344 rows, 11 with NA");
        assertEquals(11, penguins.droppedRows());
        assertEquals(1, notices.size(), notices::toString);
        assertTrue(notices.get(0).contains("dropped 11 of 344 rows"), notices.get(0));
        assertTrue(notices.get(0).contains("'sex' 11"), "names the column the values are missing from: " + notices.get(0));

        assertEquals(List.of(
                new FeatureColumn("island=Biscoe", "island", Kind.ONE_HOT),
                new FeatureColumn("island=Dream", "island", Kind.ONE_HOT),
                new FeatureColumn("island=Torgersen", "island", Kind.ONE_HOT),
                new FeatureColumn("bill_length_mm", "bill_length_mm", Kind.NUMERIC),
                new FeatureColumn("bill_depth_mm", "bill_depth_mm", Kind.NUMERIC),
                new FeatureColumn("flipper_length_mm", "flipper_length_mm", Kind.NUMERIC),
                new FeatureColumn("body_mass_g", "body_mass_g", Kind.NUMERIC),
                new FeatureColumn("sex=male", "sex", Kind.BINARY),
                new FeatureColumn("year", "year", Kind.NUMERIC)), penguins.columns());
        assertArrayEquals(new long[]{9}, penguins.inputShape());
        assertEquals(9, penguins.train().featureSize());
        assertEquals(3, penguins.train().numClasses());

        int[] perClass = new int[3];
        for (LabeledData split : List.of(penguins.train(), penguins.test())) {
            int[] counts = split.classCounts();
            for (int c = 0; c < 3; c++) perClass[c] += counts[c];
        }
        assertArrayEquals(new int[]{146, 68, 119}, perClass);
    }

    @Test
    void penguinValuesAreEncodedAsTheFileSays() {
        CsvDataset penguins = CsvDataset.read(penguinsFile(), SPECIES);
        // Row 2: Adelie,Torgersen,39.1,18.7,181,3750,male,2007 and row 3: Adelie,Torgersen,39.5,17.4,186,3800,female,2007
        assertArrayEquals(new float[]{0, 0, 1, 39.1f, 18.7f, 181, 3750, 1, 2007}, example(penguins, 2));
        assertArrayEquals(new float[]{0, 0, 1, 39.5f, 17.4f, 186, 3800, 0, 2007}, example(penguins, 3));
        // Row 345, the last: Chinstrap,Dream,50.2,18.7,198,3775,female,2009
        assertArrayEquals(new float[]{0, 1, 0, 50.2f, 18.7f, 198, 3775, 0, 2009}, example(penguins, 345));
        assertEquals(1, labelOf(penguins, 345), "Chinstrap");
    }

    /** The features of the example read from file row {@code row}, wherever the split put it. */
    private static float[] example(CsvDataset data, int row) {
        int i = indexOf(data.trainRows(), row);
        LabeledData split = i >= 0 ? data.train() : data.test();
        if (i < 0) i = indexOf(data.testRows(), row);
        assertTrue(i >= 0, "row " + row + " is in neither split");
        int k = split.featureSize();
        return Arrays.copyOfRange(split.features(), i * k, (i + 1) * k);
    }

    private static int labelOf(CsvDataset data, int row) {
        int i = indexOf(data.trainRows(), row);
        return i >= 0 ? data.train().labels()[i] : data.test().labels()[indexOf(data.testRows(), row)];
    }

    private static int indexOf(int[] values, int value) {
        return IntStream.range(0, values.length).filter(i -> values[i] == value).findFirst().orElse(-1);
    }

    @Test
    void aDeclaredCategoricalNumberIsOneHotEncoded() {
        CsvDataset penguins = CsvDataset.read(penguinsFile(), new Datasets.TableOptions("species", List.of("year")));
        assertEquals(List.of("year=2007", "year=2008", "year=2009"),
                ofKind(penguins, Kind.ONE_HOT).stream().filter(c -> c.source().equals("year")).map(FeatureColumn::name).toList());
        assertEquals(List.of("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"),
                ofKind(penguins, Kind.NUMERIC).stream().map(FeatureColumn::name).toList());
        assertArrayEquals(new long[]{11}, penguins.inputShape());
        assertArrayEquals(new float[]{0, 0, 1, 39.1f, 18.7f, 181, 3750, 1, 1, 0, 0}, example(penguins, 2));
    }

    @Test
    void theTestSplitIsAStableStratifiedFifthDisjointFromTrain() {
        CsvDataset first = CsvDataset.read(penguinsFile(), SPECIES);
        CsvDataset again = CsvDataset.read(penguinsFile(), SPECIES);
        assertArrayEquals(first.trainRows(), again.trainRows());
        assertArrayEquals(first.testRows(), again.testRows());
        assertArrayEquals(first.test().features(), again.test().features());

        TreeSet<Integer> all = new TreeSet<>();
        for (int row : first.trainRows()) assertTrue(all.add(row), "row " + row + " twice in train");
        for (int row : first.testRows()) assertTrue(all.add(row), "row " + row + " in train and test");
        TreeSet<Integer> complete = new TreeSet<>();
        for (int row = 2; row <= 345; row++) if (!PENGUIN_ROWS_WITH_NA.contains(row)) complete.add(row);
        assertEquals(complete, all, "train and test together are exactly the complete rows");

        // round(20% of 146, 68, 119): each class in its own proportion.
        assertArrayEquals(new int[]{29, 14, 24}, first.test().classCounts());
        assertEquals(266, first.train().size());
        assertTrue(isAscending(first.trainRows()) && isAscending(first.testRows()), "splits keep the file order");
    }

    private static boolean isAscending(int[] values) {
        for (int i = 1; i < values.length; i++) if (values[i] <= values[i - 1]) return false;
        return true;
    }

    @Test
    void normalizationFittedOnTrainStandardisesOnlyNumericColumns() {
        CsvDataset penguins = CsvDataset.read(penguinsFile(), SPECIES);
        Normalization normalization = penguins.fitNormalization(penguins.train());
        LabeledData normalised = normalization.apply(penguins.train());
        int k = normalised.featureSize();
        float[] x = normalised.features();
        float[] raw = penguins.train().features();
        for (int j = 0; j < k; j++) {
            FeatureColumn column = penguins.columns().get(j);
            if (column.kind() == Kind.NUMERIC) {
                assertTrue(normalization.standardizes(j), column.name());
                double mean = 0;
                double sq = 0;
                for (int i = j; i < x.length; i += k) mean += x[i];
                mean /= normalised.size();
                for (int i = j; i < x.length; i += k) sq += (x[i] - mean) * (x[i] - mean);
                assertEquals(0, mean, 1e-4, column.name() + " mean");
                assertEquals(1, Math.sqrt(sq / normalised.size()), 1e-4, column.name() + " std");
            } else {
                assertTrue(column.categorical(), column.name());
                assertFalse(normalization.standardizes(j), column.name() + " must be left as it is");
                for (int i = j; i < x.length; i += k) {
                    assertTrue(x[i] == 0f || x[i] == 1f, column.name() + " value " + x[i]);
                    assertEquals(raw[i], x[i], 0f);
                }
            }
        }
        // Each penguin is on exactly one island.
        for (int i = 0; i < normalised.size(); i++) assertEquals(1f, x[i * k] + x[i * k + 1] + x[i * k + 2], 0f);
    }

    @Test
    void theLabelColumnIsChosenByName() {
        CsvDataset byYear = CsvDataset.read(penguinsFile(), Datasets.TableOptions.NONE);
        assertEquals("year", byYear.labelColumn(), "the last column by default");
        assertEquals(List.of("2007", "2008", "2009"), byYear.classNames());
        assertEquals(List.of("species=Adelie", "species=Chinstrap", "species=Gentoo"),
                byYear.columns().stream().filter(c -> c.source().equals("species")).map(FeatureColumn::name).toList());

        CsvDataset bySex = CsvDataset.read(penguinsFile(), new Datasets.TableOptions("sex", null));
        assertEquals(List.of("female", "male"), bySex.classNames());
        assertTrue(bySex.columns().stream().noneMatch(c -> c.source().equals("sex")), "the label is not a feature");
        assertEquals(11, bySex.columns().size(), "species 3 + island 3 + 4 measurements + year");
    }

    /** The talk's table: only Age and Bounties may be standardised. */
    @Test
    void theTalksTableInfersBinaryAndNumericColumns() throws IOException {
        StringBuilder csv = new StringBuilder("Sex,Age,Has_Masters,Has_Bachelors,Bounties,Hired\n");
        for (int i = 0; i < 12; i++) {
            csv.append(i % 2 == 0 ? "female" : "male").append(',').append(23 + 3 * i).append(',').append(i % 3 == 0 ? 1 : 0)
                    .append(',').append(i % 4 == 0 ? 0 : 1).append(',').append(100 * i + 17 * (i % 5)).append(',')
                    .append(i % 3 == 1 ? "no" : "yes").append('\n');
        }
        CsvDataset talk = CsvDataset.read(write("talk.csv", csv.toString()), Datasets.TableOptions.NONE);

        assertEquals(List.of(
                new FeatureColumn("Sex=male", "Sex", Kind.BINARY),
                new FeatureColumn("Age", "Age", Kind.NUMERIC),
                new FeatureColumn("Has_Masters=1", "Has_Masters", Kind.BINARY),
                new FeatureColumn("Has_Bachelors=1", "Has_Bachelors", Kind.BINARY),
                new FeatureColumn("Bounties", "Bounties", Kind.NUMERIC)), talk.columns());
        assertEquals(List.of("no", "yes"), talk.classNames());
        Normalization normalization = talk.fitNormalization(talk.train());
        assertArrayEquals(new boolean[]{false, true, false, false, true},
                new boolean[]{normalization.standardizes(0), normalization.standardizes(1), normalization.standardizes(2),
                        normalization.standardizes(3), normalization.standardizes(4)});
        // 0/1 flags keep their meaning: 1 stays 1.
        assertArrayEquals(new float[]{0, 23, 1, 0, 0}, example(talk, 2));
    }

    @Test
    void quotedValuesFollowRfc4180() throws IOException {
        StringBuilder csv = new StringBuilder("\uFEFF\"name, full\",size,\"kind\"\r\n");
        for (int i = 0; i < 10; i++) {
            String name = switch (i) {
                case 0 -> "\"Smith, \"\"Jr\"\"\"";
                case 1 -> "\"two\r\nlines\"";
                default -> "n" + (i % 3);
            };
            csv.append(name).append(',').append(i).append(',').append(i < 5 ? "\"a\"" : "b").append("\r\n");
        }
        csv.append("\r\n"); // a trailing blank line is not a row
        CsvDataset data = CsvDataset.read(write("quoted.csv", csv.toString()), Datasets.TableOptions.NONE);
        assertEquals(List.of("a", "b"), data.classNames());
        assertEquals(List.of("name, full=Smith, \"Jr\"", "name, full=n0", "name, full=n1", "name, full=n2",
                        "name, full=two\r\nlines"),
                data.columns().stream().filter(c -> c.kind() == Kind.ONE_HOT).map(FeatureColumn::name).toList());
        assertEquals(10, data.train().size() + data.test().size());
        // The value with a line break is one row: the rows after it keep their spreadsheet numbers.
        assertArrayEquals(new float[]{0, 1, 0, 0, 0, 9}, example(data, 11), "row 11: n0,9,b");
    }

    @Test
    void missingMarkersDropTheirRows() throws IOException {
        StringBuilder csv = new StringBuilder("a,b,label\n");
        for (int i = 0; i < 12; i++) csv.append(i).append(',').append(i * i).append(',').append(i % 2).append('\n');
        csv.append("NA,1,0\n").append(",1,1\n").append("3,?,0\n").append("4,5,\n");
        List<String> notices = new ArrayList<>();
        CsvDataset data = CsvDataset.read(write("gaps.csv", csv.toString()), Datasets.TableOptions.NONE, notices::add);
        assertEquals(4, data.droppedRows());
        assertEquals(12, data.train().size() + data.test().size());
        assertEquals(1, notices.size());
        assertTrue(notices.get(0).contains("dropped 4 of 16 rows") && notices.get(0).contains("'a' 2, 'b' 1, 'label' 1")
                && notices.get(0).contains("rows 14, 15, 16, 17"), notices.get(0));
    }

    @Test
    void aColumnThatIdentifiesRowsIsRefusedNamingTheDropOption() throws IOException {
        StringBuilder csv = new StringBuilder("name,x,label\n");
        for (int i = 0; i < 30; i++) csv.append("penguin-").append(i).append(',').append(i % 7).append(',').append(i % 2).append('\n');
        Path file = write("names.csv", csv.toString());
        expectBadInput(() -> CsvDataset.read(file, null), file.toString(),
                "column 'name' has 30 distinct values in 30 rows", "--drop name");

        CsvDataset dropped = CsvDataset.read(file, new Datasets.TableOptions(null, null, List.of("name")));
        assertEquals(List.of("x"), dropped.columns().stream().map(FeatureColumn::name).toList());
        // Declared categorical, it is the user's decision: still encoded.
        CsvDataset kept = CsvDataset.read(file, new Datasets.TableOptions(null, List.of("name")));
        assertEquals(30 + 1, kept.columns().size());
    }

    /** A unique id over 20,000 rows one-hot encoded into 20,000 x 20,000 floats: an OutOfMemoryError before. */
    @Test
    void aUniqueIdOverManyRowsIsRefusedBeforeEncodingAndDroppingItReadsTheTable() throws IOException {
        int rows = 20_000;
        StringBuilder csv = new StringBuilder("id,x,y,label\n");
        for (int i = 0; i < rows; i++) {
            csv.append("u").append(Integer.toHexString(i * 7919)).append(',').append(i % 13).append(',')
                    .append((i * 31) % 17).append(',').append(i % 3 == 0 ? "a" : "b").append('\n');
        }
        Path file = write("users.csv", csv.toString());
        expectBadInput(() -> CsvDataset.read(file, null), file.toString(), "column 'id'", "distinct values",
                "--drop id");
        // Declared categorical it passes the identifier check, and the size check refuses it instead.
        expectBadInput(() -> CsvDataset.read(file, new Datasets.TableOptions(null, List.of("id"))), file.toString(),
                "20000 rows x 20002 features", "'id' (20000 values)", "--drop id");

        CsvDataset data = CsvDataset.read(file, new Datasets.TableOptions(null, null, List.of("id")));
        assertEquals(List.of("x", "y"), data.columns().stream().map(FeatureColumn::name).toList());
        assertEquals(rows, data.train().size() + data.test().size());
    }

    @Test
    void aNonFiniteValueInAColumnOfNumbersIsRefusedNamingColumnAndRow() throws IOException {
        for (String bad : List.of("Infinity", "NaN", "1e400", "-inf", "nan", "-1E999")) {
            StringBuilder csv = new StringBuilder("x,y,label\n");
            for (int i = 0; i < 14; i++) {
                csv.append(i * 1.5).append(',').append(i == 9 ? bad : String.valueOf(i * i)).append(',')
                        .append(i % 2).append('\n');
            }
            Path file = write("measures.csv", csv.toString());
            expectBadInput(() -> CsvDataset.read(file, null), file.toString(), "row 11, column 'y'", "'" + bad + "'",
                    "NA");
        }
    }

    @Test
    void nanInAColumnOfTextIsOneMoreCategory() throws IOException {
        StringBuilder csv = new StringBuilder("grandparent,x,label\n");
        String[] names = {"Nan", "Pop", "NaN", "Gran"};
        for (int i = 0; i < 12; i++) csv.append(names[i % 4]).append(',').append(i).append(',').append(i % 2).append('\n');
        CsvDataset data = CsvDataset.read(write("family.csv", csv.toString()), null);
        assertEquals(4 + 1, data.columns().size(), "four names one-hot, and x");
    }

    @Test
    void droppedColumnsAreCheckedAndTheirMissingValuesDropNoRow() throws IOException {
        StringBuilder csv = new StringBuilder("id,x,label\n");
        for (int i = 0; i < 12; i++) csv.append(i % 4 == 0 ? "NA" : "r" + i).append(',').append(i).append(',').append(i % 2).append('\n');
        Path file = write("ids.csv", csv.toString());
        CsvDataset data = CsvDataset.read(file, new Datasets.TableOptions(null, null, List.of("id")));
        assertEquals(0, data.droppedRows(), "the id's NA does not matter once it is dropped");
        assertEquals(12, data.train().size() + data.test().size());

        expectBadInput(() -> CsvDataset.read(file, new Datasets.TableOptions(null, null, List.of("ID"))),
                "--drop names the column 'ID'", "'id', 'x', 'label'");
        expectBadInput(() -> CsvDataset.read(file, new Datasets.TableOptions(null, null, List.of("label"))),
                "--drop names the label column 'label'");
        expectBadInput(() -> CsvDataset.read(file, new Datasets.TableOptions(null, List.of("id"), List.of("id"))),
                "--drop and --categorical both name the column 'id'");
    }

    @Test
    void numericClassesSortAsNumbers() throws IOException {
        StringBuilder csv = new StringBuilder("x,quality\n");
        for (int i = 0; i < 12; i++) csv.append(i).append(',').append(new int[]{10, 9, 2}[i % 3]).append('\n');
        CsvDataset data = CsvDataset.read(write("wine.csv", csv.toString()), null);
        assertEquals(List.of("2", "9", "10"), data.classNames());
    }

    @Test
    void datasetsOpensACsvPathAsIsOrUnderTheDataDirectory() {
        Path file = penguinsFile();
        Datasets.check(file.toString());
        Dataset opened = Datasets.open(file.toString(), null, new DatasetLocator(null, null, null), SPECIES, n -> { });
        assertEquals("penguins.csv", opened.name());
        assertEquals(333, opened.train().size() + opened.test().size());

        Path dataDir = file.getParent();
        Datasets.check("penguins.csv", dataDir);
        Dataset underDataDir = Datasets.open("penguins.csv", dataDir, new DatasetLocator(null, null, null), SPECIES, n -> { });
        assertArrayEquals(opened.test().features(), underDataDir.test().features());
    }

    // ---------------------------------------------------------------- errors: one line, naming the file

    @Test
    void aMissingFileIsNamed() {
        String missing = dir.resolve("nowhere/penguins.csv").toString();
        expectBadInput(() -> Datasets.check(missing), missing, "does not exist");
        expectBadInput(() -> Datasets.check("penguins.csv", dir), "penguins.csv", "does not exist",
                dir.resolve("penguins.csv").toString());
        expectBadInput(() -> Datasets.open(missing, null, new DatasetLocator(null, null, null), SPECIES),
                missing, "does not exist");
        expectBadInput(() -> CsvDataset.read(Path.of(missing), SPECIES), missing, "no such file");
    }

    @Test
    void aDirectoryIsNotACsvFile() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("folder.csv"));
        expectBadInput(() -> Datasets.check(folder.toString()), folder.toString(), "is a directory");
    }

    @Test
    void anUnknownDatasetNameMentionsCsvFiles() {
        expectBadInput(() -> Datasets.check("penguins"), "unknown dataset 'penguins'", "fashion-mnist, mnist",
                "the path of a .csv file");
    }

    @Test
    void tableOptionsAreRefusedForImageDatasets() {
        Path images = IdxFiles.fixtureDir();
        DatasetLocator locator = new DatasetLocator(null, null, null);
        expectBadInput(() -> Datasets.open("fashion-mnist", images, locator, new Datasets.TableOptions("label", null)),
                "--label/--categorical/--drop apply to CSV datasets only", "fashion-mnist");
        expectBadInput(() -> Datasets.open("fashion-mnist", images, locator, new Datasets.TableOptions(null, List.of("x"))),
                "--label/--categorical/--drop apply to CSV datasets only");
        assertEquals(2000, Datasets.open("fashion-mnist", images, locator, Datasets.TableOptions.NONE).train().size());
        assertEquals(2000, Datasets.open("fashion-mnist", images, locator, null).train().size());
    }

    @Test
    void anEmptyFileIsRefused() throws IOException {
        Path empty = write("empty.csv", "");
        expectBadInput(() -> CsvDataset.read(empty, null), empty.toString(), "the file is empty");
        Path blank = write("blank.csv", "\n\n");
        expectBadInput(() -> CsvDataset.read(blank, null), blank.toString(), "the file is empty");
        Path headerOnly = write("header.csv", "a,b,label\n");
        expectBadInput(() -> CsvDataset.read(headerOnly, null), headerOnly.toString(), "no data rows");
    }

    @Test
    void aFileWithoutHeaderIsRefused() throws IOException {
        Path file = write("noheader.csv", "39.1,18.7,Adelie\n39.5,17.4,Adelie\n");
        expectBadInput(() -> CsvDataset.read(file, null), file.toString(), "row 1 is not a header",
                "column 1 is the number '39.1'", "add a header row");
        Path unnamed = write("unnamed.csv", ",x,label\n1,2,a\n");
        expectBadInput(() -> CsvDataset.read(unnamed, null), unnamed.toString(), "column 1 has no name");
        Path twice = write("twice.csv", "x,x,label\n1,2,a\n");
        expectBadInput(() -> CsvDataset.read(twice, null), twice.toString(), "columns 1 and 2 are both named 'x'");
    }

    @Test
    void raggedRowsNameTheRowAndColumn() throws IOException {
        Path shortRow = write("short.csv", "a,b,c,label\n1,2,3,x\n1,2,3,y\n1,2,z\n");
        expectBadInput(() -> CsvDataset.read(shortRow, null), shortRow.toString(),
                "row 4 has 3 values but the header names 4 columns", "no value for column 'label'");
        Path longRow = write("long.csv", "a,b,label\n1,2,x\n1,2,x,9\n");
        expectBadInput(() -> CsvDataset.read(longRow, null), longRow.toString(), "row 3 has 4 values",
                "a value after the last column 'label'", "quote values that contain a comma");
    }

    @Test
    void brokenQuotesNameTheRowAndColumn() throws IOException {
        Path open = write("open.csv", "a,b,label\n1,\"2,x\n3,4,y\n");
        expectBadInput(() -> CsvDataset.read(open, null), open.toString(), "row 2, column 'b'", "never closed");
        Path after = write("after.csv", "a,b,label\n1,\"2\"x,y\n");
        expectBadInput(() -> CsvDataset.read(after, null), after.toString(), "row 2, column 'b'",
                "text after the closing quote");
    }

    @Test
    void unknownColumnNamesListTheColumns() {
        Path file = penguinsFile();
        expectBadInput(() -> CsvDataset.read(file, new Datasets.TableOptions("Species", null)), file.toString(),
                "--label names the column 'Species'", "'species', 'island', 'bill_length_mm'", "'year'");
        expectBadInput(() -> CsvDataset.read(file, new Datasets.TableOptions("species", List.of("colour"))),
                file.toString(), "--categorical names the column 'colour'", "'island'");
        expectBadInput(() -> CsvDataset.read(file, new Datasets.TableOptions("species", List.of("species"))),
                file.toString(), "--categorical names the label column 'species'");
    }

    @Test
    void aLabelWithOneClassIsRefused() throws IOException {
        StringBuilder csv = new StringBuilder("x,label\n");
        for (int i = 0; i < 12; i++) csv.append(i).append(",same\n");
        Path file = write("one-class.csv", csv.toString());
        expectBadInput(() -> CsvDataset.read(file, null), file.toString(), "label column 'label'",
                "holds the one value 'same'", "at least 2 classes", "--label");
    }

    @Test
    void tooFewCompleteRowsAreRefused() throws IOException {
        Path file = write("tiny.csv", "x,label\n1,a\n2,b\nNA,a\n");
        expectBadInput(() -> CsvDataset.read(file, null), file.toString(), "only 2 complete rows (1 dropped",
                "at least " + CsvDatasetReader.MIN_ROWS);
    }

    @Test
    void nonUtf8TextIsRefused() throws IOException {
        Path file = dir.resolve("latin1.csv");
        Files.write(file, "caf\u00e9,label\n1,a\n".getBytes(StandardCharsets.ISO_8859_1));
        expectBadInput(() -> CsvDataset.read(file, null), file.toString(), "not UTF-8");
    }
}
