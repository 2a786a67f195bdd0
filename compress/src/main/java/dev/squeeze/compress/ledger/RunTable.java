package dev.squeeze.compress.ledger;

import dev.squeeze.compress.report.FixedWidthTable;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The ledger as an experiment sheet: fixed-width text for people, JSON for programs. The CLI prints these
 * unchanged, so the layout lives here, next to the data.
 *
 * <p>Text: one header line, one line per run; numbers right-aligned; accuracies as percentages with two
 * decimals; parameter counts with thousands separators and the nonzero share; sizes in kB/MB (powers of 1000);
 * times in UTC to the minute; commits to 7 characters; the experimenter as recorded; notes on one line, cut
 * to {@link #NOTE_WIDTH} characters. A missing value is {@code -}.
 *
 * <p>JSON: an array of objects, one per line, with every column under its {@linkplain RunRecord#COLUMNS
 * column name}, nothing cut; accuracies stay fractions.
 */
public final class RunTable {

    /** Longest notes cell in the text table; longer notes end in {@code ...}. */
    public static final int NOTE_WIDTH = 40;

    private static final DateTimeFormatter MINUTE = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm")
            .withZone(ZoneOffset.UTC);

    private record Column(String header, boolean rightAligned, Function<RunRecord, String> cell) {
    }

    private static final List<Column> COLUMNS = List.of(
            new Column("ID", false, RunRecord::id),
            new Column("STARTED (UTC)", false, r -> r.startedAt() == null ? null : MINUTE.format(r.startedAt())),
            new Column("COMMIT", false, r -> cut(r.codeCommit(), 7, "")),
            new Column("BY", false, RunRecord::runBy),
            new Column("STAGE", false, RunRecord::stage),
            new Column("MODEL", false, RunRecord::model),
            new Column("DATASET", false, RunRecord::dataset),
            new Column("TRAIN", true, r -> percent(r.trainAcc())),
            new Column("VAL", true, r -> percent(r.valAcc())),
            new Column("TEST", true, r -> percent(r.testAcc())),
            new Column("PARAMS", true, r -> count(r.params())),
            new Column("NONZERO", true, RunTable::nonzero),
            new Column("SIZE", true, r -> bytes(r.fileBytes())),
            new Column("STATUS", false, r -> r.status() == null ? null : r.status().text()),
            new Column("NOTES", false, r -> cut(oneLine(r.notes()), NOTE_WIDTH, "...")));

    private RunTable() {
    }

    /** The runs as a fixed-width table; {@code (no runs)} under the header when there are none. */
    public static String text(List<RunRecord> runs) {
        List<String[]> lines = new java.util.ArrayList<>();
        lines.add(COLUMNS.stream().map(Column::header).toArray(String[]::new));
        boolean[] rightAligned = new boolean[COLUMNS.size()];
        for (int c = 0; c < COLUMNS.size(); c++) rightAligned[c] = COLUMNS.get(c).rightAligned();
        for (RunRecord run : runs) {
            String[] row = new String[COLUMNS.size()];
            for (int c = 0; c < row.length; c++) {
                String cell = COLUMNS.get(c).cell().apply(run);
                row[c] = cell == null || cell.isEmpty() ? "-" : cell;
            }
            lines.add(row);
        }
        String table = FixedWidthTable.format(lines, rightAligned);
        return runs.isEmpty() ? table + "(no runs)\n" : table;
    }

    /** The runs as a JSON array, one object per line, keys in {@link RunRecord#COLUMNS} order. */
    public static String json(List<RunRecord> runs) {
        if (runs.isEmpty()) return "[]\n";
        StringBuilder out = new StringBuilder("[\n");
        for (int i = 0; i < runs.size(); i++) {
            out.append("  ");
            CanonicalJson.appendObject(out, runs.get(i).columns());
            out.append(i + 1 < runs.size() ? ",\n" : "\n");
        }
        return out.append("]\n").toString();
    }

    private static String percent(Double fraction) {
        return fraction == null ? null : String.format(Locale.ROOT, "%.2f%%", fraction * 100);
    }

    private static String count(Long n) {
        return n == null ? null : String.format(Locale.ROOT, "%,d", n);
    }

    /** Nonzero count with its share of all parameters: the number a lottery-ticket table is about. */
    private static String nonzero(RunRecord r) {
        if (r.nonzeroParams() == null) return null;
        if (r.params() == null || r.params() == 0) return count(r.nonzeroParams());
        return String.format(Locale.ROOT, "%,d (%.1f%%)", r.nonzeroParams(), 100.0 * r.nonzeroParams() / r.params());
    }

    private static String bytes(Long n) {
        if (n == null) return null;
        if (n < 1_000) return n + " B";
        if (n < 1_000_000) return String.format(Locale.ROOT, "%.1f kB", n / 1e3);
        if (n < 1_000_000_000) return String.format(Locale.ROOT, "%.2f MB", n / 1e6);
        return String.format(Locale.ROOT, "%.2f GB", n / 1e9);
    }

    private static String oneLine(String text) {
        return text == null ? null : text.strip().replaceAll("\\s*\\R\\s*", " / ");
    }

    private static String cut(String text, int width, String marker) {
        if (text == null || text.length() <= width) return text;
        return text.substring(0, width - marker.length()).stripTrailing() + marker;
    }
}
