package dev.squeeze.serve.load;

import dev.squeeze.serve.runtime.BatchTestModels;
import dev.squeeze.serve.runtime.HostTensor;
import dev.squeeze.serve.runtime.InferRequest;
import dev.squeeze.serve.runtime.InferenceProtocol;
import dev.squeeze.serve.runtime.ModelSpec;
import dev.squeeze.serve.runtime.TensorSpec;
import dev.squeeze.serve.runtime.TensorType;
import dev.squeeze.serve.runtime.TestModels;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squeeze.serve.grpc.GrpcServer;
import dev.squeeze.serve.http.SqueezeServer;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The load generator against the real server on a loopback port (HTTP, and gRPC on a free port), serving a small MLP
 * ([batch, 784] → [batch, 10]) and a model with an FP32 and an INT64 input, over each protocol. Only counts and
 * orderings are checked, never speeds: the machine is shared.
 */
class LoadGeneratorTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path models;

    private static EmbeddedServer server;
    private static String grpcTarget;

    @BeforeAll
    static void startServer() throws IOException {
        Path mlp = BatchTestModels.mlp(models.resolve("scratch"));
        Files.createDirectories(models.resolve("mlp"));
        Files.move(mlp, models.resolve("mlp").resolve(TestModels.FILE));
        Files.delete(models.resolve("scratch"));
        TestModels.twoInputs(models.resolve("mixed"));
        server = SqueezeServer.start(Map.of("squeeze.serve.models", models.toString(), "micronaut.server.port", -1,
                "squeeze.serve.grpc-port", 0));
        grpcTarget = GrpcServer.of(server.getApplicationContext()).target();
    }

    @AfterAll
    static void stopServer() {
        if (server != null) server.getApplicationContext().close();
    }

    private static LoadOptions quick(int... concurrency) {
        return LoadOptions.of(concurrency).withWindow(Duration.ofMillis(300)).withWarmUp(Duration.ofMillis(200)).withMaxWindows(4);
    }

    @Test
    void measuresEveryLevelWithoutErrors() throws Exception {
        LoadResult result = LoadGenerator.run(server.getURI(), "mlp", quick(1, 4));

        assertEquals("mlp", result.model());
        assertEquals("json", result.protocol());
        assertEquals(1, result.clientThreads());
        assertEquals("/v2/models/mlp/infer", result.endpoint());
        assertTrue(result.generatedBody());
        assertTrue(result.requestBytes() > 784 * 3, "784 zeros: " + result.requestBytes());
        assertEquals(List.of(1, 4), result.levels().stream().map(LoadLevel::concurrency).toList());
        checkLevels(result, 4);

        String table = result.format();
        List<String> lines = table.lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.contains("concurrency") && l.contains("req/s") && l.contains("p99 ms")
                && l.contains("errors") && l.contains("windows") && l.contains("stable")), table);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(String.format("%11d ", 1))), table);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(String.format("%11d ", 4))), table);
        assertFalse(table.contains("failed"), table);

        String json = JSON.writeValueAsString(result);
        JsonNode tree = JSON.readTree(json);
        JsonNode first = tree.get("levels").get(0);
        for (String field : List.of("concurrency", "throughputPerSecond", "throughputMinPerSecond", "throughputMaxPerSecond",
                "latencyP50Millis", "latencyP90Millis", "latencyP99Millis", "requests", "errors", "windows", "stable",
                "clientCpuPercent", "clientBusyPercent", "clientLimited")) {
            assertTrue(first.has(field), field + " in " + json);
        }
        assertFalse(first.has("errorSample"), "no errors, no sample: " + json);
        assertFalse(tree.has("format"), json);
        assertEquals(result, JSON.readValue(json, LoadResult.class), "plain values survive JSON");
    }

    /** Every level answered, without errors, with consistent figures. */
    private static void checkLevels(LoadResult result, int maxWindows) {
        for (LoadLevel level : result.levels()) {
            String what = result.protocol() + ", concurrency " + level.concurrency() + ": " + level;
            assertTrue(level.requests() > 0, what);
            assertEquals(0, level.errors(), what);
            assertNull(level.errorSample(), what);
            assertTrue(level.throughputPerSecond() > 0, what);
            assertTrue(level.throughputMinPerSecond() <= level.throughputPerSecond()
                    && level.throughputPerSecond() <= level.throughputMaxPerSecond(), what);
            assertTrue(level.latencyP50Millis() > 0, what);
            assertTrue(level.latencyP50Millis() <= level.latencyP90Millis(), what);
            assertTrue(level.latencyP90Millis() <= level.latencyP99Millis(), what);
            assertTrue(level.windows() >= 1 && level.windows() <= maxWindows, what);
            assertTrue(!level.stable() || level.windows() >= LoadGenerator.STABLE_WINDOWS, what);
            assertTrue(level.clientCpuPercent() >= 0 && level.clientCpuPercent() <= 100, what);
            // the same CPU time over fewer cores: the share of what the client's threads could use is larger
            assertTrue(level.clientBusyPercent() >= level.clientCpuPercent(), what);
            assertEquals(level.clientBusyPercent() >= LoadGenerator.CLIENT_LIMIT_PERCENT, level.clientLimited(), what);
        }
    }

    @Test
    void binaryTensorDataOverTwoClientThreads() {
        LoadResult result = LoadGenerator.run(server.getURI(), "mlp", quick(1, 4).withProtocol(Protocol.BINARY)
                .withClientThreads(2));
        assertEquals("binary", result.protocol());
        assertEquals(2, result.clientThreads());
        assertEquals("/v2/models/mlp/infer", result.endpoint());
        // the JSON header, then 784 FP32 values as raw bytes: a body far smaller than the JSON one
        assertTrue(result.requestBytes() > 784 * 4 && result.requestBytes() < 784 * 4 + 400, "" + result.requestBytes());
        checkLevels(result, 4);
        assertTrue(result.format().contains("binary tensor data"), result.format());
        assertTrue(result.format().contains("load generator's 2 threads"), result.format());

        LoadResult mixed = LoadGenerator.run(server.getURI(), "mixed", quick(2).withProtocol(Protocol.BINARY));
        checkLevels(mixed, 4);
    }

    @Test
    void grpcModelInferWithRawContents() {
        LoadResult result = LoadGenerator.run(server.getURI(), "mlp", quick(1, 4).withProtocol(Protocol.GRPC)
                .withGrpcTarget(grpcTarget).withClientThreads(2));
        assertEquals("grpc", result.protocol());
        assertEquals(grpcTarget, result.endpoint());
        assertTrue(result.requestBytes() > 784 * 4 && result.requestBytes() < 784 * 4 + 200, "" + result.requestBytes());
        checkLevels(result, 4);
        assertTrue(result.format().contains("gRPC ModelInfer at " + grpcTarget), result.format());

        LoadResult mixed = LoadGenerator.run(server.getURI(), "mixed", quick(2).withProtocol(Protocol.GRPC)
                .withGrpcTarget(grpcTarget));
        checkLevels(mixed, 4);
    }

    /** A JSON body given is sent as it is over JSON, and its inputs (here: not zeros) over binary data and gRPC. */
    @Test
    void aGivenBodysInputsAreSentOverEveryProtocol() {
        byte[] body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,3],\"datatype\":\"FP32\",\"data\":[1,2,3,4,5,6]},"
                .concat("{\"name\":\"k\",\"shape\":[2,1],\"datatype\":\"INT64\",\"data\":[3,-1]}]}")
                .getBytes(StandardCharsets.UTF_8);
        for (Protocol p : Protocol.values()) {
            LoadResult result = LoadGenerator.run(server.getURI(), "mixed", quick(1).withMaxWindows(1)
                    .withProtocol(p).withGrpcTarget(grpcTarget).withBody(body));
            assertFalse(result.generatedBody(), p.toString());
            if (p == Protocol.JSON) assertEquals(body.length, result.requestBytes());
            else assertTrue(result.requestBytes() < body.length + 200, p + ": " + result.requestBytes());
            checkLevels(result, 1);
        }
        // not a request for this model: refused before the run, in the server's words
        byte[] wrong = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,5],\"datatype\":\"FP32\",\"data\":[0,0,0,0,0]}]}"
                .getBytes(StandardCharsets.UTF_8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoadGenerator.run(server.getURI(),
                "mlp", quick(1).withProtocol(Protocol.BINARY).withBody(wrong)));
        assertTrue(e.getMessage().startsWith("the body is not an inference request for this model: "), e.getMessage());
        assertTrue(e.getMessage().contains("does not match the model's input shape"), e.getMessage());
    }

    /** A 200 answer without binary tensor data, to a binary request, is an error: here a JSON endpoint's. */
    @Test
    void anAnswerThatIsNotBinaryDataIsAnError() {
        LoadResult result = LoadGenerator.run(server.getURI(), "mlp", quick(1).withMaxWindows(1)
                .withWindow(Duration.ofMillis(300)).withProtocol(Protocol.BINARY).withEndpoint("/v2/repository/index"));
        LoadLevel level = result.levels().get(0);
        assertTrue(level.errors() > 0 && level.errors() == level.requests(), level.toString());
        assertTrue(level.errorSample().startsWith("HTTP 200 without Inference-Header-Content-Length (Content-Type "
                + "application/json)"), level.errorSample());
    }

    /** Nothing on the gRPC port: every call fails, counted with gRPC's status; the run goes on and ends. */
    @Test
    void grpcCallsToAClosedPortAreCountedAsErrors() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        LoadResult result = LoadGenerator.run(server.getURI(), "mlp", quick(2).withMaxWindows(1)
                .withWindow(Duration.ofMillis(300)).withProtocol(Protocol.GRPC).withGrpcTarget("127.0.0.1:" + port));
        LoadLevel level = result.levels().get(0);
        assertTrue(level.errors() > 0 && level.errors() == level.requests(), level.toString());
        assertTrue(level.errorSample().startsWith("gRPC UNAVAILABLE (127.0.0.1:" + port + ")"), level.errorSample());
    }

    /** When the client's threads were the limit, the table says so, naming the level. */
    @Test
    void theTableSaysWhenTheClientWasTheLimit() {
        LoadLevel busy = new LoadLevel(64, 1000, 990, 1010, 1, 2, 3, 3000, 0, null, 3, true, 48, 96, true);
        LoadLevel idle = new LoadLevel(1, 100, 99, 101, 1, 2, 3, 300, 0, null, 3, true, 5, 10, false);
        LoadResult result = new LoadResult("http://h:1", "m", "json", "/v2/models/m/infer", 100, true, 1, 2000, 1000, 10,
                10, 2, List.of(idle, busy));
        String table = result.format();
        assertTrue(table.contains("concurrency 64: the client was the limit, not the server: its thread was busy 96% of "
                + "the time; give more --client-threads"), table);
        assertFalse(table.contains("concurrency 1: the client"), table);
    }

    @Test
    void theGeneratedBodyIsAcceptedByAModelWithAFloatAndAnIntegerInput() {
        LoadResult result = LoadGenerator.run(server.getURI(), "mixed",
                quick(2).withMaxWindows(1).withWindow(Duration.ofMillis(500)));
        LoadLevel level = result.levels().get(0);
        assertTrue(level.requests() > 0, level.toString());
        assertEquals(0, level.errors(), level.toString());
        assertEquals(1, level.windows());
        assertFalse(level.stable(), "one window cannot be stable");
    }

    @Test
    void anUnknownModelIsRefusedWithTheServersMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoadGenerator.run(server.getURI(), "nope", quick(1)));
        assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
        assertTrue(e.getMessage().contains("no model 'nope' in the model repository"), "the server's words: " + e.getMessage());
        assertTrue(e.getMessage().contains("mixed, mlp"), "the server lists what it serves: " + e.getMessage());
    }

    @Test
    void aClosedPortCannotBeReached() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        URI closed = URI.create("http://127.0.0.1:" + port);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoadGenerator.run(closed, "mlp", quick(1)));
        assertTrue(e.getMessage().startsWith("cannot reach http://127.0.0.1:" + port + ": connection refused"), e.getMessage());
        assertTrue(e.getMessage().contains("is `squeeze serve` running?"), e.getMessage());
    }

    @Test
    void anAddressThatIsNotHttpIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> LoadGenerator.run(URI.create("ftp://127.0.0.1:1"), "mlp", quick(1)));
        assertThrows(IllegalArgumentException.class, () -> LoadGenerator.run(URI.create("127.0.0.1:8080"), "mlp", quick(1)));
    }

    @Test
    void aBodyTheServerRefusesIsCountedAsErrorsWithItsMessage() {
        byte[] wrongShape = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,5],\"datatype\":\"FP32\",\"data\":[0,0,0,0,0]}]}"
                .getBytes(StandardCharsets.UTF_8);
        LoadResult result = LoadGenerator.run(server.getURI(), "mlp", quick(2).withMaxWindows(2).withBody(wrongShape));
        LoadLevel level = result.levels().get(0);
        assertFalse(result.generatedBody());
        assertEquals(wrongShape.length, result.requestBytes());
        assertTrue(level.errors() > 0, level.toString());
        assertEquals(level.requests(), level.errors(), "every request fails: " + level);
        assertEquals(0, level.throughputPerSecond(), "throughput counts answers that succeeded");
        assertTrue(level.errorSample().startsWith("HTTP 400: "), level.errorSample());
        assertTrue(level.errorSample().contains("does not match the model's input shape"), level.errorSample());
        assertTrue(result.format().contains("the first: HTTP 400"), result.format());
    }

    @Test
    void aCustomEndpointNamesTheModel() {
        // A path the server does not have: 404 on every request, counted, not thrown.
        LoadResult result = LoadGenerator.run(server.getURI(), "mlp", quick(1).withMaxWindows(1)
                .withWindow(Duration.ofMillis(500)).withEndpoint("/v2/models/{name}/nothing"));
        assertEquals("/v2/models/mlp/nothing", result.endpoint());
        LoadLevel level = result.levels().get(0);
        assertTrue(level.errors() > 0 && level.errors() == level.requests(), level.toString());
        assertTrue(level.errorSample().startsWith("HTTP 404"), level.errorSample());
    }

    // ---- the body built from metadata ----------------------------------------------------------------------------

    @Test
    void theBodyFromMetadataIsOneExampleOfZerosForEveryCarriedType() {
        List<TensorSpec> inputs = new ArrayList<>();
        for (TensorType type : TensorType.values()) {
            if (type.carried()) inputs.add(new TensorSpec("in_" + type, type, new long[]{-1, 2, 3}));
        }
        inputs.add(new TensorSpec("scalar", TensorType.INT32, new long[0]));
        inputs.add(new TensorSpec("empty", TensorType.FP32, new long[]{-1, 0}));
        ModelSpec spec = new ModelSpec(inputs, List.of(new TensorSpec("y", TensorType.FP32, new long[]{-1})));
        byte[] metadata = InferenceProtocol.metadata("every", List.of("1"), spec, Map.of());

        byte[] body = LoadGenerator.requestBody(metadata);

        InferRequest request = InferenceProtocol.parseRequest(body, spec, 1_000_000);
        assertEquals(inputs.size(), request.inputs().size());
        for (HostTensor t : request.inputs()) {
            TensorSpec s = spec.input(t.name());
            assertEquals(s.type(), t.type(), t.name());
            long[] want = Arrays.stream(s.shape()).map(d -> d < 0 ? 1 : d).toArray();
            assertArrayEquals(want, t.shape(), t.name());
            Object data = t.data();
            int n = java.lang.reflect.Array.getLength(data);
            assertEquals(Arrays.stream(want).reduce(1, (a, b) -> a * b), n, t.name());
            for (int i = 0; i < n; i++) {
                Object v = java.lang.reflect.Array.get(data, i);
                boolean zero = v instanceof Boolean b ? !b : v instanceof String str ? str.isEmpty() : ((Number) v).doubleValue() == 0;
                assertTrue(zero, t.name() + "[" + i + "] = " + v);
            }
        }
    }

    @Test
    void metadataThatCannotMakeABodyIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> LoadGenerator.requestBody("not json".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> LoadGenerator.requestBody("{\"name\":\"m\"}".getBytes(StandardCharsets.UTF_8)));
        IllegalArgumentException huge = assertThrows(IllegalArgumentException.class, () -> LoadGenerator.requestBody(
                "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,100000,100000]}]}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(huge.getMessage().contains("give a request body"), huge.getMessage());
        IllegalArgumentException type = assertThrows(IllegalArgumentException.class, () -> LoadGenerator.requestBody(
                "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FLOAT\",\"shape\":[1]}]}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(type.getMessage().contains("'FLOAT'"), type.getMessage());
        assertEquals("{\"inputs\":[{\"name\":\"x\",\"shape\":[1,0],\"datatype\":\"INT64\",\"data\":[]}]}",
                new String(LoadGenerator.requestBody("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT64\",\"shape\":[-1,0]}]}"
                        .getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8));
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    @Test
    void percentilesAreNearestRank() {
        List<Long> values = new ArrayList<>();
        for (long i = 1; i <= 100; i++) values.add(i);
        Collections.shuffle(values, new Random(7));
        long[] shuffled = values.stream().mapToLong(Long::longValue).toArray();
        long[] copy = shuffled.clone();
        assertEquals(50, LoadGenerator.percentile(shuffled, 50));
        assertEquals(90, LoadGenerator.percentile(shuffled, 90));
        assertEquals(99, LoadGenerator.percentile(shuffled, 99));
        assertEquals(100, LoadGenerator.percentile(shuffled, 100));
        assertEquals(1, LoadGenerator.percentile(shuffled, 0));
        assertArrayEquals(copy, shuffled, "the input is not reordered");

        long[] four = {10, 20, 30, 40};
        assertEquals(20, LoadGenerator.percentile(four, 50));
        assertEquals(30, LoadGenerator.percentile(four, 75));
        assertEquals(40, LoadGenerator.percentile(four, 76));
        assertEquals(40, LoadGenerator.percentile(four, 99));
        long[] ten = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertEquals(9, LoadGenerator.percentile(ten, 90), "rank 9 of 10, with no rounding up");
        assertEquals(7, LoadGenerator.percentile(new long[]{7}, 99));
        assertEquals(0, LoadGenerator.percentile(new long[0], 50));
        assertThrows(IllegalArgumentException.class, () -> LoadGenerator.percentile(ten, 101));
        assertThrows(IllegalArgumentException.class, () -> LoadGenerator.percentile(ten, Double.NaN));
    }

    @Test
    void stabilityLooksAtTheLastThreeWindows() {
        assertTrue(LoadGenerator.stable(new double[]{100, 105, 95}, 10));
        assertTrue(LoadGenerator.stable(new double[]{100, 110, 90}, 10), "exactly 10% off the mean is within");
        assertFalse(LoadGenerator.stable(new double[]{100, 112, 88}, 10));
        assertFalse(LoadGenerator.stable(new double[]{100, 150, 50}, 10));
        assertTrue(LoadGenerator.stable(new double[]{1000, 10, 100, 105, 95}, 10), "older windows do not count");
        assertFalse(LoadGenerator.stable(new double[]{100, 105, 95, 300}, 10));
        assertFalse(LoadGenerator.stable(new double[]{100, 100}, 10), "fewer than 3 windows");
        assertFalse(LoadGenerator.stable(new double[0], 10));
        assertTrue(LoadGenerator.stable(new double[]{0, 0, 0}, 10), "nothing succeeded, steadily");
        assertTrue(LoadGenerator.stable(new double[]{100, 130, 70}, 30));
    }

    @Test
    void optionsHaveDefaultsAndCheckTheirValues() {
        LoadOptions o = LoadOptions.of(1, 4);
        assertEquals(List.of(1, 4), o.concurrency());
        assertEquals(Duration.ofSeconds(2), o.window());
        assertEquals(Duration.ofSeconds(1), o.warmUp());
        assertEquals(10, o.stabilityPercent());
        assertEquals(10, o.maxWindows());
        assertNull(o.body());
        assertEquals("/v2/models/{name}/infer", o.endpoint());
        assertEquals(Duration.ofSeconds(30), o.timeout());
        assertEquals(Protocol.JSON, o.protocol());
        assertEquals(1, o.clientThreads());
        assertNull(o.grpcTarget());
        assertEquals(Protocol.GRPC, Protocol.parse(" gRPC "));
        IllegalArgumentException p = assertThrows(IllegalArgumentException.class, () -> Protocol.parse("http2"));
        assertEquals("the protocol must be one of json, binary, grpc, got 'http2'", p.getMessage());
        assertThrows(IllegalArgumentException.class, () -> o.withClientThreads(0));
        assertThrows(IllegalArgumentException.class, () -> o.withGrpcTarget("localhost"));
        assertThrows(IllegalArgumentException.class, () -> o.withGrpcTarget("localhost:0"));
        assertEquals("localhost:8081", o.withGrpcTarget(" localhost:8081 ").grpcTarget());

        assertEquals(List.of(1, 4, 16, 64), LoadOptions.parseConcurrency("1, 4,16 ,64"));
        assertThrows(IllegalArgumentException.class, () -> LoadOptions.parseConcurrency("1,x"));
        assertThrows(IllegalArgumentException.class, () -> LoadOptions.parseConcurrency("0"));
        assertThrows(IllegalArgumentException.class, () -> LoadOptions.parseConcurrency(""));
        assertThrows(IllegalArgumentException.class, () -> LoadOptions.of(List.of()));
        assertThrows(IllegalArgumentException.class, () -> o.withWindow(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> o.withWarmUp(Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> o.withStabilityPercent(0));
        assertThrows(IllegalArgumentException.class, () -> o.withMaxWindows(0));
        assertThrows(IllegalArgumentException.class, () -> o.withEndpoint("v2/infer"));
        assertEquals(Duration.ZERO, o.withWarmUp(Duration.ZERO).warmUp());

        byte[] body = {1, 2, 3};
        LoadOptions withBody = o.withBody(body);
        body[0] = 9;
        assertArrayEquals(new byte[]{1, 2, 3}, withBody.body(), "the options keep their own copy");
        assertEquals(withBody, o.withBody(new byte[]{1, 2, 3}));
    }
}
