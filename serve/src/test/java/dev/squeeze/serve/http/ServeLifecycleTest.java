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
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server started as `squeeze serve` starts it: API key on the repository API, graceful stop. */
class ServeLifecycleTest {
    @TempDir
    Path models;

    private static HttpResponse<String> send(HttpRequest r) throws Exception {
        return HttpClient.newHttpClient().send(r, HttpResponse.BodyHandlers.ofString());
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
