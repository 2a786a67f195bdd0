package dev.squeeze.serve.report;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * The accuracy / size / latency trade-off of a set of model variants, for picking one: the Pareto frontiers, two SVG
 * scatter plots (accuracy against file size and against latency) and an offline HTML page with both plots and a table
 * of every variant. Plain Java: no JavaScript, no external fonts or links; the same input gives the same bytes.
 *
 * <p>Units: accuracy is plotted and listed in percent ({@link ParetoPoint#accuracy()} is a fraction); sizes in KB,
 * 1 KB = 1024 bytes; latencies in microseconds. The size plot uses the file size on disk ({@code fileBytes}), the
 * latency plot the p50 latency at batch size 1 ({@code latencyP50Micros}). An x axis is logarithmic when all its values
 * are positive and the largest is at least 10 times the smallest.
 *
 * <p>The y axis is accuracy; for a set of variants none of which has accuracy (models without a labelled test set), it
 * is their fidelity to the float model they were quantized from, when they have one ({@link Quality}): then the plots,
 * the frontiers and the page say so, and the float model is the reference at 100%.
 */
public final class ParetoReport {
    /** File names {@link #write} creates. */
    public static final String INDEX_FILE = "index.html";
    public static final String SIZE_SVG_FILE = "accuracy-vs-size.svg";
    public static final String LATENCY_SVG_FILE = "accuracy-vs-latency.svg";
    public static final String POINTS_FILE = "points.json";

    /** Cost of the size frontier and x of the size plot: file size on disk in KB; NaN when unknown (negative). */
    public static final ToDoubleFunction<ParetoPoint> FILE_KB =
            p -> p.fileBytes() < 0 ? Double.NaN : p.fileBytes() / 1024.0;
    /** Cost of the latency frontier and x of the latency plot: p50 latency at batch 1 in µs; NaN when unknown. */
    public static final ToDoubleFunction<ParetoPoint> LATENCY_P50 =
            p -> p.latencyP50Micros() < 0 ? Double.NaN : p.latencyP50Micros();

    static final String SIZE_X_LABEL = "file size on disk (KB)";
    static final String LATENCY_X_LABEL = "latency p50, batch 1 (\u00b5s)";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();
    private static final TypeReference<List<ParetoPoint>> POINT_LIST = new TypeReference<>() {
    };

    // SVG layout.
    static final int WIDTH = 640;
    static final int HEIGHT = 420;
    private static final double LEFT = 70;
    private static final double RIGHT = 620;
    private static final double TOP = 56;
    private static final double BOTTOM = 360;
    private static final double RADIUS = 5;
    private static final double FONT = 11;
    /** Estimated width of one character of an 11 px sans-serif label (a little wide, to be safe). */
    private static final double CHAR_W = 6.4;
    private static final int MAX_LABEL_CHARS = 28;

    private static final String FRONTIER_COLOUR = "#d62728";
    private static final String DOMINATED_COLOUR = "#4c78a8";
    private static final String UNKNOWN_COLOUR = "#999999";
    private static final String GRID_COLOUR = "#e6e6e6";
    private static final String AXIS_COLOUR = "#333333";

    private ParetoReport() {
    }

    /**
     * What the y axis and the frontiers of a set of points measure: test accuracy when any point has it; otherwise
     * fidelity to the float model ({@link ParetoPoint#fidelity()}) when any point has it; accuracy when none has
     * either. A point without the chosen number is listed but never on a frontier, and drawn on the x axis.
     */
    public enum Quality {
        ACCURACY("Accuracy", "accuracy", "accuracy (%)", ParetoPoint::accuracy),
        FIDELITY("Fidelity to float", "fidelity to float", "fidelity to float (%: cosine or top-1)", ParetoPoint::fidelity);

        /** For plot titles: {@code Accuracy vs file size}. */
        public final String title;
        /** In a sentence: {@code accuracy unknown}. */
        public final String noun;
        /** The y axis title with its unit. */
        public final String axisLabel;
        private final Function<ParetoPoint, Double> value;

        Quality(String title, String noun, String axisLabel, Function<ParetoPoint, Double> value) {
            this.title = title;
            this.noun = noun;
            this.axisLabel = axisLabel;
            this.value = value;
        }

        /** The point's value on this axis, a fraction (plotted in percent), or null. */
        public Double value(ParetoPoint p) {
            return value.apply(p);
        }

        /** The axis for {@code points}. */
        public static Quality of(List<ParetoPoint> points) {
            if (points.stream().anyMatch(p -> p.accuracy() != null)) return ACCURACY;
            return points.stream().anyMatch(p -> p.fidelity() != null) ? FIDELITY : ACCURACY;
        }
    }

    // ---------------------------------------------------------------------------------------------------- frontier

    /** {@link #frontier(List, ToDoubleFunction, Quality)} on the points' own axis, {@link Quality#of}. */
    public static List<ParetoPoint> frontier(List<ParetoPoint> points, ToDoubleFunction<ParetoPoint> cost) {
        Objects.requireNonNull(points, "points");
        return frontier(points, cost, Quality.of(points));
    }

    /**
     * The points no other point beats: higher accuracy (or whatever {@code quality} measures) and lower cost are
     * better, and a point is dominated when another has accuracy {@code >=} and cost {@code <=}, at least one of them
     * strictly. Points without accuracy, or whose cost is NaN or infinite, are never on the frontier (and dominate
     * nothing). Points with equal accuracy and equal cost do not dominate each other, so both stay. The result is
     * sorted by cost, then accuracy (higher first), then name, kind and source, so it does not depend on the order of
     * {@code points}.
     */
    public static List<ParetoPoint> frontier(List<ParetoPoint> points, ToDoubleFunction<ParetoPoint> cost,
                                             Quality quality) {
        Objects.requireNonNull(points, "points");
        Objects.requireNonNull(cost, "cost");
        Objects.requireNonNull(quality, "quality");
        List<ParetoPoint> candidates = new ArrayList<>();
        List<Double> costs = new ArrayList<>();
        for (ParetoPoint p : points) {
            Objects.requireNonNull(p, "a point is null");
            if (quality.value(p) == null) continue;
            double c = cost.applyAsDouble(p);
            if (!Double.isFinite(c)) continue;
            candidates.add(p);
            costs.add(c);
        }
        List<ParetoPoint> out = new ArrayList<>();
        Map<ParetoPoint, Double> costOf = new IdentityHashMap<>();
        for (int i = 0; i < candidates.size(); i++) {
            ParetoPoint p = candidates.get(i);
            double pa = quality.value(p);
            double pc = costs.get(i);
            boolean dominated = false;
            for (int j = 0; j < candidates.size() && !dominated; j++) {
                if (i == j) continue;
                double qa = quality.value(candidates.get(j));
                double qc = costs.get(j);
                dominated = qa >= pa && qc <= pc && (qa > pa || qc < pc);
            }
            if (!dominated) {
                out.add(p);
                costOf.put(p, pc);
            }
        }
        out.sort(Comparator.<ParetoPoint>comparingDouble(costOf::get)
                .thenComparing(quality::value, Comparator.reverseOrder())
                .thenComparing(ParetoPoint::name)
                .thenComparing(ParetoPoint::kind, Comparator.nullsFirst(Comparator.naturalOrder()))
                .thenComparing(ParetoPoint::source, Comparator.nullsFirst(Comparator.naturalOrder())));
        return out;
    }

    // --------------------------------------------------------------------------------------------------------- SVG

    /**
     * A self-contained SVG scatter plot ({@value #WIDTH} x {@value #HEIGHT}) of accuracy (y, in %; the points'
     * {@link Quality}) against
     * {@code x}: one circle per point, labelled with its name. Frontier points (by {@link #frontier} with {@code x} as
     * the cost) are filled red, have class {@code "point frontier"} and are joined by a step line in cost order; the
     * others have class {@code "point dominated"}. Points without accuracy are drawn hollow and grey on the x axis
     * (class {@code "point unknown"}). Points whose x is NaN or infinite (or not positive when {@code logX}) cannot be
     * placed: they are left out and counted in a note. With nothing to place the plot says "no data".
     *
     * @param xLabel the x axis title with its unit, e.g. "file size on disk (KB)"
     * @param x      the x value of a point, in the unit of {@code xLabel}
     * @param logX   a logarithmic x axis
     */
    public static String scatterSvg(String title, String xLabel, List<ParetoPoint> points,
                                    ToDoubleFunction<ParetoPoint> x, boolean logX) {
        Objects.requireNonNull(points, "points");
        Objects.requireNonNull(x, "x");
        String t = title == null ? "" : title;
        String xl = xLabel == null ? "" : xLabel;
        Quality quality = Quality.of(points);

        List<ParetoPoint> shown = new ArrayList<>();
        Map<ParetoPoint, Double> xOf = new IdentityHashMap<>();
        int hidden = 0;
        for (ParetoPoint p : points) {
            Objects.requireNonNull(p, "a point is null");
            double v = x.applyAsDouble(p);
            if (Double.isFinite(v) && (!logX || v > 0)) {
                shown.add(p);
                xOf.put(p, v);
            } else {
                hidden++;
            }
        }

        StringBuilder s = new StringBuilder(8192);
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"")
                .append(HEIGHT).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(HEIGHT)
                .append("\" font-family=\"sans-serif\" font-size=\"").append(fmt(FONT)).append("\" role=\"img\"")
                .append(" aria-label=\"").append(esc(t)).append("\">\n");
        s.append("<title>").append(esc(t)).append("</title>\n");
        s.append("<rect x=\"0\" y=\"0\" width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT)
                .append("\" fill=\"#ffffff\"/>\n");
        text(s, WIDTH / 2.0, 24, "middle", t, "font-size=\"15\" font-weight=\"bold\"");
        text(s, (LEFT + RIGHT) / 2, 398, "middle", xl, null);
        s.append("<text x=\"18\" y=\"").append(fmt((TOP + BOTTOM) / 2)).append("\" text-anchor=\"middle\"")
                .append(" transform=\"rotate(-90 18 ").append(fmt((TOP + BOTTOM) / 2)).append(")\">").append(esc(quality.axisLabel)).append("</text>\n");

        if (shown.isEmpty()) {
            s.append("<rect class=\"plot-area\" x=\"").append(fmt(LEFT)).append("\" y=\"").append(fmt(TOP))
                    .append("\" width=\"").append(fmt(RIGHT - LEFT)).append("\" height=\"").append(fmt(BOTTOM - TOP))
                    .append("\" fill=\"none\" stroke=\"").append(AXIS_COLOUR).append("\"/>\n");
            text(s, (LEFT + RIGHT) / 2, (TOP + BOTTOM) / 2, "middle", "no data",
                    "class=\"no-data\" font-size=\"16\" fill=\"#666666\"");
            hiddenNote(s, hidden);
            s.append("</svg>\n");
            return s.toString();
        }

        double[] xs = new double[shown.size()];
        List<Double> accs = new ArrayList<>();
        for (int i = 0; i < shown.size(); i++) {
            xs[i] = xOf.get(shown.get(i));
            Double q = quality.value(shown.get(i));
            if (q != null) accs.add(q * 100);
        }
        Axis xa = logX ? logAxis(xs) : linearAxis(xs, 6, false);
        Axis ya = accs.isEmpty() ? new Axis(0, 100, false, ticks(0, 100, 20), 20)
                : linearAxis(accs.stream().mapToDouble(Double::doubleValue).toArray(), 5, true);

        // Grid, ticks and axes.
        for (double v : xa.ticks) {
            double px = px(xa, v);
            s.append("<line x1=\"").append(fmt(px)).append("\" y1=\"").append(fmt(TOP)).append("\" x2=\"")
                    .append(fmt(px)).append("\" y2=\"").append(fmt(BOTTOM)).append("\" stroke=\"").append(GRID_COLOUR)
                    .append("\"/>\n");
            s.append("<line x1=\"").append(fmt(px)).append("\" y1=\"").append(fmt(BOTTOM)).append("\" x2=\"")
                    .append(fmt(px)).append("\" y2=\"").append(fmt(BOTTOM + 5)).append("\" stroke=\"")
                    .append(AXIS_COLOUR).append("\"/>\n");
            text(s, px, BOTTOM + 18, "middle", xa.label(v), "class=\"tick\"");
        }
        for (double v : ya.ticks) {
            double py = py(ya, v);
            s.append("<line x1=\"").append(fmt(LEFT)).append("\" y1=\"").append(fmt(py)).append("\" x2=\"")
                    .append(fmt(RIGHT)).append("\" y2=\"").append(fmt(py)).append("\" stroke=\"").append(GRID_COLOUR)
                    .append("\"/>\n");
            s.append("<line x1=\"").append(fmt(LEFT - 5)).append("\" y1=\"").append(fmt(py)).append("\" x2=\"")
                    .append(fmt(LEFT)).append("\" y2=\"").append(fmt(py)).append("\" stroke=\"").append(AXIS_COLOUR)
                    .append("\"/>\n");
            text(s, LEFT - 8, py + 4, "end", ya.label(v), "class=\"tick\"");
        }
        s.append("<path class=\"axes\" d=\"M").append(fmt(LEFT)).append(' ').append(fmt(TOP)).append(" V")
                .append(fmt(BOTTOM)).append(" H").append(fmt(RIGHT)).append("\" fill=\"none\" stroke=\"")
                .append(AXIS_COLOUR).append("\"/>\n");

        // Positions.
        List<ParetoPoint> front = frontier(shown, xOf::get, quality);
        Set<ParetoPoint> onFront = Collections.newSetFromMap(new IdentityHashMap<>());
        onFront.addAll(front);
        Map<ParetoPoint, double[]> pos = new IdentityHashMap<>();
        for (ParetoPoint p : shown) {
            Double q = quality.value(p);
            double cy = q == null ? BOTTOM : py(ya, q * 100);
            pos.put(p, new double[]{px(xa, xOf.get(p)), cy});
        }

        // Frontier step line: best accuracy available within each cost.
        if (!front.isEmpty()) {
            StringBuilder d = new StringBuilder();
            for (int i = 0; i < front.size(); i++) {
                double[] c = pos.get(front.get(i));
                if (i == 0) {
                    d.append('M').append(fmt(c[0])).append(' ').append(fmt(c[1]));
                } else {
                    d.append(" H").append(fmt(c[0])).append(" V").append(fmt(c[1]));
                }
            }
            s.append("<path class=\"frontier-line\" d=\"").append(d).append("\" fill=\"none\" stroke=\"")
                    .append(FRONTIER_COLOUR).append("\" stroke-width=\"1.5\"/>\n");
        }

        // Circles: dominated and unknown first, frontier on top.
        List<ParetoPoint> order = new ArrayList<>();
        for (ParetoPoint p : shown) if (!onFront.contains(p)) order.add(p);
        order.addAll(front);
        for (ParetoPoint p : order) {
            double[] c = pos.get(p);
            String cls;
            String style;
            if (onFront.contains(p)) {
                cls = "point frontier";
                style = "fill=\"" + FRONTIER_COLOUR + "\" stroke=\"" + FRONTIER_COLOUR + "\"";
            } else if (quality.value(p) == null) {
                cls = "point unknown";
                style = "fill=\"#ffffff\" stroke=\"" + UNKNOWN_COLOUR + "\" stroke-dasharray=\"2 2\"";
            } else {
                cls = "point dominated";
                style = "fill=\"#ffffff\" stroke=\"" + DOMINATED_COLOUR + "\" stroke-width=\"1.5\"";
            }
            s.append("<circle class=\"").append(cls).append("\" cx=\"").append(fmt(c[0])).append("\" cy=\"")
                    .append(fmt(c[1])).append("\" r=\"").append(fmt(RADIUS)).append("\" ").append(style).append('>');
            s.append("<title>").append(esc(p.name() + (p.kind() == null ? "" : " (" + p.kind() + ")") + ": "
                    + xl + " " + compact(xOf.get(p)) + ", " + quality.noun + " "
                    + (quality.value(p) == null ? "unknown" : pct(quality.value(p))))).append("</title></circle>\n");
        }

        // Labels, frontier first so they get the best places.
        List<Box> taken = new ArrayList<>();
        for (int i = 1; i < front.size(); i++) { // the step line's segments, so labels stay off it
            double[] a = pos.get(front.get(i - 1));
            double[] b = pos.get(front.get(i));
            taken.add(new Box(Math.min(a[0], b[0]), a[1] - 1, Math.max(a[0], b[0]), a[1] + 1));
            taken.add(new Box(b[0] - 1, Math.min(a[1], b[1]), b[0] + 1, Math.max(a[1], b[1])));
        }
        List<ParetoPoint> labelOrder = new ArrayList<>(front);
        List<ParetoPoint> rest = new ArrayList<>();
        for (ParetoPoint p : shown) if (!onFront.contains(p)) rest.add(p);
        rest.sort(Comparator.<ParetoPoint>comparingDouble(p -> quality.value(p) == null ? -1 : quality.value(p))
                .reversed()
                .thenComparingDouble(xOf::get)
                .thenComparing(ParetoPoint::name));
        labelOrder.addAll(rest);
        for (ParetoPoint p : labelOrder) {
            double[] c = pos.get(p);
            String label = truncate(p.name());
            Placement at = place(c[0], c[1], label.codePointCount(0, label.length()), p, pos, taken);
            taken.add(at.box);
            String cls = onFront.contains(p) ? "label frontier" : "label";
            text(s, at.x, at.y, at.anchor, label, "class=\"" + cls + "\""
                    + (onFront.contains(p) ? " font-weight=\"bold\"" : "") + " fill=\"#222222\"");
        }

        legend(s, shown.stream().anyMatch(p -> quality.value(p) == null) ? quality.noun : null);
        hiddenNote(s, hidden);
        s.append("</svg>\n");
        return s.toString();
    }

    /** @param unknown what is unknown of the points drawn on the x axis ({@link Quality#noun}), or null when none is */
    private static void legend(StringBuilder s, String unknown) {
        double y = 42;
        double x = LEFT;
        s.append("<g class=\"legend\">\n");
        s.append("<line x1=\"").append(fmt(x)).append("\" y1=\"").append(fmt(y)).append("\" x2=\"")
                .append(fmt(x + 18)).append("\" y2=\"").append(fmt(y)).append("\" stroke=\"").append(FRONTIER_COLOUR)
                .append("\" stroke-width=\"1.5\"/>\n");
        marker(s, x + 9, y, "fill=\"" + FRONTIER_COLOUR + "\"");
        String a = "Pareto frontier";
        text(s, x + 24, y + 4, "start", a, null);
        x += 24 + a.length() * CHAR_W + 18;
        marker(s, x + 4, y, "fill=\"#ffffff\" stroke=\"" + DOMINATED_COLOUR + "\" stroke-width=\"1.5\"");
        String b = "dominated";
        text(s, x + 12, y + 4, "start", b, null);
        x += 12 + b.length() * CHAR_W + 18;
        if (unknown != null) {
            marker(s, x + 4, y, "fill=\"#ffffff\" stroke=\"" + UNKNOWN_COLOUR + "\" stroke-dasharray=\"2 2\"");
            text(s, x + 12, y + 4, "start", unknown + " unknown (on the x axis)", null);
        }
        s.append("</g>\n");
    }

    /** A legend marker: a round rect, so that the plot's circles are exactly its points. */
    private static void marker(StringBuilder s, double cx, double cy, String style) {
        s.append("<rect x=\"").append(fmt(cx - 4)).append("\" y=\"").append(fmt(cy - 4))
                .append("\" width=\"8\" height=\"8\" rx=\"4\" ").append(style).append("/>\n");
    }

    private static void hiddenNote(StringBuilder s, int hidden) {
        if (hidden == 0) return;
        text(s, WIDTH - 8, HEIGHT - 6, "end", hidden + (hidden == 1 ? " point" : " points")
                + " not shown: no usable x value", "class=\"note\" font-size=\"10\" fill=\"#666666\"");
    }

    private static void text(StringBuilder s, double x, double y, String anchor, String content, String extra) {
        s.append("<text x=\"").append(fmt(x)).append("\" y=\"").append(fmt(y)).append("\" text-anchor=\"")
                .append(anchor).append('"');
        if (extra != null) s.append(' ').append(extra);
        s.append('>').append(esc(content)).append("</text>\n");
    }

    // Label placement: the first candidate spot that stays inside the plot and overlaps neither another label nor
    // another circle; failing that, the first that stays inside; failing that, to the right.
    private record Box(double x0, double y0, double x1, double y1) {
        boolean overlaps(Box o) {
            return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1;
        }

        boolean inside() {
            return x0 >= LEFT + 2 && x1 <= WIDTH - 2 && y0 >= TOP - 2 && y1 <= BOTTOM + 2;
        }
    }

    private record Placement(double x, double y, String anchor, Box box) {
    }

    private static final double[][] SPOTS = {
            {8, 4}, {-8, 4}, {6, -8}, {6, 16}, {-6, -8}, {-6, 16}, {8, -18}, {8, 26}, {-8, -18}, {-8, 26},
            {8, -30}, {8, 38}, {-8, -30}, {-8, 38}};

    private static Placement place(double cx, double cy, int chars, ParetoPoint self, Map<ParetoPoint, double[]> pos,
                                   List<Box> taken) {
        double w = chars * CHAR_W;
        Placement firstInside = null;
        Placement first = null;
        for (double[] spot : SPOTS) {
            double tx = cx + spot[0];
            double ty = cy + spot[1];
            String anchor = spot[0] >= 0 ? "start" : "end";
            Box box = anchor.equals("start") ? new Box(tx, ty - 9, tx + w, ty + 3) : new Box(tx - w, ty - 9, tx, ty + 3);
            Placement p = new Placement(tx, ty, anchor, box);
            if (first == null) first = p;
            if (!box.inside()) continue;
            if (firstInside == null) firstInside = p;
            boolean clear = true;
            for (Box t : taken) {
                if (t.overlaps(box)) {
                    clear = false;
                    break;
                }
            }
            if (clear) {
                for (Map.Entry<ParetoPoint, double[]> e : pos.entrySet()) {
                    if (e.getKey() == self) continue;
                    double[] c = e.getValue();
                    if (new Box(c[0] - RADIUS, c[1] - RADIUS, c[0] + RADIUS, c[1] + RADIUS).overlaps(box)) {
                        clear = false;
                        break;
                    }
                }
            }
            if (clear) return p;
        }
        if (firstInside != null) return firstInside;
        // Nothing fits inside: to the left when the label would run off the right edge.
        if (first.box.x1 > WIDTH - 2) {
            return new Placement(cx - 8, cy + 4, "end", new Box(cx - 8 - w, cy - 5, cx - 8, cy + 7));
        }
        return first;
    }

    // Axes: a domain [lo, hi] (exponents of 10 for a log axis) and its tick values.
    private record Axis(double lo, double hi, boolean log, List<Double> ticks, double step) {
        double frac(double v) {
            double u = log ? Math.log10(v) : v;
            return (u - lo) / (hi - lo);
        }

        String label(double v) {
            return log ? compact(v) : tickLabel(v, step);
        }
    }

    private static double px(Axis a, double v) {
        return LEFT + a.frac(v) * (RIGHT - LEFT);
    }

    private static double py(Axis a, double v) {
        return BOTTOM - a.frac(v) * (BOTTOM - TOP);
    }

    /** A linear axis with about {@code n} ticks at 1, 2 or 5 times a power of 10; {@code percent} keeps it in [0, 100]. */
    private static Axis linearAxis(double[] values, int n, boolean percent) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        double lo;
        double hi;
        double span = max - min;
        if (span <= Math.abs(max) * 1e-12 || span == 0) {
            double pad = percent ? 1 : (max == 0 ? 1 : Math.abs(max) * 0.1);
            lo = min - pad;
            hi = max + pad;
        } else {
            lo = min - span * 0.06;
            hi = max + span * 0.06;
        }
        if (min >= 0 && lo < 0) lo = 0;
        double step = niceStep((hi - lo) / n);
        lo = Math.floor(lo / step) * step;
        hi = Math.ceil(hi / step) * step;
        if (percent) {
            if (min >= 0 && lo < 0) lo = 0;
            if (max <= 100 && hi > 100) hi = 100;
        }
        if (!(hi > lo)) hi = lo + step;
        return new Axis(lo, hi, false, ticks(lo, hi, step), step);
    }

    private static List<Double> ticks(double lo, double hi, double step) {
        List<Double> out = new ArrayList<>();
        long count = Math.round((hi - lo) / step);
        for (long i = 0; i <= count; i++) {
            double v = lo + i * step;
            if (v <= hi + step * 1e-9) out.add(Math.abs(v) < step * 1e-9 ? 0.0 : v);
        }
        return out;
    }

    private static double niceStep(double raw) {
        if (!(raw > 0) || !Double.isFinite(raw)) return 1;
        double exp = Math.floor(Math.log10(raw));
        double base = Math.pow(10, exp);
        double f = raw / base;
        double nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
        return nice * base;
    }

    /** A log axis covering at least one decade; ticks at powers of 10, and at 2 and 5 times them over few decades. */
    private static Axis logAxis(double[] values) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            min = Math.min(min, Math.log10(v));
            max = Math.max(max, Math.log10(v));
        }
        double span = max - min;
        double pad = span < 1 ? (1 - span) / 2 + 0.05 : span * 0.05;
        double lo = min - pad;
        double hi = max + pad;
        int first = (int) Math.floor(lo);
        int last = (int) Math.ceil(hi);
        double[] mantissas = last - first <= 3 ? new double[]{1, 2, 5} : new double[]{1};
        List<Double> ticks = new ArrayList<>();
        for (int e = first; e <= last; e++) {
            for (double m : mantissas) {
                double v = m * Math.pow(10, e);
                double l = Math.log10(v);
                if (l >= lo && l <= hi) ticks.add(v);
            }
        }
        return new Axis(lo, hi, true, ticks, 0);
    }

    private static String tickLabel(double v, double step) {
        if (step >= 1e6) return trim(v / 1e6, step / 1e6) + "M";
        if (step >= 1e4) return trim(v / 1e3, step / 1e3) + "k";
        return trim(v, step);
    }

    private static String trim(double v, double step) {
        int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
        String out = String.format(Locale.ROOT, "%." + Math.min(decimals, 6) + "f", v);
        return out.startsWith("-") && Double.parseDouble(out) == 0 ? out.substring(1) : out;
    }

    /** A short number: 0.25, 3.5, 120, 12k, 1.5M. */
    private static String compact(double v) {
        double a = Math.abs(v);
        if (a >= 1e6) return stripZeros(String.format(Locale.ROOT, "%.2f", v / 1e6)) + "M";
        if (a >= 1e4) return stripZeros(String.format(Locale.ROOT, "%.1f", v / 1e3)) + "k";
        if (a >= 100) return String.format(Locale.ROOT, "%.0f", v);
        if (a >= 1) return stripZeros(String.format(Locale.ROOT, "%.2f", v));
        return stripZeros(String.format(Locale.ROOT, "%.3g", v));
    }

    private static String stripZeros(String s) {
        if (!s.contains(".") || s.contains("e")) return s;
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    private static String fmt(double v) {
        String out = String.format(Locale.ROOT, "%.1f", v);
        return out.equals("-0.0") ? "0.0" : out;
    }

    private static String truncate(String name) {
        if (name.codePointCount(0, name.length()) <= MAX_LABEL_CHARS) return name;
        int end = name.offsetByCodePoints(0, MAX_LABEL_CHARS - 1);
        return name.substring(0, end) + "\u2026";
    }

    // -------------------------------------------------------------------------------------------------------- HTML

    /**
     * One offline HTML page: the title, {@code generatedBy} (how each number was measured), accuracy against file
     * size on disk and against p50 latency at batch 1 as inline SVGs, the frontier variants, and a table of every
     * point sorted by accuracy (highest first; unknown last), then name. When any point has a fidelity to its float
     * model, the table has a column for it and the page says what it is; when none has accuracy, the plots, the
     * frontiers and the order are by fidelity ({@link Quality}). No JavaScript, no external resources; all text is
     * escaped.
     */
    public static String html(String title, List<ParetoPoint> points, String generatedBy) {
        Objects.requireNonNull(points, "points");
        String t = title == null ? "" : title;
        Quality quality = Quality.of(points);
        boolean fidelity = points.stream().anyMatch(p -> p.fidelity() != null);
        List<ParetoPoint> bySize = frontier(points, FILE_KB);
        List<ParetoPoint> byLatency = frontier(points, LATENCY_P50);
        Set<ParetoPoint> sizeFront = Collections.newSetFromMap(new IdentityHashMap<>());
        sizeFront.addAll(bySize);
        Set<ParetoPoint> latencyFront = Collections.newSetFromMap(new IdentityHashMap<>());
        latencyFront.addAll(byLatency);

        StringBuilder h = new StringBuilder(16384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(esc(t)).append("</title>\n")
                .append("<style>\n")
                .append("body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}\n")
                .append("h1{font-size:22px;margin:0 0 8px}\n")
                .append("h2{font-size:17px;margin:24px 0 8px}\n")
                .append(".method{color:#444;font-size:14px;max-width:1000px}\n")
                .append(".plots{display:flex;flex-wrap:wrap;gap:16px}\n")
                .append(".plots figure{margin:0;border:1px solid #ddd}\n")
                .append(".plots svg{display:block;max-width:100%;height:auto}\n")
                .append("table{border-collapse:collapse;font-size:13px}\n")
                .append("th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}\n")
                .append("th{background:#f4f4f4}\n")
                .append("td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n")
                .append("td.mark{text-align:center;color:").append(FRONTIER_COLOUR).append(";font-weight:bold}\n")
                .append("tr.frontier td.name{font-weight:bold}\n")
                .append("</style>\n</head>\n<body>\n");
        h.append("<h1>").append(esc(t)).append("</h1>\n");
        h.append("<p class=\"method\">How the numbers were measured: ")
                .append(esc(generatedBy == null || generatedBy.isBlank() ? "not stated" : generatedBy))
                .append("</p>\n");
        h.append("<p class=\"method\">Accuracy is in percent. Sizes are in KB (1 KB = 1024 bytes): the size plot uses "
                + "the model file's size on disk; the zipped size is listed in the table. Latency is per request of "
                + "one example (batch 1), in \u00b5s; the latency plot uses the median (p50). Throughput is examples "
                + "per second in batches of 256. A variant is on a frontier when no other variant is at least as "
                + "accurate and at least as small (or fast), and better in one of the two. A dash means not "
                + "measured.</p>\n");
        if (fidelity) {
            h.append("<p class=\"method\">Fidelity to float, for models without a labelled test set: how closely a "
                    + "quantized model's outputs follow those of the float model it was quantized from, as 'squeeze "
                    + "quantize --inputs' measured them on the user's examples: the top-1 agreement of an output of "
                    + "shape [N, classes], else the mean cosine similarity of the first output. It is not accuracy: "
                    + "the float model is the reference at 100% (cosine 1), meaning the same outputs, not always right. "
                    + (quality == Quality.FIDELITY ? "No variant here has accuracy, so the plots and frontiers use it."
                    : "Some variants here have accuracy, so the plots and frontiers use accuracy and the variants that "
                    + "only have fidelity lie on the x axis.") + "</p>\n");
        }

        h.append("<div class=\"plots\">\n<figure>\n")
                .append(scatterSvg(quality.title + " vs file size", SIZE_X_LABEL, points, FILE_KB, useLog(points, FILE_KB)))
                .append("</figure>\n<figure>\n")
                .append(scatterSvg(quality.title + " vs latency (p50, batch 1)", LATENCY_X_LABEL, points, LATENCY_P50,
                        useLog(points, LATENCY_P50)))
                .append("</figure>\n</div>\n");

        h.append("<h2>Frontier</h2>\n<ul>\n");
        h.append("<li>By file size (smallest first): ").append(names(bySize, quality)).append("</li>\n");
        h.append("<li>By latency (fastest first): ").append(names(byLatency, quality)).append("</li>\n");
        h.append("</ul>\n");

        List<ParetoPoint> rows = new ArrayList<>(points);
        rows.sort(Comparator.<ParetoPoint, Double>comparing(p -> quality.value(p) == null ? -2.0 : quality.value(p),
                        Comparator.reverseOrder())
                .thenComparing(ParetoPoint::name));
        h.append("<h2>All variants (").append(rows.size()).append(")</h2>\n");
        h.append("<table>\n<thead>\n<tr><th>name</th><th>kind</th><th>accuracy (%)</th>"
                + (fidelity ? "<th>fidelity to float</th>" : "") + "<th>file size (KB)</th><th>zipped (KB)</th><th>params</th><th>non-zero params</th><th>latency p50 (\u00b5s)</th>"
                + "<th>latency p99 (\u00b5s)</th><th>throughput, batch 256 (examples/s)</th>"
                + "<th>size frontier</th><th>latency frontier</th><th>source</th></tr>\n</thead>\n<tbody>\n");
        for (ParetoPoint p : rows) {
            boolean s = sizeFront.contains(p);
            boolean l = latencyFront.contains(p);
            h.append("<tr").append(s || l ? " class=\"frontier\"" : "").append('>');
            h.append("<td class=\"name\">").append(esc(p.name())).append("</td>");
            h.append("<td>").append(esc(p.kind() == null ? "" : p.kind())).append("</td>");
            num(h, p.accuracy() == null ? "\u2013" : String.format(Locale.ROOT, "%.2f", p.accuracy() * 100));
            if (fidelity) h.append("<td>").append(esc(p.fidelityMeasure() == null ? "\u2013" : p.fidelityMeasure())).append("</td>");
            num(h, kb(p.fileBytes()));
            num(h, kb(p.zippedBytes()));
            num(h, count(p.params()));
            String nz = count(p.nonzeroParams());
            if (p.nonzeroParams() >= 0 && p.params() > 0) {
                nz += String.format(Locale.ROOT, " (%.1f%%)", 100.0 * p.nonzeroParams() / p.params());
            }
            num(h, nz);
            num(h, decimal(p.latencyP50Micros(), 1));
            num(h, decimal(p.latencyP99Micros(), 1));
            num(h, decimal(p.throughputBatch256(), 0));
            h.append("<td class=\"mark\">").append(s ? "\u2713" : "").append("</td>");
            h.append("<td class=\"mark\">").append(l ? "\u2713" : "").append("</td>");
            h.append("<td>").append(esc(p.source() == null ? "" : p.source())).append("</td>");
            h.append("</tr>\n");
        }
        h.append("</tbody>\n</table>\n</body>\n</html>\n");
        return h.toString();
    }

    private static boolean useLog(List<ParetoPoint> points, ToDoubleFunction<ParetoPoint> x) {
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (ParetoPoint p : points) {
            double v = x.applyAsDouble(p);
            if (!Double.isFinite(v)) continue;
            if (v <= 0) return false;
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        return max > 0 && max >= 10 * min;
    }

    private static String names(List<ParetoPoint> front, Quality quality) {
        if (front.isEmpty()) return "none (no variant has both " + quality.noun + " and this number)";
        List<String> out = new ArrayList<>();
        for (ParetoPoint p : front) out.add(esc(p.name()));
        return String.join(", ", out);
    }

    private static void num(StringBuilder h, String v) {
        h.append("<td class=\"num\">").append(esc(v)).append("</td>");
    }

    private static String kb(long bytes) {
        return bytes < 0 ? "\u2013" : String.format(Locale.ROOT, "%,.1f", bytes / 1024.0);
    }

    private static String count(long n) {
        return n < 0 ? "\u2013" : String.format(Locale.ROOT, "%,d", n);
    }

    private static String decimal(double v, int decimals) {
        return !Double.isFinite(v) || v < 0 ? "\u2013" : String.format(Locale.ROOT, "%,." + decimals + "f", v);
    }

    private static String pct(double fraction) {
        return String.format(Locale.ROOT, "%.2f%%", fraction * 100);
    }

    /**
     * Escapes text for XML and HTML content and attribute values; characters XML 1.0 does not allow (most control
     * characters, lone surrogates) become U+FFFD.
     */
    static String esc(String s) {
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> {
                    if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                        out.append(c).append(s.charAt(++i));
                    } else if (Character.isSurrogate(c) || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                            || c == 0xFFFE || c == 0xFFFF) {
                        out.append('\uFFFD');
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    // ------------------------------------------------------------------------------------------------------- files

    /**
     * Writes {@value #INDEX_FILE}, {@value #SIZE_SVG_FILE}, {@value #LATENCY_SVG_FILE} and {@value #POINTS_FILE}
     * (the points as a JSON array, in the given order) into {@code dir}, creating it. Everything is rendered before
     * anything is written, and each file is written to a temporary file in {@code dir}, synced and moved into place,
     * so a file is either the old one or the whole new one; the page is moved last.
     */
    public static void write(Path dir, String title, List<ParetoPoint> points, String generatedBy) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(points, "points");
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(POINTS_FILE, JSON.writeValueAsBytes(points));
        String quality = Quality.of(points).noun;
        files.put(SIZE_SVG_FILE, utf8(scatterSvg((title == null ? "" : title + ": ") + quality + " vs file size",
                SIZE_X_LABEL, points, FILE_KB, useLog(points, FILE_KB))));
        files.put(LATENCY_SVG_FILE, utf8(scatterSvg((title == null ? "" : title + ": ")
                        + quality + " vs latency (p50, batch 1)", LATENCY_X_LABEL, points, LATENCY_P50,
                useLog(points, LATENCY_P50))));
        files.put(INDEX_FILE, utf8(html(title, points, generatedBy)));
        Files.createDirectories(dir);
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            writeAtomically(dir, f.getKey(), f.getValue());
        }
    }

    /** Reads a {@value #POINTS_FILE} that {@link #write} wrote. */
    public static List<ParetoPoint> readPoints(Path file) throws IOException {
        return JSON.readValue(file.toFile(), POINT_LIST);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void writeAtomically(Path dir, String name, byte[] bytes) throws IOException {
        Path tmp = dir.resolve("." + name + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            try {
                Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }
}
