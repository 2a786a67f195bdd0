package dev.squeeze.serve.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParetoReportTest {
    private static final long MB = 1024 * 1024;

    private static ParetoPoint point(String name, Double accuracy, long fileBytes, double p50) {
        return new ParetoPoint(name, "kind-" + name, fileBytes, fileBytes / 2, 100_000, 50_000, p50, p50 * 2,
                1000.0, accuracy, "run-" + name, null, null);
    }

    private static final ParetoPoint DENSE = point("dense", 0.90, MB, 400);
    private static final ParetoPoint INT8 = point("int8", 0.90, MB / 4, 150);
    private static final ParetoPoint TICKET = point("ticket", 0.89, (long) (0.3 * MB), 300);
    private static final ParetoPoint STUDENT = point("student", 0.88, (long) (0.2 * MB), 100);
    private static final ParetoPoint BAD = point("bad", 0.80, MB / 2, 50);

    private static List<ParetoPoint> set() {
        return List.of(DENSE, INT8, TICKET, STUDENT, BAD);
    }

    private static List<String> names(List<ParetoPoint> points) {
        return points.stream().map(ParetoPoint::name).toList();
    }

    // ------------------------------------------------------------------------------------------------ frontier

    @Test
    void frontierBySizeKeepsTheSmallestForEachAccuracy() {
        // ticket (89%, 0.3 MB) is dominated by int8 (90%, 0.25 MB); dense by int8 (same accuracy, smaller).
        assertEquals(List.of("student", "int8"), names(ParetoReport.frontier(set(), ParetoPoint::fileBytes)));
        assertEquals(List.of("student", "int8"), names(ParetoReport.frontier(set(), ParetoReport.FILE_KB)));
    }

    @Test
    void frontierByLatency() {
        assertEquals(List.of("bad", "student", "int8"),
                names(ParetoReport.frontier(set(), ParetoPoint::latencyP50Micros)));
    }

    @Test
    void frontierIgnoresPointsWithoutAccuracyOrCost() {
        List<ParetoPoint> points = new ArrayList<>(set());
        points.add(point("mystery", null, 1, 1)); // smallest and fastest, but accuracy unknown
        points.add(point("unmeasured", 0.99, -1, Double.NaN)); // best accuracy, but no size or latency
        assertEquals(List.of("student", "int8"), names(ParetoReport.frontier(points, ParetoReport.FILE_KB)));
        assertEquals(List.of("bad", "student", "int8"), names(ParetoReport.frontier(points, ParetoReport.LATENCY_P50)));
        assertEquals(List.of(), ParetoReport.frontier(List.of(point("only", null, 10, 10)), ParetoPoint::fileBytes));
        assertEquals(List.of(), ParetoReport.frontier(List.of(), ParetoPoint::fileBytes));
    }

    @Test
    void frontierTiesAreDeterministic() {
        ParetoPoint b = point("b", 0.9, 100, 1);
        ParetoPoint a = point("a", 0.9, 100, 1); // same accuracy and cost as b: neither dominates the other
        ParetoPoint worse = point("worse", 0.8, 100, 1); // same cost, lower accuracy: dominated
        ParetoPoint bigger = point("bigger", 0.9, 200, 1); // same accuracy, higher cost: dominated
        ParetoPoint small = point("small", 0.5, 50, 1);
        List<ParetoPoint> points = new ArrayList<>(List.of(b, a, worse, bigger, small));
        List<String> expected = List.of("small", "a", "b");
        assertEquals(expected, names(ParetoReport.frontier(points, ParetoPoint::fileBytes)));
        Random random = new Random(42);
        for (int i = 0; i < 20; i++) {
            Collections.shuffle(points, random);
            assertEquals(expected, names(ParetoReport.frontier(points, ParetoPoint::fileBytes)));
        }
        // All latencies equal: only the most accurate survive, sorted by name.
        assertEquals(List.of("a", "b", "bigger"), names(ParetoReport.frontier(points, ParetoPoint::latencyP50Micros)));
    }

    @Test
    void accuracyIsAFraction() {
        assertThrows(IllegalArgumentException.class, () -> point("percent", 90.0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> point("nan", Double.NaN, 1, 1));
        assertThrows(NullPointerException.class, () -> point(null, 0.5, 1, 1));
    }

    // ----------------------------------------------------------------------------------------------------- SVG

    private static Document parse(String xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        DocumentBuilder b = f.newDocumentBuilder();
        b.setErrorHandler(null);
        return b.parse(new InputSource(new StringReader(xml)));
    }

    private static List<Element> elements(Document d, String tag) {
        NodeList list = d.getElementsByTagNameNS("http://www.w3.org/2000/svg", tag);
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < list.getLength(); i++) out.add((Element) list.item(i));
        return out;
    }

    private static long withClass(List<Element> elements, String cls) {
        return elements.stream().filter(e -> List.of(e.getAttribute("class").split(" ")).contains(cls)).count();
    }

    private static String sizeSvg(List<ParetoPoint> points) {
        return ParetoReport.scatterSvg("Accuracy vs size", "file size on disk (KB)", points, ParetoReport.FILE_KB,
                false);
    }

    @Test
    void svgIsWellFormedWithOneCirclePerPointAndTheFrontierMarked() throws Exception {
        String svg = sizeSvg(set());
        Document d = parse(svg);
        Element root = d.getDocumentElement();
        assertEquals("svg", root.getLocalName());
        assertEquals("640", root.getAttribute("width"));
        assertEquals("420", root.getAttribute("height"));
        List<Element> circles = elements(d, "circle");
        assertEquals(5, circles.size());
        assertEquals(2, withClass(circles, "frontier"));
        assertEquals(3, withClass(circles, "dominated"));
        assertEquals(1, elements(d, "path").stream().filter(p -> p.getAttribute("class").equals("frontier-line"))
                .count());
        Set<String> labels = new HashSet<>();
        for (Element t : elements(d, "text")) {
            if (withClass(List.of(t), "label") == 1) labels.add(t.getTextContent());
        }
        assertEquals(Set.of("dense", "int8", "ticket", "student", "bad"), labels);
        assertTrue(svg.contains("Pareto frontier"));
        // Self-contained: no scripts, links, external fonts or images.
        for (String banned : List.of("<script", "href", "@import", "url(", "<image", "<foreignObject")) {
            assertFalse(svg.contains(banned), banned);
        }
    }

    @Test
    void frontierCirclesAreTheFrontierPoints() throws Exception {
        Document d = parse(ParetoReport.scatterSvg("latency", "latency p50 (µs)", set(), ParetoReport.LATENCY_P50,
                true));
        Set<String> frontier = new HashSet<>();
        for (Element c : elements(d, "circle")) {
            if (withClass(List.of(c), "frontier") == 1) {
                // The circle's tooltip starts with the name.
                frontier.add(c.getTextContent().split(" ")[0]);
            }
        }
        assertEquals(Set.of("bad", "student", "int8"), frontier);
    }

    @Test
    void svgEscapesNames() throws Exception {
        String name = "a<b&c>\"d'";
        List<ParetoPoint> points = List.of(point(name, 0.9, 1000, 10), point("plain", 0.8, 500, 5));
        String svg = ParetoReport.scatterSvg("title <&>", "x \"KB\"", points, ParetoReport.FILE_KB, false);
        assertFalse(svg.contains("a<b&c>"));
        Document d = parse(svg);
        boolean found = elements(d, "text").stream().anyMatch(t -> t.getTextContent().equals(name));
        assertTrue(found, "the label is the name, unescaped by the parser");
        assertTrue(elements(d, "text").stream().anyMatch(t -> t.getTextContent().equals("title <&>")));
        // Characters XML 1.0 forbids do not break it.
        parse(ParetoReport.scatterSvg("t\u0001", "x", List.of(point("ctl\u0000\u0007", 0.5, 10, 1)),
                ParetoReport.FILE_KB, false));
    }

    @Test
    void svgIsDeterministic() {
        assertEquals(sizeSvg(set()), sizeSvg(set()));
        String log1 = ParetoReport.scatterSvg("t", "x", set(), ParetoReport.LATENCY_P50, true);
        String log2 = ParetoReport.scatterSvg("t", "x", new ArrayList<>(set()), ParetoReport.LATENCY_P50, true);
        assertEquals(log1, log2);
    }

    @Test
    void emptyPlotSaysNoData() throws Exception {
        for (boolean log : new boolean[]{false, true}) {
            String svg = ParetoReport.scatterSvg("empty", "x", List.of(), ParetoReport.FILE_KB, log);
            Document d = parse(svg);
            assertEquals(0, elements(d, "circle").size());
            assertTrue(elements(d, "text").stream().anyMatch(t -> t.getTextContent().equals("no data")));
        }
        // Points whose x is unknown: nothing to place either, and a note says so.
        String svg = ParetoReport.scatterSvg("none", "x", List.of(point("unmeasured", 0.9, -1, 1)),
                ParetoReport.FILE_KB, false);
        assertTrue(svg.contains("no data"));
        assertTrue(svg.contains("1 point not shown"));
        parse(svg);
    }

    @Test
    void edgeCasesRender() throws Exception {
        // One point.
        Document one = parse(sizeSvg(List.of(STUDENT)));
        assertEquals(1, elements(one, "circle").size());
        assertEquals(1, withClass(elements(one, "circle"), "frontier"));
        Document oneLog = parse(ParetoReport.scatterSvg("t", "x", List.of(STUDENT), ParetoReport.FILE_KB, true));
        assertEquals(1, elements(oneLog, "circle").size());
        // Identical x values.
        List<ParetoPoint> sameX = List.of(point("p", 0.9, 1000, 1), point("q", 0.8, 1000, 1), point("r", 0.7, 1000, 1));
        Document dx = parse(sizeSvg(sameX));
        assertEquals(3, elements(dx, "circle").size());
        assertEquals(1, withClass(elements(dx, "circle"), "frontier"));
        // All accuracies equal (and 100%).
        List<ParetoPoint> sameY = List.of(point("p", 1.0, 1000, 1), point("q", 1.0, 2000, 2), point("r", 1.0, 3000, 3));
        Document dy = parse(sizeSvg(sameY));
        assertEquals(3, elements(dy, "circle").size());
        assertEquals(1, withClass(elements(dy, "circle"), "frontier"));
        // Accuracy unknown for all: drawn on the x axis, nothing on the frontier.
        Document unknown = parse(sizeSvg(List.of(point("u", null, 1000, 1), point("v", null, 2000, 1))));
        assertEquals(2, withClass(elements(unknown, "circle"), "unknown"));
        assertEquals(0, withClass(elements(unknown, "circle"), "frontier"));
        // Log axis with a zero x: that point is left out, the rest drawn.
        String zero = ParetoReport.scatterSvg("t", "x", List.of(point("zero", 0.9, 0, 1), STUDENT),
                ParetoReport.FILE_KB, true);
        assertEquals(1, elements(parse(zero), "circle").size());
        assertTrue(zero.contains("1 point not shown"));
        // Every coordinate is a finite number.
        for (String svg : List.of(sizeSvg(sameX), sizeSvg(sameY), sizeSvg(List.of(STUDENT)))) {
            assertFalse(svg.contains("NaN"));
            assertFalse(svg.contains("Infinity"));
        }
    }

    @Test
    void coincidentPointsGetSeparateLabels() throws Exception {
        List<ParetoPoint> points = List.of(point("first", 0.9, 1000, 1), point("second", 0.9, 1000, 1),
                point("third", 0.9, 1000, 1));
        Document d = parse(sizeSvg(points));
        Set<String> spots = new HashSet<>();
        for (Element t : elements(d, "text")) {
            if (withClass(List.of(t), "label") == 1) spots.add(t.getAttribute("x") + "," + t.getAttribute("y"));
        }
        assertEquals(3, spots.size());
    }

    // ---------------------------------------------------------------------------------------------------- HTML

    private static int count(String haystack, String needle) {
        int n = 0;
        for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length())) n++;
        return n;
    }

    @Test
    void htmlHasBothPlotsAndARowPerPointSortedByAccuracy() {
        List<ParetoPoint> points = new ArrayList<>(set());
        points.add(point("mystery", null, 1000, 1));
        points.add(point("x<y & \"z\"", 0.85, 3 * MB, 500)); // dominated on both
        String html = ParetoReport.html("Fashion <MNIST>", points, "p50/p99 over 1000 runs & 100 warm-up");
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertEquals(2, count(html, "<svg"));
        assertEquals(2, count(html, "</svg>"));
        assertFalse(html.toLowerCase().contains("<script"));
        assertFalse(html.contains("<link"));
        assertFalse(html.contains("Fashion <MNIST>"));
        assertTrue(html.contains("Fashion &lt;MNIST&gt;"));
        assertTrue(html.contains("p50/p99 over 1000 runs &amp; 100 warm-up"));
        assertFalse(html.contains("x<y"));
        assertTrue(html.contains("x&lt;y &amp; &quot;z&quot;"));
        for (ParetoPoint p : set()) assertTrue(html.contains(">" + p.name() + "<"), p.name());

        String body = html.substring(html.indexOf("<tbody>"), html.indexOf("</tbody>"));
        assertEquals(points.size(), count(body, "<tr"));
        Matcher m = Pattern.compile("<td class=\"name\">([^<]*)</td>").matcher(body);
        List<String> order = new ArrayList<>();
        while (m.find()) order.add(m.group(1));
        assertEquals(List.of("dense", "int8", "ticket", "student", "x&lt;y &amp; &quot;z&quot;", "bad", "mystery"),
                order);
        // Frontier marks: int8 is on both, student on both, bad on latency only, dense on neither.
        assertTrue(row(body, "int8").matches(".*<td class=\"mark\">\u2713</td><td class=\"mark\">\u2713</td>.*"));
        assertTrue(row(body, "bad").matches(".*<td class=\"mark\"></td><td class=\"mark\">\u2713</td>.*"));
        assertTrue(row(body, "dense").matches(".*<td class=\"mark\"></td><td class=\"mark\"></td>.*"));
        assertTrue(row(body, "mystery").contains("\u2013"));
        assertEquals(html, ParetoReport.html("Fashion <MNIST>", points, "p50/p99 over 1000 runs & 100 warm-up"));
    }

    private static String row(String body, String name) {
        int at = body.indexOf("<td class=\"name\">" + name + "</td>");
        return body.substring(body.lastIndexOf("<tr", at), body.indexOf("</tr>", at));
    }

    @Test
    void htmlWithNoPoints() {
        String html = ParetoReport.html("empty", List.of(), "nothing measured");
        assertEquals(2, count(html, "no data"));
        assertEquals(0, count(html.substring(html.indexOf("<tbody>")), "<tr"));
    }

    // --------------------------------------------------------------------------------------------------- files

    @Test
    void writeProducesTheFourFilesAndPointsRoundTrip(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("report/nested");
        List<ParetoPoint> points = new ArrayList<>(set());
        points.add(new ParetoPoint("odd \"name\" <&>", null, -1, -1, 0, 0, Double.NaN, Double.NaN,
                Double.NaN, null, null, null, null));
        ParetoReport.write(dir, "Report", points, "measured somehow");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(Set.of("index.html", "accuracy-vs-size.svg", "accuracy-vs-latency.svg", "points.json"),
                    new HashSet<>(files.map(p -> p.getFileName().toString()).toList()));
        }
        assertEquals(points, ParetoReport.readPoints(dir.resolve("points.json")));
        String size = Files.readString(dir.resolve("accuracy-vs-size.svg"), StandardCharsets.UTF_8);
        assertEquals(5, elements(parse(size), "circle").size()); // the odd point has no size
        parse(Files.readString(dir.resolve("accuracy-vs-latency.svg"), StandardCharsets.UTF_8));
        String index = Files.readString(dir.resolve("index.html"), StandardCharsets.UTF_8);
        assertTrue(index.contains("odd &quot;name&quot; &lt;&amp;&gt;"));

        // Writing again replaces the files and leaves no temporary files behind.
        ParetoReport.write(dir, "Report", List.of(STUDENT), "again");
        assertEquals(List.of(STUDENT), ParetoReport.readPoints(dir.resolve("points.json")));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(4, files.count());
        }
    }

    @Test
    void writeFailsCleanlyWhenTheDirectoryIsAFile(@TempDir Path tmp) throws IOException {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        assertThrows(IOException.class, () -> ParetoReport.write(file, "t", set(), "g"));
        assertEquals("x", Files.readString(file));
    }
}
