package dev.squeeze.serve.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.squeeze.serve.bench.BenchmarkResult;
import dev.squeeze.serve.report.ParetoPoint;
import dev.squeeze.serve.report.ParetoReport;
import dev.squeeze.serve.runtime.RepositoryEntry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Produces;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The dashboard at {@code /}: every model served with its size, latency and accuracy (from the latest server-side
 * benchmark), the Pareto plots, and live request counts; one offline page that polls {@code /v1/dashboard}.
 */
@Controller
@Tag(name = "dashboard")
public class DashboardController {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ModelServing serving;
    private final MeterRegistry registry;
    private final String page;

    public DashboardController(ModelServing serving, MeterRegistry registry) {
        this.serving = serving;
        this.registry = registry;
        try (InputStream in = DashboardController.class.getResourceAsStream("/dashboard/index.html")) {
            this.page = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Get(produces = MediaType.TEXT_HTML)
    @Operation(summary = "The dashboard page")
    public String index() {
        return page;
    }

    @Get(value = "/v1/dashboard", produces = MediaType.APPLICATION_JSON)
    @Operation(summary = "What the dashboard shows: models, their latest benchmark, live request counts")
    public byte[] dashboard() throws IOException {
        Map<String, BenchmarkResult> latest = serving.benchmarks().latest();
        ObjectNode root = JSON.createObjectNode();
        root.put("modelsDir", serving.modelsDir().toString());
        ArrayNode models = root.putArray("models");
        for (RepositoryEntry e : serving.entries()) {
            ObjectNode m = models.addObject().put("name", e.name()).put("state", e.state().name());
            if (e.version() > 0) m.put("version", Long.toString(e.version()));
            long bytes = serving.fileBytes(e.name());
            if (bytes >= 0) m.put("fileBytes", bytes);
            BenchmarkResult b = latest.get(e.name());
            if (b != null) {
                ObjectNode bn = m.putObject("benchmark").put("params", b.parameters()).put("nonzeroParams", b.nonZeroParameters())
                        .put("latencyP50Micros", b.latencyP50Micros()).put("latencyP99Micros", b.latencyP99Micros())
                        .put("timestamp", b.timestamp());
                if (b.accuracy() != null) bn.put("accuracy", b.accuracy());
                if (b.fidelity() != null) bn.put("fidelity", b.fidelity().value()).put("fidelityMeasure", b.fidelity().describe());
                if (b.throughputBatch256() != null) bn.put("throughputBatch256", b.throughputBatch256());
            }
            long requests = 0, errors = 0;
            double seconds = 0;
            for (Timer t : registry.find("squeeze.requests").tag("model", e.name()).timers()) {
                requests += t.count();
                seconds += t.totalTime(TimeUnit.SECONDS);
                if (!"ok".equals(t.getId().getTag("outcome"))) errors += t.count();
            }
            m.put("requests", requests).put("errors", errors);
            if (requests > 0) m.put("meanLatencyMicros", seconds / requests * 1e6);
        }
        String stamp = latest.values().stream().map(BenchmarkResult::timestamp).max(String::compareTo).orElse(null);
        root.put("plotsStamp", stamp);
        var jobs = serving.benchmarks().all();
        if (!jobs.isEmpty()) {
            var last = jobs.get(jobs.size() - 1);
            root.put("benchmark", last.id() + " " + last.status() + (last.finished() != null ? " at " + last.finished() : ""));
        }
        return JSON.writeValueAsBytes(root);
    }

    @Get(value = "/v1/dashboard/accuracy-vs-size.svg", produces = "image/svg+xml")
    @Operation(summary = "Accuracy against file size, Pareto frontier filled")
    public String accuracyVsSize() {
        List<ParetoPoint> points = points();
        return ParetoReport.scatterSvg(ParetoReport.Quality.of(points).title + " vs file size", "file size (KB)", points,
                ParetoReport.FILE_KB, true);
    }

    @Get(value = "/v1/dashboard/accuracy-vs-latency.svg", produces = "image/svg+xml")
    @Operation(summary = "Accuracy against latency at batch 1, Pareto frontier filled")
    public String accuracyVsLatency() {
        List<ParetoPoint> points = points();
        return ParetoReport.scatterSvg(ParetoReport.Quality.of(points).title + " vs latency (batch 1, p50)",
                "latency p50 (µs)", points,
                ParetoReport.LATENCY_P50, false);
    }

    private List<ParetoPoint> points() {
        List<ParetoPoint> out = new ArrayList<>();
        for (BenchmarkResult b : serving.benchmarks().latest().values()) out.add(ParetoPoint.of(b, null));
        out.sort((a, c) -> a.name().compareTo(c.name()));
        return out;
    }

}
