package dev.squeeze.compress.distill;

import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.report.FixedWidthTable;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code squeeze distill} produced: the teachers (and their ensemble), the student trained alone with the
 * same budget and seed, and the distilled student at each temperature tried; {@code best} is the one kept.
 */
public record DistillOutcome(List<Row> teachers, Row ensemble, Row alone, List<Row> distilled, Row best, Path model) {

    /** One line of the table. @param temperature null for rows that are not distilled */
    public record Row(String what, String runId, Double temperature, double validationAccuracy, double testAccuracy,
                      long params, long fileBytes) {
    }

    public String format() {
        List<String[]> lines = new ArrayList<>();
        lines.add(new String[]{"MODEL", "RUN", "T", "VAL ACC", "TEST ACC", "VS ALONE", "PARAMS", "FILE"});
        for (Row t : teachers) lines.add(cells(t, false));
        if (ensemble != null) lines.add(cells(ensemble, false));
        lines.add(cells(alone, false));
        for (Row d : distilled) lines.add(cells(d, true));
        StringBuilder out = new StringBuilder(FixedWidthTable.format(lines,
                new boolean[]{false, false, true, true, true, true, true, true}));
        out.append(String.format(Locale.ROOT, "%nkept    %s at T=%s: test %.2f%% (%+.2f points against the student alone)%n"
                        + "model   %s%n", best.runId(), fmt(best.temperature()), 100 * best.testAccuracy(),
                100 * (best.testAccuracy() - alone.testAccuracy()), model));
        return out.toString();
    }

    private String[] cells(Row r, boolean distilledRow) {
        return new String[]{r.what(), r.runId() == null ? "-" : r.runId(), r.temperature() == null ? "-" : fmt(r.temperature()),
                Double.isNaN(r.validationAccuracy()) ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * r.validationAccuracy()),
                String.format(Locale.ROOT, "%.2f%%", 100 * r.testAccuracy()),
                distilledRow ? String.format(Locale.ROOT, "%+.2f", 100 * (r.testAccuracy() - alone.testAccuracy())) : "",
                r.params() < 0 ? "-" : String.format(Locale.ROOT, "%,d", r.params()),
                r.fileBytes() < 0 ? "-" : String.format(Locale.ROOT, "%,d", r.fileBytes())};
    }

    private static String fmt(Double t) {
        return t == null ? "-" : (t == Math.rint(t) ? Long.toString(t.longValue()) : t.toString());
    }

    public String json() {
        return Json.write(this);
    }
}
