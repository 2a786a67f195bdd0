package dev.squeeze.compress.prune;

import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.report.FixedWidthTable;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A finished (or resumed-to-the-end) lottery-ticket search: the dense baseline, each level's ticket and
 * control, where the ticket and the plots are, and the wall time.
 */
public record PruneOutcome(String searchId, PruneParams params, LevelResult dense, List<LevelResult> tickets,
                           List<LevelResult> controls, Path ticket, Path plot, Path table, double seconds) {

    /** The table: weights remaining, test accuracy and early-stop iteration per level, the control beside each. */
    public String format() {
        String control = params.control() == PruneControl.NONE ? null : params.control().name().toLowerCase(Locale.ROOT);
        List<String[]> lines = new ArrayList<>();
        List<String> header = new ArrayList<>(List.of("LEVEL", "WEIGHTS", "TEST ACC", "VS DENSE", "EARLY STOP", "SECONDS", "RUN"));
        if (control != null) header.addAll(List.of(control.toUpperCase(Locale.ROOT) + " ACC", "GAP"));
        lines.add(header.toArray(String[]::new));
        lines.add(row(dense, null, control));
        for (LevelResult t : tickets) {
            LevelResult c = controls.stream().filter(x -> x.level() == t.level()).findFirst().orElse(null);
            lines.add(row(t, c, control));
        }
        boolean[] right = new boolean[header.size()];
        for (int i = 1; i < right.length; i++) right[i] = i != 6;
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                "%s search %s: %d levels, rate %.2f (%s), rewind to %s%s%n%n",
                params.structure() == Structure.NONE ? "lottery-ticket" : "structured (" + params.structure().cliName() + ")",
                searchId, params.levels(), params.rate(),
                params.structure() == Structure.NONE ? params.scope().name().toLowerCase(Locale.ROOT) : "per layer",
                params.rewindTo(),
                control == null ? "" : ", control " + control));
        out.append(FixedWidthTable.format(lines, right));
        out.append(String.format(Locale.ROOT, "%nticket  %s%nplot    %s%ntable   %s%ntime    %.0f s in all%n",
                ticket, plot, table, seconds));
        return out.toString();
    }

    private String[] row(LevelResult r, LevelResult control, String controlName) {
        List<String> cells = new ArrayList<>(List.of(r.level() == 0 ? "dense" : Integer.toString(r.level()),
                String.format(Locale.ROOT, "%.1f%%", 100 * r.totalRemaining()),
                String.format(Locale.ROOT, "%.2f%%", 100 * r.testAccuracy()),
                r.level() == 0 ? "" : String.format(Locale.ROOT, "%+.2f", 100 * (r.testAccuracy() - dense.testAccuracy())),
                String.format(Locale.ROOT, "%,d", r.earlyStopIteration()),
                String.format(Locale.ROOT, "%.0f", r.seconds()),
                r.runId()));
        if (controlName != null) {
            cells.add(control == null ? "" : String.format(Locale.ROOT, "%.2f%%", 100 * control.testAccuracy()));
            cells.add(control == null ? "" : String.format(Locale.ROOT, "%+.2f", 100 * (r.testAccuracy() - control.testAccuracy())));
        }
        return cells.toArray(String[]::new);
    }

    public String json() {
        return Json.write(this);
    }
}
