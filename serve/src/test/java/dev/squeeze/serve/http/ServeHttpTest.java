package dev.squeeze.serve.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squeeze.serve.runtime.TestModels;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.annotation.Client;
import io.micronaut.http.client.exceptions.HttpClientResponseException;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server on a real loopback port, serving real exports (mlp-tiny trained on the fixture images, float and int8)
 * and a model with two inputs of different types; every endpoint, and every kind of bad input.
 */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeHttpTest implements TestPropertyProvider {
    private static final ObjectMapper JSON = new ObjectMapper();
    private Path models;

    @Inject
    @Client("/")
    HttpClient http;

    @Override
    public Map<String, String> getProperties() {
        try {
            models = Files.createTempDirectory("served");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ServedModels.install(models, "tiny", "tiny.onnx");
        ServedModels.install(models, "tiny-int8", "tiny-int8.onnx");
        TestModels.twoInputs(models.resolve("mixed"));
        return Map.of("squeeze.serve.models", models.toString(), "squeeze.serve.poll", "200ms",
                "squeeze.serve.max-elements", "100000", "micronaut.server.max-request-size", "1MB");
    }

    private JsonNode get(String path) {
        return json(http.toBlocking().retrieve(HttpRequest.GET(path), byte[].class));
    }

    private HttpResponse<byte[]> post(String path, Object body, MediaType type) {
        return http.toBlocking().exchange(HttpRequest.POST(path, body).contentType(type), byte[].class);
    }

    private HttpClientResponseException refused(String path, Object body, MediaType type) {
        return assertThrows(HttpClientResponseException.class, () -> post(path, body, type));
    }

    private static JsonNode json(byte[] body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String error(HttpClientResponseException e) {
        return json(e.getResponse().getBody(byte[].class).orElse(new byte[0])).path("error").asText();
    }

    private static String imageRequest(float[] pixels, String extra) {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < pixels.length; i++) data.append(i == 0 ? "" : ",").append((int) pixels[i]);
        return "{\"id\":\"r1\",\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":["
                + data + "]}]" + extra + "}";
    }

    @Test
    void healthAndModelMetadata() {
        assertTrue(get("/v2/health/live").path("live").asBoolean());
        assertTrue(get("/v2/health/ready").path("ready").asBoolean());
        JsonNode meta = get("/v2/models/tiny");
        assertEquals("tiny", meta.path("name").asText());
        JsonNode input = meta.path("inputs").get(0);
        assertEquals("input", input.path("name").asText());
        assertEquals("FP32", input.path("datatype").asText());
        assertEquals("[-1,1,28,28]", input.path("shape").toString());
        assertEquals(2, meta.path("outputs").size());
        assertTrue(meta.toString().contains("T-shirt/top"), "the export's class labels travel in the metadata: " + meta);
        assertEquals(HttpStatus.OK, http.toBlocking().exchange("/v2/models/tiny/ready").getStatus());
        var missing = assertThrows(HttpClientResponseException.class, () -> http.toBlocking().exchange("/v2/models/nope/ready"));
        assertEquals(HttpStatus.NOT_FOUND, missing.getStatus());
    }

    @Test
    void inferClassifiesARealTestImageAndPredictAgrees() {
        for (int i = 0; i < 5; i++) {
            JsonNode r = json(post("/v2/models/tiny/infer", imageRequest(ServedModels.pixels(i), ""), MediaType.APPLICATION_JSON_TYPE).body());
            assertEquals("r1", r.path("id").asText());
            JsonNode probs = null;
            for (JsonNode o : r.path("outputs")) if (o.path("name").asText().equals("probabilities")) probs = o;
            assertEquals("[1,10]", probs.path("shape").toString());
            int best = 0;
            for (int c = 1; c < 10; c++) if (probs.path("data").get(c).asDouble() > probs.path("data").get(best).asDouble()) best = c;

            JsonNode png = json(post("/v1/models/tiny/predict", ServedModels.png(i), MediaType.IMAGE_PNG_TYPE).body());
            assertEquals(best, png.path("class_index").asInt(), "PNG and JSON tensors give the same class");
            JsonNode pixels = json(post("/v1/models/tiny/predict", "{\"pixels\":" + java.util.Arrays.toString(ServedModels.pixels(i)) + "}",
                    MediaType.APPLICATION_JSON_TYPE).body());
            assertEquals(best, pixels.path("class_index").asInt());
            assertFalse(pixels.path("label").asText().isEmpty());
        }
        JsonNode int8 = json(post("/v1/models/tiny-int8/predict", ServedModels.png(0), MediaType.IMAGE_PNG_TYPE).body());
        assertEquals(10, int8.path("probabilities").size());
    }

    @Test
    void outputsCanBeSelected() {
        JsonNode r = json(post("/v2/models/tiny/infer", imageRequest(ServedModels.pixels(0), ",\"outputs\":[{\"name\":\"logits\"}]"),
                MediaType.APPLICATION_JSON_TYPE).body());
        assertEquals(1, r.path("outputs").size());
        assertEquals("logits", r.path("outputs").get(0).path("name").asText());
    }

    @Test
    void aModelWithAFloatAndAnInt64InputIsServed() {
        String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,3],\"datatype\":\"FP32\",\"data\":[1,2,3,4,5,6]},"
                + "{\"name\":\"k\",\"shape\":[2,1],\"datatype\":\"INT64\",\"data\":[2,9007199254740993]}]}";
        JsonNode r = json(post("/v2/models/mixed/infer", body, MediaType.APPLICATION_JSON_TYPE).body());
        Map<String, JsonNode> out = new java.util.HashMap<>();
        for (JsonNode o : r.path("outputs")) out.put(o.path("name").asText(), o);
        float[] x = {1, 2, 3, 4, 5, 6};
        long[] k = {2, 9007199254740993L};
        for (int i = 0; i < 6; i++) {
            assertEquals(x[i] * (float) k[i / 3], (float) out.get("y").path("data").get(i).asDouble(), 0f, "y[" + i + "]");
        }
        assertEquals("INT64", out.get("z").path("datatype").asText());
        assertEquals("[4,18014398509481986]", out.get("z").path("data").toString());
    }

    @Test
    void badInputIsAClearClientErrorNeverA500() {
        MediaType j = MediaType.APPLICATION_JSON_TYPE;
        String infer = "/v2/models/tiny/infer";
        var malformed = refused(infer, "{\"inputs\": [", j);
        assertEquals(HttpStatus.BAD_REQUEST, malformed.getStatus());
        assertTrue(error(malformed).contains("not valid JSON"), error(malformed));

        var shape = refused(infer, "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,784],\"datatype\":\"FP32\",\"data\":[" + "0,".repeat(783) + "0]}]}", j);
        assertEquals(HttpStatus.BAD_REQUEST, shape.getStatus());
        assertTrue(error(shape).contains("shape"), error(shape));

        var type = refused(infer, "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"INT64\",\"data\":[" + "0,".repeat(783) + "0]}]}", j);
        assertTrue(error(type).contains("FP32") && error(type).contains("INT64"), error(type));

        var missing = refused("/v2/models/mixed/infer", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}", j);
        assertEquals(HttpStatus.BAD_REQUEST, missing.getStatus());
        assertTrue(error(missing).contains("k"), error(missing));

        var tooMany = refused("/v2/models/mixed/infer", "{\"inputs\":[{\"name\":\"x\",\"shape\":[40000,3],\"datatype\":\"FP32\",\"data\":[1]},"
                + "{\"name\":\"k\",\"shape\":[40000,1],\"datatype\":\"INT64\",\"data\":[1]}]}", j);
        assertEquals(HttpStatus.BAD_REQUEST, tooMany.getStatus());
        assertTrue(error(tooMany).contains("too many elements"), error(tooMany));

        var count = refused(infer, "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}", j);
        assertEquals(HttpStatus.BAD_REQUEST, count.getStatus());

        var big = refused(infer, "[" + "0,".repeat(700_000) + "0]", j);
        assertEquals(HttpStatus.REQUEST_ENTITY_TOO_LARGE, big.getStatus());

        var unknown = refused("/v2/models/nope/infer", imageRequest(ServedModels.pixels(0), ""), j);
        assertEquals(HttpStatus.NOT_FOUND, unknown.getStatus());
        assertTrue(error(unknown).contains("tiny"), "lists the models that are served: " + error(unknown));

        for (String name : List.of("..%2F..%2Fetc", "%2E%2E", "a%00b")) {
            var e = refused("/v2/models/" + name + "/infer", "{}", j);
            assertTrue(e.getStatus().getCode() == 400 || e.getStatus().getCode() == 404, name + ": " + e.getStatus());
        }
        var notImage = refused("/v1/models/tiny/predict", new byte[]{1, 2, 3}, MediaType.IMAGE_PNG_TYPE);
        assertEquals(HttpStatus.BAD_REQUEST, notImage.getStatus());
        assertTrue(error(notImage).contains("not an image"), error(notImage));
    }

    @Test
    void theRepositoryListsLoadsAndUnloadsAndPicksUpNewModels() throws Exception {
        JsonNode index = json(post("/v2/repository/index", "{}", MediaType.APPLICATION_JSON_TYPE).body());
        assertTrue(index.toString().contains("\"tiny-int8\"") && index.toString().contains("READY"), index.toString());

        post("/v2/repository/models/tiny-int8/unload", "{}", MediaType.APPLICATION_JSON_TYPE);
        assertEquals(HttpStatus.NOT_FOUND, assertThrows(HttpClientResponseException.class,
                () -> http.toBlocking().exchange("/v2/models/tiny-int8/ready")).getStatus());
        post("/v2/repository/models/tiny-int8/load", "{}", MediaType.APPLICATION_JSON_TYPE);
        assertEquals(HttpStatus.OK, http.toBlocking().exchange("/v2/models/tiny-int8/ready").getStatus());

        ServedModels.install(models, "late", "tiny-int8.onnx");
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                if (http.toBlocking().exchange("/v2/models/late/ready").getStatus() == HttpStatus.OK) break;
            } catch (HttpClientResponseException notYet) {
                Thread.sleep(100);
            }
        }
        assertEquals(HttpStatus.OK, http.toBlocking().exchange("/v2/models/late/ready").getStatus(), "picked up without restart");
    }

    @Test
    void concurrentRequestsAreBatchedAndEachGetsItsOwnAnswer() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            List<Future<Integer>> answers = new ArrayList<>();
            int[] want = new int[64];
            for (int i = 0; i < 64; i++) {
                int image = i % 8;
                answers.add(pool.submit((Callable<Integer>) () -> json(post("/v1/models/tiny-int8/predict",
                        ServedModels.png(image), MediaType.IMAGE_PNG_TYPE).body()).path("class_index").asInt()));
            }
            for (int i = 0; i < 8; i++) {
                want[i] = json(post("/v1/models/tiny-int8/predict", ServedModels.png(i), MediaType.IMAGE_PNG_TYPE).body())
                        .path("class_index").asInt();
            }
            for (int i = 0; i < 64; i++) assertEquals(want[i % 8], answers.get(i).get());
        } finally {
            pool.shutdown();
        }
        String metrics = http.toBlocking().retrieve("/metrics");
        assertTrue(metrics.contains("squeeze_requests_seconds_count{endpoint=\"predict\",model=\"tiny-int8\",outcome=\"ok\",protocol=\"http\"}"), metrics);
        double maxMerged = 0;
        for (String line : metrics.lines().toList()) {
            if (line.startsWith("squeeze_batch_requests_max{model=\"tiny-int8\"")) maxMerged = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
        assertTrue(maxMerged >= 1, metrics);
        assertTrue(metrics.contains("squeeze_requests_seconds_bucket"), "latency histograms");
    }

    @Test
    void theOpenApiDocumentDescribesTheEndpoints() {
        String doc = http.toBlocking().retrieve("/openapi/squeeze-v2.yml");
        assertTrue(doc.contains("/v2/models/{name}/infer") && doc.contains("/v1/models/{name}/predict"), doc);
    }
}
