package dev.squeeze.serve.http;

import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squeeze.serve.bench.BenchmarkJobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server started as `squeeze serve` starts it: API key on the repository API and on starting benchmarks, bounded
 * benchmark requests and queue, graceful stop.
 */
class ServeLifecycleTest {
    @TempDir
    Path models;

    private static final ObjectMapper JSON = new ObjectMapper();

    private static HttpResponse<String> send(HttpRequest r) throws Exception {
        return HttpClient.newHttpClient().send(r, HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> postBenchmark(EmbeddedServer server, String body, String... headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(server.getURI().resolve("/v1/benchmarks"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) r.headers(headers);
        return send(r.build());
    }

    /** The protocol's error body: a JSON object with one "error" string. */
    private static String error(HttpResponse<String> r) throws Exception {
        JsonNode body = JSON.readTree(r.body());
        assertTrue(body.isObject() && body.size() == 1 && body.path("error").isTextual(), r.body());
        return body.path("error").asText();
    }

    @Test
    void startingABenchmarkNeedsTheKeyWhenOneIsSet() throws Exception {
        ServedModels.install(models, "tiny", "tiny.onnx");
        EmbeddedServer server = SqueezeServer.start(Map.of("squeeze.serve.models", models.toString(),
                "micronaut.server.port", -1, "squeeze.serve.api-key", "s3cret"));
        try {
            String quick = "{\"warmup_ms\": 0, \"window_ms\": 1, \"max_windows\": 3}";
            HttpResponse<String> none = postBenchmark(server, quick);
            assertEquals(401, none.statusCode(), none.body());
            assertTrue(error(none).contains("API key"), none.body());
            assertEquals(401, postBenchmark(server, quick, "X-API-Key", "wrong").statusCode());
            assertEquals(List.of(), server.getApplicationContext().getBean(ModelServing.class).benchmarks().all(),
                    "refused requests queue nothing");
            HttpResponse<String> keyed = postBenchmark(server, quick, "Authorization", "Bearer s3cret");
            assertEquals(202, keyed.statusCode(), keyed.body());
            String id = JSON.readTree(keyed.body()).path("id").asText();
            assertEquals(200, send(HttpRequest.newBuilder(server.getURI().resolve("/v1/benchmarks/" + id)).GET().build()).statusCode(),
                    "reading results stays open");
            assertEquals(200, send(HttpRequest.newBuilder(server.getURI().resolve("/v1/benchmarks")).GET().build()).statusCode());
        } finally {
            server.getApplicationContext().close();
        }
    }

    @Test
    void benchmarkParametersHaveUpperBounds() throws Exception {
        ServedModels.install(models, "tiny", "tiny.onnx");
        EmbeddedServer server = SqueezeServer.start(Map.of("squeeze.serve.models", models.toString(), "micronaut.server.port", -1));
        try {
            Map<String, String> refused = Map.of(
                    "{\"window_ms\": 3600000}", "window_ms must be an integer from 1 to 10000",
                    "{\"warmup_ms\": 3600000}", "warmup_ms must be an integer from 0 to 10000",
                    "{\"max_windows\": 100000}", "max_windows must be an integer from 3 to 30",
                    "{\"threads\": 10000}", "threads must be an integer from 1 to " + Runtime.getRuntime().availableProcessors(),
                    "{\"threads\": \"many\"}", "threads must be an integer",
                    "{\"windows\": 5}", "unknown key 'windows'");
            for (var e : refused.entrySet()) {
                HttpResponse<String> r = postBenchmark(server, e.getKey());
                assertEquals(400, r.statusCode(), e.getKey() + " -> " + r.body());
                assertTrue(error(r).contains(e.getValue()), e.getKey() + " -> " + r.body());
            }
            assertEquals(List.of(), server.getApplicationContext().getBean(ModelServing.class).benchmarks().all(),
                    "refused requests queue nothing");
        } finally {
            server.getApplicationContext().close();
        }
    }

    @Test
    void oneBenchmarkRunsABoundedNumberWaitAndStoppingTheServerCancelsThem() throws Exception {
        ServedModels.install(models, "tiny", "tiny.onnx");
        EmbeddedServer server = SqueezeServer.start(Map.of("squeeze.serve.models", models.toString(), "micronaut.server.port", -1));
        BenchmarkJobs jobs = server.getApplicationContext().getBean(ModelServing.class).benchmarks();
        List<String> ids = new ArrayList<>();
        try {
            // Each job would take minutes: the first is still running when the queue fills.
            String slow = "{\"warmup_ms\": 10000, \"window_ms\": 10000, \"max_windows\": 30}";
            for (int i = 0; i < 1 + BenchmarkJobs.MAX_WAITING; i++) {
                HttpResponse<String> r = postBenchmark(server, slow);
                assertEquals(202, r.statusCode(), r.body());
                ids.add(JSON.readTree(r.body()).path("id").asText());
            }
            HttpResponse<String> full = postBenchmark(server, slow);
            assertEquals(429, full.statusCode(), full.body());
            assertTrue(error(full).contains("running and " + BenchmarkJobs.MAX_WAITING + " are waiting"), full.body());
            assertEquals(1 + BenchmarkJobs.MAX_WAITING, jobs.all().size(), "the refused one was not queued");
        } finally {
            // Stopping interrupts the running benchmark between two ONNX Runtime calls and waits for it: seconds, not
            // the minutes it would take to finish.
            assertTimeoutPreemptively(Duration.ofSeconds(120), () -> server.getApplicationContext().close());
        }
        for (String id : ids) assertEquals("cancelled", jobs.get(id).orElseThrow().status(), jobs.all().toString());
    }

    @Test
    void theRepositoryApiNeedsTheKeyWhenOneIsSet() throws Exception {
        ServedModels.install(models, "tiny", "tiny.onnx");
        EmbeddedServer server = SqueezeServer.start(Map.of("squeeze.serve.models", models.toString(),
                "micronaut.server.port", -1, "squeeze.serve.api-key", "s3cret"));
        try {
            URI index = server.getURI().resolve("/v2/repository/index");
            HttpResponse<String> none = send(HttpRequest.newBuilder(index).GET().build());
            assertEquals(401, none.statusCode());
            assertTrue(none.body().contains("API key"), none.body());
            assertEquals(401, send(HttpRequest.newBuilder(index).header("X-API-Key", "wrong").GET().build()).statusCode());
            assertEquals(200, send(HttpRequest.newBuilder(index).header("Authorization", "Bearer s3cret").GET().build()).statusCode());
            assertEquals(200, send(HttpRequest.newBuilder(index).header("X-API-Key", "s3cret").GET().build()).statusCode());
            assertEquals(200, send(HttpRequest.newBuilder(server.getURI().resolve("/v2/models/tiny")).GET().build()).statusCode(),
                    "inference and metadata stay open");
        } finally {
            server.getApplicationContext().close();
        }
    }

    @Test
    void stoppingLetsARequestInFlightFinish() throws Exception {
        ServedModels.install(models, "slow", "tiny.onnx");
        // A lone request waits up to a second for partners: it is still in flight when the stop begins.
        Files.writeString(models.resolve("slow").resolve("config.json"), "{\"max_batch_size\": 32, \"max_queue_delay_us\": 1000000}");
        EmbeddedServer server = SqueezeServer.start(Map.of("squeeze.serve.models", models.toString(), "micronaut.server.port", -1));
        StringBuilder data = new StringBuilder();
        for (float p : ServedModels.pixels(0)) data.append(data.length() == 0 ? "" : ",").append((int) p);
        String body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}";
        CompletableFuture<HttpResponse<String>> inFlight = HttpClient.newHttpClient().sendAsync(
                HttpRequest.newBuilder(server.getURI().resolve("/v2/models/slow/infer"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        ModelServing serving = server.getApplicationContext().getBean(ModelServing.class);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (serving.queued("slow") == 0 && System.nanoTime() < deadline) Thread.sleep(5);
        assertEquals(1, serving.queued("slow"), "the request is waiting in the batch queue when the stop begins");
        server.getApplicationContext().close();
        HttpResponse<String> answer = inFlight.get();
        assertEquals(200, answer.statusCode(), answer.body());
        assertTrue(answer.body().contains("probabilities"), answer.body());
    }
}
