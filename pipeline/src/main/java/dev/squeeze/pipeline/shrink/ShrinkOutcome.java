package dev.squeeze.pipeline.shrink;

import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.report.FixedWidthTable;
import dev.squeeze.core.settings.SettingSpec;
import dev.squeeze.serve.bench.BenchmarkResult;
import dev.squeeze.serve.report.ParetoPoint;
import dev.squeeze.serve.report.ParetoReport;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * What a {@code squeeze shrink} search found: the dense float model, every candidate in the order measured, which
 * one was chosen (the smallest or fastest within the budget, by validation accuracy; none when no candidate is within
 * it), and the notes on what was skipped or stopped early. {@link #delivery} says where the chosen model was written
 * and how it and the dense model benchmarked at the end; it is not part of the stored search.
 *
 * @param chosen  the chosen candidate's number, or null when none is within the budget
 * @param report  the folder of the report page
 * @param seconds wall time of the search (of the run that finished it, when it was resumed)
 */
public record ShrinkOutcome(String searchId, String trainRun, String model, double budget, ShrinkTarget target,
                            Candidate dense, List<Candidate> candidates, Integer chosen, List<String> notes,
                            String report, double seconds, Delivery delivery) {

    /**
     * The chosen model written out and benchmarked beside the dense float model, on this machine now.
     *
     * @param file   the chosen model in the search's folder ({@code chosen/model.onnx}, a serving layout)
     * @param output where it was also copied ({@code --output}), or null
     */
    public record Delivery(String file, String output, BenchmarkResult chosen, BenchmarkResult dense) {
    }

    public ShrinkOutcome {
        candidates = List.copyOf(candidates);
        notes = List.copyOf(notes);
    }

    public ShrinkOutcome withDelivery(Delivery d) {
        return new ShrinkOutcome(searchId, trainRun, model, budget, target, dense, candidates, chosen, notes, report,
                seconds, d);
    }

    /** The chosen candidate, or null. */
    public Candidate chosenCandidate() {
        return chosen == null ? null : candidates.stream().filter(c -> c.number() == chosen).findFirst().orElseThrow();
    }

    /**
     * The candidate chosen among {@code candidates}: within the budget, the least cost under {@code target}, then the
     * higher validation accuracy, then the earlier (cheaper to make); null when none is within the budget. Test
     * accuracy plays no part.
     */
    static Candidate choose(List<Candidate> candidates, ShrinkTarget target) {
        Candidate best = null;
        for (Candidate c : candidates) {
            if (!c.withinBudget()) continue;
            if (best == null || c.cost(target) < best.cost(target)
                    || (c.cost(target) == best.cost(target) && c.valAcc() > best.valAcc())) {
                best = c;
            }
        }
        return best;
    }

    /** Every model as a point of the trade-off plots, validation accuracy on the y axis. */
    public List<ParetoPoint> points() {
        List<ParetoPoint> out = new ArrayList<>();
        out.add(point(dense, "dense " + dense.variant()));
        for (Candidate c : candidates) out.add(point(c, "#" + c.number() + " " + c.describe()));
        return out;
    }

    private static ParetoPoint point(Candidate c, String name) {
        return new ParetoPoint(name, c.kind() + " " + c.variant(), c.fileBytes(), c.zippedBytes(), c.params(),
                c.nonzeroParams(), c.latencyP50Micros(), c.latencyP99Micros(), Double.NaN, c.valAcc(), c.file(), null,
                null);
    }

    /**
     * The table: the dense model, then every candidate with its size, accuracies, latency, whether it is on the
     * frontier of validation accuracy against size and against latency, and whether it is within the budget; then
     * the choice, the notes and where things are.
     */
    public String format() {
        List<ParetoPoint> points = points();
        Set<ParetoPoint> bySize = frontier(points, ParetoReport.FILE_KB);
        Set<ParetoPoint> byLatency = frontier(points, ParetoReport.LATENCY_P50);
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "shrink %s: %s from run %s; budget %s points "
                        + "of validation accuracy below the dense model, smallest %s%n%n", searchId, model, trainRun,
                SettingSpec.number(budget), target == ShrinkTarget.SIZE ? "file" : "latency"));
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"#", "MODEL", "VARIANT", "FILE", "SMALLER", "VAL ACC", "VS DENSE", "TEST ACC", "P50 BATCH 1",
                "FRONTIER", "BUDGET", ""});
        List<Candidate> all = new ArrayList<>();
        all.add(dense);
        all.addAll(candidates);
        for (int i = 0; i < all.size(); i++) {
            Candidate c = all.get(i);
            ParetoPoint p = points.get(i);
            String frontier = bySize.contains(p) && byLatency.contains(p) ? "size, latency"
                    : bySize.contains(p) ? "size" : byLatency.contains(p) ? "latency" : "";
            rows.add(new String[]{c.number() == 0 ? "dense" : Integer.toString(c.number()), c.source(), c.variant(),
                    Candidate.kb(c.fileBytes()),
                    String.format(Locale.ROOT, "%.1fx", (double) dense.fileBytes() / c.fileBytes()),
                    pct(c.valAcc()), c.number() == 0 ? "" : String.format(Locale.ROOT, "%+.2f", 100 * (c.valAcc() - dense.valAcc())),
                    pct(c.testAcc()), String.format(Locale.ROOT, "%.1f us", c.latencyP50Micros()), frontier,
                    c.number() == 0 ? "" : c.withinBudget() ? "within" : "over",
                    chosen != null && c.number() == chosen ? "<- chosen" : ""});
        }
        out.append(FixedWidthTable.format(rows, new boolean[]{true, false, false, true, true, true, true, true, true, false,
                false, false})).append(System.lineSeparator());
        out.append("frontier: no other model is at least as accurate on validation and at least as small (or fast), "
                + "and better in one").append(System.lineSeparator());
        Candidate c = chosenCandidate();
        if (c == null) {
            Candidate closest = candidates.stream().max((a, b) -> Double.compare(a.valAcc(), b.valAcc())).orElse(null);
            out.append(String.format(Locale.ROOT, "chosen  none: no candidate is within %s points of the dense model's "
                    + "validation accuracy (%s)%s; give a larger --budget, or more --levels or --try kinds%n",
                    SettingSpec.number(budget), pct(dense.valAcc()), closest == null ? ""
                            : String.format(Locale.ROOT, "; the closest, #%d %s, loses %.2f", closest.number(),
                            closest.describe(), 100 * (dense.valAcc() - closest.valAcc()))));
        } else {
            out.append(String.format(Locale.ROOT, "chosen  #%d %s: %s raw, %.1fx smaller than the dense float file; "
                            + "validation %s (%+.2f points), test %s (%+.2f points against %s)%n", c.number(), c.describe(),
                    Candidate.kb(c.fileBytes()), (double) dense.fileBytes() / c.fileBytes(), pct(c.valAcc()),
                    100 * (c.valAcc() - dense.valAcc()), pct(c.testAcc()), 100 * (c.testAcc() - dense.testAcc()),
                    pct(dense.testAcc())));
        }
        for (String note : notes) out.append("note    ").append(note).append(System.lineSeparator());
        if (delivery != null) {
            out.append("model   ").append(delivery.file())
                    .append(delivery.output() == null ? "" : " (copied to " + delivery.output() + ")")
                    .append(System.lineSeparator());
            out.append(bench("bench   chosen", delivery.chosen())).append(bench("        dense float", delivery.dense()));
        }
        out.append("report  ").append(report).append("/").append(ParetoReport.INDEX_FILE).append(System.lineSeparator());
        out.append(String.format(Locale.ROOT, "runs    'squeeze runs --sweep %s' lists the search's runs; %.0f s%n",
                searchId, seconds));
        return out.toString();
    }

    private static String bench(String label, BenchmarkResult b) {
        if (b == null) return "";
        return String.format(Locale.ROOT, "%s: %s raw, test %s, p50 %.1f us at batch 1, %s/s at batch 256%n", label,
                Candidate.kb(b.fileBytes()), b.accuracy() == null ? "-" : pct(b.accuracy()), b.latencyP50Micros(),
                b.throughputBatch256() == null ? "-" : String.format(Locale.ROOT, "%,.0f", b.throughputBatch256()));
    }

    private static Set<ParetoPoint> frontier(List<ParetoPoint> points, ToDoubleFunction<ParetoPoint> cost) {
        Set<ParetoPoint> out = Collections.newSetFromMap(new IdentityHashMap<>());
        out.addAll(ParetoReport.frontier(points, cost));
        return out;
    }

    /** The candidates as CSV, one row each, the dense model first. */
    public String csv() {
        StringBuilder out = new StringBuilder("number,kind,model,variant,file_bytes,zipped_bytes,params,nonzero_params,"
                + "val_acc,test_acc,latency_p50_us,within_budget,chosen,export_run,file\n");
        List<Candidate> all = new ArrayList<>();
        all.add(dense);
        all.addAll(candidates);
        for (Candidate c : all) {
            out.append(String.format(Locale.ROOT, "%d,%s,\"%s\",%s,%d,%d,%d,%d,%.6f,%.6f,%.2f,%s,%s,%s,%s%n", c.number(),
                    c.kind(), c.source(), c.variant(), c.fileBytes(), c.zippedBytes(), c.params(), c.nonzeroParams(),
                    c.valAcc(), c.testAcc(), c.latencyP50Micros(), c.number() == 0 || c.withinBudget(),
                    chosen != null && c.number() == chosen, c.exportRun(), c.file()));
        }
        return out.toString();
    }

    public String json() {
        return Json.write(this);
    }

    private static String pct(double fraction) {
        return String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
    }
}
