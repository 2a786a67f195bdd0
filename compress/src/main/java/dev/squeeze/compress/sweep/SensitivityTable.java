package dev.squeeze.compress.sweep;

import dev.squeeze.compress.report.FixedWidthTable;

import dev.squeeze.compress.ledger.CanonicalJson;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What mattered in a sweep: for each swept setting, the mean validation accuracy of the trials at each of its
 * values, and the spread (highest mean minus lowest), settings ranked by spread.
 *
 * <p>Validation accuracy, not test: choosing settings by the test set would make its number a biased estimate.
 * A failed trial has no accuracy; it is counted per value, and left out of the means.
 *
 * <p>Effect labels, by spread in accuracy points: {@link Effect#HIGH} from {@value #HIGH_POINTS},
 * {@link Effect#MEDIUM} from {@value #MEDIUM_POINTS}, {@link Effect#LOW} below. Why these: an accuracy near 90%
 * measured on Fashion-MNIST's 6,000 validation examples has a standard error of about 0.4 points, so a spread
 * under half a point is within noise, and two points is several standard errors (on a small validation set, such
 * as the 200 examples of the test fixture, one example is already 0.5 points: read Low and Medium with care).
 *
 * @param rows   one per swept setting, ranked: largest spread first, unmeasured settings last, ties in grid order
 * @param best   the trial with the highest validation accuracy (the first on a tie), or null when none finished
 * @param notes  settings whose effect could not be measured, and why
 * @param trials how many trials the table is over
 * @param failed how many of them failed
 */
public record SensitivityTable(List<Row> rows, TrialOutcome best, List<String> notes, int trials, int failed) {

    /** A spread of at least this many accuracy points is {@link Effect#HIGH}. */
    public static final double HIGH_POINTS = 2.0;
    /** A spread of at least this many accuracy points is {@link Effect#MEDIUM}. */
    public static final double MEDIUM_POINTS = 0.5;

    /** How much a setting moved validation accuracy. */
    public enum Effect {
        HIGH("High"), MEDIUM("Medium"), LOW("Low"),
        /** Fewer than two of its values have a finished trial. */
        UNMEASURED("-");

        private final String label;

        Effect(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        /** The effect of a spread given as a fraction of accuracy (null: unmeasured). */
        public static Effect of(Double spread) {
            if (spread == null) return UNMEASURED;
            // Rounded to a billionth of a point, so 0.90 - 0.88 counts as the 2 points it is in decimal.
            double points = Math.round(100 * spread * 1e9) / 1e9;
            return points >= HIGH_POINTS ? HIGH : points >= MEDIUM_POINTS ? MEDIUM : LOW;
        }
    }

    /**
     * One value of a setting.
     *
     * @param meanValAcc mean validation accuracy of its finished trials, or null when none finished
     * @param trials     its finished trials
     * @param failed     its failed trials
     */
    public record Level(String value, Double meanValAcc, int trials, int failed) {
    }

    /**
     * One swept setting.
     *
     * @param spread highest minus lowest mean validation accuracy (a fraction), or null when fewer than two
     *               values have a finished trial
     */
    public record Row(String key, List<Level> levels, Double spread, Effect effect) {
        public Row {
            levels = List.copyOf(levels);
        }
    }

    public SensitivityTable {
        rows = List.copyOf(rows);
        notes = List.copyOf(notes);
    }

    /**
     * The table of {@code outcomes} over {@code grid}.
     *
     * @param grid     each swept key with its values, as {@link SweepGrid#values()} gives them
     * @param outcomes the trials, whose settings use the same keys and value texts
     */
    public static SensitivityTable of(Map<String, List<String>> grid, List<TrialOutcome> outcomes) {
        List<Row> rows = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (Map.Entry<String, List<String>> entry : grid.entrySet()) {
            String key = entry.getKey();
            List<Level> levels = new ArrayList<>();
            for (String value : entry.getValue()) levels.add(level(key, value, outcomes));
            Double spread = spread(levels);
            rows.add(new Row(key, levels, spread, Effect.of(spread)));
            if (entry.getValue().size() == 1) {
                notes.add(key + " had one value (" + entry.getValue().get(0) + "): its effect is not measured");
            } else if (spread == null) {
                notes.add(key + ": fewer than two of its values have a finished trial, so its effect is not measured");
            }
        }
        // A stable sort keeps grid order among equal spreads and among the unmeasured.
        rows.sort(Comparator.comparing(Row::spread, Comparator.nullsLast(Comparator.reverseOrder())));
        TrialOutcome best = null;
        for (TrialOutcome outcome : outcomes) {
            if (outcome.succeeded() && outcome.valAcc() != null && (best == null || outcome.valAcc() > best.valAcc())) {
                best = outcome;
            }
        }
        int failed = (int) outcomes.stream().filter(o -> !o.succeeded()).count();
        return new SensitivityTable(rows, best, notes, outcomes.size(), failed);
    }

    private static Level level(String key, String value, List<TrialOutcome> outcomes) {
        double sum = 0;
        int finished = 0;
        int failed = 0;
        for (TrialOutcome outcome : outcomes) {
            if (!value.equals(outcome.trial().settings().get(key))) continue;
            if (outcome.succeeded() && outcome.valAcc() != null) {
                sum += outcome.valAcc();
                finished++;
            } else {
                failed++;
            }
        }
        return new Level(value, finished == 0 ? null : sum / finished, finished, failed);
    }

    private static Double spread(List<Level> levels) {
        List<Double> means = levels.stream().map(Level::meanValAcc).filter(Objects::nonNull).toList();
        if (means.size() < 2) return null;
        return means.stream().mapToDouble(Double::doubleValue).max().orElseThrow()
                - means.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    }

    /**
     * The table as text: one line per value under its setting's rank, spread and effect; then the best trial, the
     * notes and what the effect labels mean.
     */
    public String format() {
        List<String[]> lines = new ArrayList<>();
        lines.add(new String[]{"RANK", "SETTING", "SPREAD", "EFFECT", "VALUE", "MEAN VAL", "TRIALS"});
        for (int r = 0; r < rows.size(); r++) {
            Row row = rows.get(r);
            for (int l = 0; l < row.levels().size(); l++) {
                Level level = row.levels().get(l);
                boolean first = l == 0;
                lines.add(new String[]{first ? String.valueOf(r + 1) : "", first ? row.key() : "",
                        first ? points(row.spread()) : "", first ? row.effect().label() : "", level.value(),
                        percent(level.meanValAcc()),
                        level.trials() + (level.failed() > 0 ? " + " + level.failed() + " failed" : "")});
            }
        }
        boolean[] right = {true, false, true, false, false, true, false};
        StringBuilder out = new StringBuilder();
        out.append(FixedWidthTable.format(lines, right));
        out.append('\n');
        if (best == null) {
            out.append("best    no trial finished\n");
        } else {
            out.append(String.format(Locale.ROOT, "best    run %s  val %s  %s%n", best.runId(), percent(best.valAcc()),
                    best.trial().label()));
        }
        for (String note : notes) out.append("note    ").append(note).append('\n');
        out.append(String.format(Locale.ROOT, "effect  spread of mean validation accuracy across a setting's values: "
                + "High >= %s points, Medium >= %s, Low below%n", CanonicalJson.write(HIGH_POINTS),
                CanonicalJson.write(MEDIUM_POINTS)));
        return out.toString();
    }

    /** The table as JSON-ready values (accuracies and spreads stay fractions), for {@link SweepOutcome#json()}. */
    public Map<String, Object> toJson() {
        List<Object> settings = new ArrayList<>();
        for (int r = 0; r < rows.size(); r++) {
            Row row = rows.get(r);
            List<Object> values = new ArrayList<>();
            for (Level level : row.levels()) {
                Map<String, Object> v = new LinkedHashMap<>();
                v.put("value", level.value());
                v.put("mean_val_acc", level.meanValAcc());
                v.put("trials", level.trials());
                v.put("failed", level.failed());
                values.add(v);
            }
            Map<String, Object> setting = new LinkedHashMap<>();
            setting.put("rank", r + 1);
            setting.put("key", row.key());
            setting.put("spread", row.spread());
            setting.put("effect", row.effect().name().toLowerCase(Locale.ROOT));
            setting.put("values", values);
            settings.add(setting);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("settings", settings);
        if (best == null) {
            json.put("best", null);
        } else {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("run_id", best.runId());
            b.put("val_acc", best.valAcc());
            b.put("settings", best.trial().settings());
            json.put("best", b);
        }
        json.put("notes", notes);
        return json;
    }

    /** The table as one JSON object. */
    public String json() {
        StringBuilder out = new StringBuilder();
        CanonicalJson.appendObject(out, toJson());
        return out.append('\n').toString();
    }

    static String percent(Double fraction) {
        return fraction == null ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
    }

    private static String points(Double spread) {
        return spread == null ? "-" : String.format(Locale.ROOT, "%.2f pts", 100 * spread);
    }
}
