package dev.squeeze.serve.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.squeeze.serve.http.ServedModels;
import dev.squeeze.serve.http.SqueezeServer;
import dev.squeeze.serve.runtime.HostTensor;
import dev.squeeze.serve.runtime.TensorType;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A third-party gRPC client calls the server: Node's {@code @grpc/grpc-js} with {@code @grpc/proto-loader}, loading the
 * server's own {@code grpc_predict_v2.proto} at run time (serve/src/test/node/infer.js), sends ModelInfer with
 * {@code raw_input_contents} to a real Squeeze export (int8 mlp-tiny), and the answer is checked here against the same
 * file run in-process in ONNX Runtime. The optional group {@code node}: it runs where {@code npm ci} has installed the
 * client's modules in serve/src/test/node (the parent pom's node profile; .ci/run installs them).
 */
@Tag("node")
class NodeGrpcClientTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void nodesGrpcJsGetsTheInProcessAnswerFromRawContents() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        ServedModels.install(models, "tiny-int8", "tiny-int8.onnx");
        EmbeddedServer server = SqueezeServer.start(Map.of("squeeze.serve.models", models.toString(),
                "micronaut.server.port", -1, "squeeze.serve.grpc-port", 0));
        try {
            // two images in one request, raw: FP32 little-endian, as any client writes them
            float[] pixels = new float[2 * 784];
            System.arraycopy(ServedModels.pixels(0), 0, pixels, 0, 784);
            System.arraycopy(ServedModels.pixels(1), 0, pixels, 784, 784);
            ByteBuffer raw = ByteBuffer.allocate(pixels.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float p : pixels) raw.putFloat(p);
            ObjectNode request = JSON.createObjectNode().put("model_name", "tiny-int8").put("id", "from-node");
            ObjectNode input = request.putArray("inputs").addObject().put("name", "input").put("datatype", "FP32");
            input.putArray("shape").add(2).add(1).add(28).add(28);
            request.putArray("raw_input_contents").add(Base64.getEncoder().encodeToString(raw.array()));
            Path requestFile = dir.resolve("request.json");
            JSON.writeValue(requestFile.toFile(), request);

            JsonNode answer = node(GrpcServer.of(server.getApplicationContext()).target(), requestFile);

            JsonNode metadata = answer.path("metadata");
            assertEquals("tiny-int8", metadata.path("name").asText(), answer.toString());
            assertEquals("FP32", metadata.path("inputs").path(0).path("datatype").asText(), answer.toString());
            JsonNode response = answer.path("response");
            assertEquals("tiny-int8", response.path("model_name").asText(), answer.toString());
            assertEquals("1", response.path("model_version").asText());
            assertEquals("from-node", response.path("id").asText());

            List<HostTensor> expected = GrpcTestModels.inProcess(models.resolve("tiny-int8/model.onnx"),
                    List.of(new HostTensor("input", TensorType.FP32, new long[]{2, 1, 28, 28}, pixels)));
            JsonNode outputs = response.path("outputs");
            assertEquals(expected.size(), outputs.size(), answer.toString());
            assertEquals(expected.size(), response.path("raw_output_contents").size(), "raw in, raw out: " + answer);
            for (int i = 0; i < expected.size(); i++) {
                HostTensor e = expected.get(i);
                JsonNode o = outputs.path(i);
                assertEquals(e.name(), o.path("name").asText());
                assertEquals("FP32", o.path("datatype").asText());
                List<Long> shape = new ArrayList<>();
                o.path("shape").forEach(d -> shape.add(Long.parseLong(d.asText())));
                assertEquals(List.of(2L, 10L), shape);
                float[] got = new float[20];
                ByteBuffer.wrap(Base64.getDecoder().decode(response.path("raw_output_contents").path(i).asText()))
                        .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(got);
                assertArrayEquals((float[]) e.data(), got, e.name());
            }
        } finally {
            server.getApplicationContext().close();
        }
    }

    /** Runs serve/src/test/node/infer.js against {@code target}; its one line of JSON. */
    private JsonNode node(String target, Path request) throws Exception {
        Path clientDir = Path.of(System.getProperty("squeeze.test.node.dir", "src/test/node")).toAbsolutePath();
        assertTrue(Files.isDirectory(clientDir.resolve("node_modules/@grpc/grpc-js")),
                "this test needs the client's modules: cd " + clientDir + " && npm ci (.ci/run does)");
        Path proto = clientDir.resolve("../../main/proto/grpc_predict_v2.proto").normalize();
        String node = findNode();
        Path out = dir.resolve("node.out");
        Process p = new ProcessBuilder(node, clientDir.resolve("infer.js").toString(), target, proto.toString(), request.toString())
                .directory(clientDir.toFile()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("node did not finish in 120 s:\n" + Files.readString(out));
        }
        String printed = Files.readString(out);
        assertEquals(0, p.exitValue(), printed);
        String last = printed.strip().lines().reduce((a, b) -> b).orElse("");
        return JSON.readTree(last);
    }

    private static String findNode() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String name : List.of("node", "nodejs")) {
                Path candidate = Path.of(dir, name);
                if (Files.isExecutable(candidate)) return candidate.toString();
            }
        }
        throw new IllegalStateException("this test needs Node.js: apt-get install nodejs npm (.ci/run does)");
    }
}
