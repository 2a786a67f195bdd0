package dev.squeeze.serve.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squeeze.compress.onnx.inputs.OutputFigures;
import dev.squeeze.core.Sha256;
import dev.squeeze.serve.bench.QuantizedOnnx;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real server on a loopback port serving a float ONNX model and its int8 version made by the real quantizer with
 * inputs: {@code GET /v2/models/{name}} gives the int8 file's provenance as an object (source SHA-256, settings,
 * figures), and the server's benchmark gives it its fidelity to the float model, the float model the reference.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProvenanceHttpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private QuantizedOnnx made;
    private EmbeddedServer server;

    @BeforeAll
    void start() throws Exception {
        Path home = Files.createTempDirectory("provenance");
        made = QuantizedOnnx.write(home.resolve("made"));
        Path models = home.resolve("models");
        Files.createDirectories(models.resolve("embedder"));
        Files.createDirectories(models.resolve("embedder-int8"));
        Files.copy(made.floatFile(), models.resolve("embedder/model.onnx"));
        Files.copy(made.quantizedFile(), models.resolve("embedder-int8/model.onnx"));
        server = SqueezeServer.start(Map.of("squeeze.serve.models", models.toString(), "micronaut.server.port", -1));
    }

    @AfterAll
    void stop() {
        server.getApplicationContext().close();
    }

    private HttpResponse<String> send(HttpRequest r) throws Exception {
        return HttpClient.newHttpClient().send(r, HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode get(String path) throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(server.getURI().resolve(path)).GET().build());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    @Test
    void modelMetadataGivesTheProvenanceAsAnObject() throws Exception {
        JsonNode int8 = get("/v2/models/embedder-int8");
        JsonNode provenance = int8.path("provenance");
        assertTrue(provenance.isObject(), int8.toString());
        assertEquals(Sha256.hex(Files.readAllBytes(made.floatFile())), provenance.path("source_sha256").asText());
        assertEquals(QuantizedOnnx.FLOAT, provenance.path("source_file").asText());
        assertEquals("dynamic", provenance.path("settings").path("mode").asText());
        assertEquals("channel", provenance.path("settings").path("granularity").asText());
        assertTrue(provenance.path("settings").path("keep_float").isArray(), provenance.toString());
        assertEquals(made.outcome().runId(), provenance.path("export_run").asText());
        OutputFigures figures = made.outcome().figures().output("embedding");
        JsonNode served = provenance.path("figures").path("outputs").path(0);
        assertEquals("embedding", served.path("output").asText());
        assertEquals(figures.cosineMean(), served.path("cosineMean").asDouble());
        assertEquals(figures.cosineWorst(), served.path("cosineWorst").asDouble());
        assertEquals(figures.relativeL2(), served.path("relativeL2").asDouble());
        assertEquals(made.outcome().figures().examples(), provenance.path("figures").path("examples").asLong());
        // The file's metadata_props stay under "parameters", as strings, the same provenance among them.
        assertEquals(provenance, JSON.readTree(int8.path("parameters").path("squeeze").asText()));

        JsonNode fp32 = get("/v2/models/embedder");
        assertFalse(fp32.has("provenance"), "a file from elsewhere has none: " + fp32);
    }

    @Test
    void theServersBenchmarkGivesFidelityAndTheFloatReference() throws Exception {
        String body = "{\"window_ms\": 20, \"warmup_ms\": 0, \"max_windows\": 3}";
        var started = send(HttpRequest.newBuilder(server.getURI().resolve("/v1/benchmarks"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
        assertEquals(202, started.statusCode(), started.body());
        String id = JSON.readTree(started.body()).path("id").asText();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        JsonNode job;
        do {
            Thread.sleep(100);
            job = get("/v1/benchmarks/" + id);
        } while (!job.path("status").asText().matches("done|failed") && System.nanoTime() < deadline);
        assertEquals("done", job.path("status").asText(), job.toString());

        JsonNode dashboard = get("/v1/dashboard");
        assertEquals(2, dashboard.path("models").size(), dashboard.toString());
        double cosine = made.outcome().figures().output("embedding").cosineMean();
        for (JsonNode m : dashboard.path("models")) {
            JsonNode b = m.path("benchmark");
            assertFalse(b.has("accuracy"), m.toString());
            if (m.path("name").asText().equals("embedder-int8")) {
                assertEquals(cosine, b.path("fidelity").asDouble(), m.toString());
                assertTrue(b.path("fidelityMeasure").asText().startsWith("cosine mean "), m.toString());
            } else {
                assertEquals(1.0, b.path("fidelity").asDouble(), m.toString());
                assertEquals("float reference (cosine mean 1)", b.path("fidelityMeasure").asText());
            }
        }
        String svg = send(HttpRequest.newBuilder(server.getURI().resolve("/v1/dashboard/accuracy-vs-size.svg")).GET().build()).body();
        assertTrue(svg.contains("Fidelity to float vs file size") && svg.contains("class=\"point frontier\""), svg);
    }
}
