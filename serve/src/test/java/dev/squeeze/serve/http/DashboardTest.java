package dev.squeeze.serve.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dashboard in a real headless Chromium (Debian's {@code chromium}; .ci/run installs it) against a real server
 * that has benchmarked its models: the page loads with no script errors, shows every model with its numbers and the
 * Pareto plots, and a screenshot is saved to {@code target/dashboard.png}. The browser test is the optional group
 * {@code browser}: the build runs it where a Chromium is installed and passes it the binary as
 * {@code squeeze.test.chromium} (see the parent pom's browser profiles).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private Path models;
    private EmbeddedServer server;

    @BeforeAll
    void start() throws Exception {
        models = Files.createTempDirectory("dashboard");
        ServedModels.install(models, "tiny", "tiny.onnx");
        ServedModels.install(models, "tiny-int8", "tiny-int8.onnx");
        server = SqueezeServer.start(Map.of("squeeze.serve.models", models.toString(), "micronaut.server.port", -1));
    }

    @AfterAll
    void stop() {
        server.getApplicationContext().close();
    }

    private HttpResponse<String> send(HttpRequest r) throws Exception {
        return HttpClient.newHttpClient().send(r, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aBenchmarkJobRunsOnTheServerAndKeepsItsResults() throws Exception {
        JsonNode job = benchmark();
        assertEquals("done", job.path("status").asText(), job.toString());
        assertEquals(2, job.path("results").size());
        for (JsonNode r : job.path("results")) {
            assertTrue(r.path("latencyP50Micros").asDouble() > 0 && r.path("fileBytes").asLong() > 0, r.toString());
            assertEquals("export metadata", r.path("accuracySource").asText(), "the server measures no test set of its own");
        }
        var unknown = send(HttpRequest.newBuilder(server.getURI().resolve("/v1/benchmarks"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"models\":[\"nope\"]}")).build());
        assertEquals(404, unknown.statusCode(), unknown.body());
        assertEquals(404, send(HttpRequest.newBuilder(server.getURI().resolve("/v1/benchmarks/zzz")).GET().build()).statusCode());
    }

    private JsonNode benchmark() throws Exception {
        String body = "{\"window_ms\": 100, \"warmup_ms\": 50, \"max_windows\": 4}";
        var started = send(HttpRequest.newBuilder(server.getURI().resolve("/v1/benchmarks"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
        assertEquals(202, started.statusCode(), started.body());
        String id = JSON.readTree(started.body()).path("id").asText();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        JsonNode job;
        do {
            Thread.sleep(100);
            job = JSON.readTree(send(HttpRequest.newBuilder(server.getURI().resolve("/v1/benchmarks/" + id)).GET().build()).body());
        } while (!job.path("status").asText().matches("done|failed") && System.nanoTime() < deadline);
        return job;
    }

    @Test
    @Tag("browser")
    void theDashboardShowsEveryModelInAHeadlessBrowserWithoutErrors() throws Exception {
        benchmark();
        URI page = server.getURI().resolve("/");
        String dom = chromium("--dump-dom", page);
        for (String model : List.of("tiny", "tiny-int8")) {
            assertTrue(dom.contains("data-model=\"" + model + "\""), "a row for " + model + ":\n" + dom);
        }
        assertTrue(dom.matches("(?s).*<div id=\"errors\">\\s*</div>.*"), "no script errors:\n" + dom);
        assertTrue(dom.contains("accuracy-vs-size.svg") && dom.contains("accuracy-vs-latency.svg"), dom);
        assertTrue(dom.contains("READY") && dom.contains("%"), "states and accuracies shown:\n" + dom);

        Path shot = Path.of("target", "dashboard.png").toAbsolutePath();
        Files.deleteIfExists(shot);
        chromium("--screenshot=" + shot, page);
        assertTrue(Files.size(shot) > 10_000, "a screenshot was saved: " + shot);
        String svg = send(HttpRequest.newBuilder(server.getURI().resolve("/v1/dashboard/accuracy-vs-size.svg")).GET().build()).body();
        assertTrue(svg.contains("tiny-int8") && svg.startsWith("<svg"), svg);
    }

    /**
     * Runs headless Chromium ({@code squeeze.test.chromium}, else the first on the PATH) on {@code url} with the page's
     * scripts given 5 s of (virtual) time; returns stdout.
     */
    private static String chromium(String mode, URI url) throws Exception {
        String given = System.getProperty("squeeze.test.chromium", "");
        String binary = given.isBlank() ? null : given;
        for (String candidate : List.of("chromium", "chromium-browser", "google-chrome")) {
            if (binary != null) break;
            for (String dir : System.getenv("PATH").split(":")) {
                if (Files.isExecutable(Path.of(dir, candidate))) {
                    binary = Path.of(dir, candidate).toString();
                    break;
                }
            }
        }
        if (binary == null) throw new IllegalStateException("this test needs Chromium: apt-get install chromium (.ci/run does)");
        List<String> cmd = new ArrayList<>(List.of(binary, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1280,1000", "--virtual-time-budget=5000", mode, url.toString()));
        Path out = Files.createTempFile("chromium", ".out");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("chromium did not finish in 120 s");
        }
        return Files.readString(out);
    }
}
