package dev.squeeze.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.onnx.OnnxGraph;
import dev.squeeze.serve.grpc.GrpcServer;
import dev.squeeze.serve.http.SqueezeServer;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCommandTest {
    @TempDir
    Path home;

    @Test
    void benchmarksExportsRecordsThemAndReportsTheFrontier() throws Exception {
        CliRun train = CliRun.run(home, "train", "--model", "mlp-tiny", "--epochs", "1", "--data", CliRun.fixtures());
        String id = train.out().lines().findFirst().orElseThrow().split("\\s+")[1];
        Path models = home.resolve("served");
        Files.createDirectories(models.resolve("tiny"));
        assertEquals(ExitCodes.OK, CliRun.run(home, "export", "--from", id, "--output", models.resolve("tiny/model.onnx").toString(),
                "--data", CliRun.fixtures()).exitCode());
        CliRun quantize = CliRun.run(home, "quantize", "--from", id, "--samples", "200", "--calibration", "minmax", "--data", CliRun.fixtures());
        String int8 = quantize.out().lines().filter(l -> l.startsWith("model")).findFirst().orElseThrow().split("\\s+")[1];
        assertEquals(ExitCodes.OK, CliRun.run(home, "export", "--from", int8, "--output", models.resolve("tiny-int8.onnx").toString(),
                "--data", CliRun.fixtures()).exitCode());

        CliRun bench = CliRun.run(home, "bench", "--models", models.toString(), "--window-ms", "100", "--warmup-ms", "50",
                "--max-windows", "4", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, bench.exitCode(), bench.err());
        assertTrue(bench.out().contains("tiny") && bench.out().contains("tiny-int8") && bench.out().contains("%"), bench.out());
        // batch 1 from one caller, then from 16 at once (the default callers 1,16)
        assertTrue(bench.out().lines().findFirst().orElseThrow()
                .matches("MODEL\\s+ACCURACY\\s+FILE.*P99\\s+BATCH 1/S\\s+16 CALLERS/S \\(P50, P99\\)\\s+BATCH 32/S.*"), bench.out());
        assertEquals(3, CliRun.run(home, "runs", "--stage", "bench").out().lines().count(), "header and two rows");
        // bench is a stage like the others (run folder bench-<hash> holding its outcome), but never reused: the
        // same benchmark again measures again, a new row each time, into the same folders
        assertEquals(ExitCodes.OK, CliRun.run(home, "bench", "--models", models.toString(), "--window-ms", "100",
                "--warmup-ms", "50", "--max-windows", "4", "--data", CliRun.fixtures()).exitCode());
        assertEquals(5, CliRun.run(home, "runs", "--stage", "bench").out().lines().count(), "header and four rows");
        try (Stream<Path> files = Files.walk(home)) {
            List<Path> outcomes = files.filter(f -> f.getFileName().toString().equals("outcome.json")
                    && f.getParent().getFileName().toString().startsWith("bench-")).toList();
            assertEquals(2, outcomes.size(), outcomes.toString());
        }

        Path report = home.resolve("report");
        CliRun page = CliRun.run(home, "report", "--output", report.toString());
        assertEquals(ExitCodes.OK, page.exitCode(), page.err());
        String html = Files.readString(report.resolve("index.html"));
        assertTrue(html.contains("tiny-int8") && html.contains("<svg") && !html.contains("<script"), html);
    }

    /**
     * A model with no labelled dataset (written with the ONNX builder: x [batch, 64], MatMul 64→64, Tanh), quantized
     * from its file with inputs: bench shows its fidelity to the float model in a column of its own, the float model
     * beside it as the reference, and the report plots fidelity, named as such.
     */
    @Test
    void aQuantizedFileWithoutLabelsIsMeasuredByItsFidelityToTheFloatModel() throws Exception {
        Path models = Files.createDirectories(home.resolve("served"));
        Random r = new Random(11);
        OnnxGraph g = new OnnxGraph("embedder");
        var f = OnnxMl.TensorProto.DataType.FLOAT;
        float[] w = new float[64 * 64];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() / 8);
        g.output("embedding", g.activation("Tanh", g.matMul(g.input("x", f, -1, 64), g.floats("w", w, 64, 64)),
                Map.of()), f, -1, 64);
        Path floatFile = models.resolve("embedder.onnx");
        Files.write(floatFile, g.model(8, 17, "test", "embedder", Map.of()).toByteArray());
        Path inputs = Files.createDirectories(home.resolve("requests"));
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 8 * 64; i++) data.append(i == 0 ? "" : ",").append((float) r.nextGaussian());
        Files.writeString(inputs.resolve("request.json"), "{\"inputs\":[{\"name\":\"x\",\"shape\":[8,64],"
                + "\"datatype\":\"FP32\",\"data\":[" + data + "]}]}");
        CliRun quantize = CliRun.run(home, "quantize", "--from", floatFile.toString(), "--inputs", inputs.toString(),
                "--mode", "dynamic", "--onnx-output", models.resolve("embedder-int8.onnx").toString());
        assertEquals(ExitCodes.OK, quantize.exitCode(), quantize.err());

        CliRun bench = CliRun.run(home, "bench", "--models", models.toString(), "--window-ms", "20", "--warmup-ms", "0",
                "--max-windows", "3");
        assertEquals(ExitCodes.OK, bench.exitCode(), bench.err());
        List<String> lines = bench.out().lines().toList();
        assertTrue(lines.get(0).matches("MODEL\\s+ACCURACY\\s+FIDELITY TO FLOAT\\s+FILE.*"), bench.out());
        String floatRow = lines.stream().filter(l -> l.startsWith("embedder ")).findFirst().orElseThrow();
        String int8Row = lines.stream().filter(l -> l.startsWith("embedder-int8 ")).findFirst().orElseThrow();
        assertTrue(floatRow.matches("embedder\\s+-\\s+float reference \\(cosine mean 1\\).*"), bench.out());
        assertTrue(int8Row.matches("embedder-int8\\s+-\\s+cosine mean 0\\.9\\d+ \\(embedding, 8 examples\\).*"), bench.out());

        CliRun json = CliRun.run(home, "bench", "--models", models.toString(), "--window-ms", "20", "--warmup-ms", "0",
                "--max-windows", "3", "--json");
        JsonNode results = new ObjectMapper().readTree(json.out());
        assertEquals("embedder-int8", results.get(0).path("name").asText(), "sorted by file name");
        JsonNode int8 = results.get(0);
        JsonNode reference = results.get(1);
        assertTrue(int8.path("accuracy").isNull() && reference.path("accuracy").isNull(), json.out());
        assertTrue(reference.path("fidelity").path("reference").asBoolean(), json.out());
        assertEquals(1.0, reference.path("fidelity").path("value").asDouble(), json.out());
        assertEquals("cosine mean", int8.path("fidelity").path("figure").asText(), json.out());
        assertEquals(reference.path("sha256").asText(), int8.path("fidelity").path("floatSha256").asText());

        Path report = home.resolve("report");
        assertEquals(ExitCodes.OK, CliRun.run(home, "report", "--output", report.toString()).exitCode());
        String html = Files.readString(report.resolve("index.html"));
        assertTrue(html.contains("Fidelity to float vs file size") && html.contains("float reference (cosine mean 1)"), html);
    }

    @Test
    void theLoadTestSendsTheBodyGiven() throws Exception {
        CliRun train = CliRun.run(home, "train", "--model", "mlp-tiny", "--epochs", "1", "--data", CliRun.fixtures());
        String id = train.out().lines().findFirst().orElseThrow().split("\\s+")[1];
        Path models = home.resolve("served");
        assertEquals(ExitCodes.OK, CliRun.run(home, "export", "--from", id, "--output",
                models.resolve("tiny/model.onnx").toString(), "--data", CliRun.fixtures()).exitCode());
        EmbeddedServer server = SqueezeServer.start(Map.of("squeeze.serve.models", models.toString(), "micronaut.server.port", -1,
                "squeeze.serve.grpc-port", 0));
        try {
            // A body of 3 examples, which the body built from the metadata (batch 1, zeros) is not.
            ObjectMapper json = new ObjectMapper();
            JsonNode input = json.readTree(URI.create(server.getURI() + "/v2/models/tiny").toURL()).get("inputs").get(0);
            ObjectNode tensor = json.createObjectNode().put("name", input.get("name").asText()).put("datatype", "FP32");
            ArrayNode shape = tensor.putArray("shape").add(3);
            int features = 1;
            for (int d = 1; d < input.get("shape").size(); d++) {
                shape.add(input.get("shape").get(d).asInt());
                features *= input.get("shape").get(d).asInt();
            }
            ArrayNode data = tensor.putArray("data");
            for (int i = 0; i < 3 * features; i++) data.add(0.5);
            Path body = home.resolve("body.json");
            json.writeValue(body.toFile(), json.createObjectNode().set("inputs", json.createArrayNode().add(tensor)));

            CliRun load = CliRun.run(home, "bench", "--url", server.getURI().toString(), "--model", "tiny", "--body",
                    body.toString(), "--concurrency", "1", "--window-ms", "200", "--warmup-ms", "100", "--max-windows", "3");
            assertEquals(ExitCodes.OK, load.exitCode(), load.err() + load.out());
            assertTrue(load.out().contains(" body (given)"), load.out());
            CliRun asJson = CliRun.run(home, "bench", "--url", server.getURI().toString(), "--model", "tiny", "--body",
                    body.toString(), "--concurrency", "1", "--window-ms", "200", "--warmup-ms", "100", "--max-windows", "3", "--json");
            assertEquals(ExitCodes.OK, asJson.exitCode(), asJson.err());
            JsonNode result = json.readTree(asJson.out());
            assertEquals(Files.size(body), result.get("requestBytes").asLong(), asJson.out());
            assertTrue(result.get("levels").get(0).get("requests").asLong() > 0, asJson.out());
            assertEquals(0, result.get("levels").get(0).get("errors").asLong(), asJson.out());

            // the same inputs as binary tensor data, and over gRPC, from two client threads
            CliRun binary = CliRun.run(home, "bench", "--url", server.getURI().toString(), "--model", "tiny", "--body",
                    body.toString(), "--protocol", "binary", "--client-threads", "2", "--concurrency", "2",
                    "--window-ms", "200", "--warmup-ms", "100", "--max-windows", "3");
            assertEquals(ExitCodes.OK, binary.exitCode(), binary.err() + binary.out());
            assertTrue(binary.out().contains("binary tensor data") && binary.out().contains("load generator's 2 threads"),
                    binary.out());
            String grpcTarget = GrpcServer.of(server.getApplicationContext()).target();
            CliRun grpc = CliRun.run(home, "bench", "--url", server.getURI().toString(), "--model", "tiny", "--body",
                    body.toString(), "--protocol", "grpc", "--grpc-target", grpcTarget, "--concurrency", "2",
                    "--window-ms", "200", "--warmup-ms", "100", "--max-windows", "3", "--json");
            assertEquals(ExitCodes.OK, grpc.exitCode(), grpc.err() + grpc.out());
            JsonNode overGrpc = json.readTree(grpc.out());
            assertEquals("grpc", overGrpc.get("protocol").asText());
            assertEquals(grpcTarget, overGrpc.get("endpoint").asText());
            assertEquals(0, overGrpc.get("levels").get(0).get("errors").asLong(), grpc.out());
        } finally {
            server.getApplicationContext().close();
        }
    }

    @Test
    void aBodyThatIsNotJsonOrWithoutUrlIsRefused() throws Exception {
        Path text = Files.writeString(home.resolve("body.txt"), "input=1,2,3");
        CliRun notJson = CliRun.run(home, "bench", "--url", "http://127.0.0.1:9", "--model", "m", "--body", text.toString());
        assertEquals(ExitCodes.BAD_INPUT, notJson.exitCode());
        assertEquals(1, notJson.errorLines(), notJson.err());
        assertTrue(notJson.err().contains("--body " + text + " is not JSON"), notJson.err());
        CliRun missing = CliRun.run(home, "bench", "--url", "http://127.0.0.1:9", "--model", "m", "--body",
                home.resolve("none.json").toString());
        assertEquals(ExitCodes.BAD_INPUT, missing.exitCode());
        assertTrue(missing.err().contains("no such file"), missing.err());
        CliRun alone = CliRun.run(home, "bench", "--models", home.toString(), "--body", text.toString());
        assertEquals(ExitCodes.BAD_INPUT, alone.exitCode());
        assertTrue(alone.err().contains("--body goes with --url"), alone.err());
        CliRun protocol = CliRun.run(home, "bench", "--models", home.toString(), "--protocol", "grpc");
        assertEquals(ExitCodes.BAD_INPUT, protocol.exitCode());
        assertTrue(protocol.err().contains("--protocol, --client-threads and --grpc-target go with --url"), protocol.err());
        CliRun unknown = CliRun.run(home, "bench", "--url", "http://127.0.0.1:9", "--model", "m", "--protocol", "http3");
        assertEquals(ExitCodes.BAD_INPUT, unknown.exitCode());
        assertEquals(1, unknown.errorLines(), unknown.err());
        assertTrue(unknown.err().contains("the protocol must be one of json, binary, grpc, got 'http3'"), unknown.err());
        CliRun threads = CliRun.run(home, "bench", "--url", "http://127.0.0.1:9", "--model", "m", "--client-threads", "0");
        assertEquals(ExitCodes.BAD_INPUT, threads.exitCode());
        assertTrue(threads.err().contains("client threads must be from 1 to 256, got 0"), threads.err());
    }

    @Test
    void badInputIsOneLine() {
        CliRun neither = CliRun.run(home, "bench");
        assertEquals(ExitCodes.BAD_INPUT, neither.exitCode());
        assertTrue(neither.err().contains("either --models DIR or --url"), neither.err());
        CliRun closed = CliRun.run(home, "bench", "--url", "http://127.0.0.1:9", "--model", "m", "--concurrency", "1");
        assertEquals(ExitCodes.BAD_INPUT, closed.exitCode());
        assertTrue(closed.err().contains("cannot reach"), closed.err());
        CliRun empty = CliRun.run(home, "report", "--output", home.resolve("r").toString());
        assertEquals(ExitCodes.BAD_INPUT, empty.exitCode());
        assertTrue(empty.err().contains("no benchmark"), empty.err());
    }

    @Test
    void aBadMeasurementSettingNamesItsFlag() {
        CliRun windows = CliRun.run(home, "bench", "--models", home.toString(), "--max-windows", "2");
        assertEquals(ExitCodes.BAD_INPUT, windows.exitCode());
        assertEquals(1, windows.errorLines(), windows.err());
        assertTrue(windows.err().contains("--max-windows must be an integer >= 3, got '2'"), windows.err());
        CliRun stability = CliRun.run(home, "bench", "--models", home.toString(), "--stability", "0");
        assertEquals(ExitCodes.BAD_INPUT, stability.exitCode());
        assertTrue(stability.err().contains("--stability must be a number > 0, got '0'"), stability.err());
        // the load test reads the same settings the same way
        CliRun load = CliRun.run(home, "bench", "--url", "http://127.0.0.1:9", "--model", "m", "--warmup-ms", "soon");
        assertEquals(ExitCodes.BAD_INPUT, load.exitCode());
        assertTrue(load.err().contains("--warmup-ms must be an integer >= 0, got 'soon'"), load.err());
    }

    @Test
    void helpShowsEveryMeasurementSettingWithItsDefault() {
        CliRun help = CliRun.run(home, "bench", "--help");
        assertEquals(ExitCodes.OK, help.exitCode());
        for (String option : List.of("--window-ms", "--warmup-ms", "--max-windows", "--min-runs-per-window",
                "--stability", "--threads", "--callers")) {
            assertTrue(help.out().contains(option), option + " in\n" + help.out());
        }
        assertTrue(help.out().contains("(default: 5)") && help.out().contains("(default: 1000)")
                && help.out().contains("(default: 1,16)"), help.out());
    }
}
