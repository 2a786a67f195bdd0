package dev.squeeze.serve.http;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squeeze.serve.runtime.HostTensor;
import dev.squeeze.serve.runtime.InferenceProtocol;
import dev.squeeze.serve.runtime.RawTensors;
import dev.squeeze.serve.runtime.ResponseTensors;
import dev.squeeze.serve.runtime.TensorType;
import dev.squeeze.serve.runtime.TestModels;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Triton's binary tensor data extension on a real loopback port, spoken by the JDK's HTTP client: a real test image
 * in and out as raw bytes, checked against the server's JSON answer and against ONNX Runtime in-process; JSON and
 * binary inputs mixed in one request on models with several inputs of different types (every carried type, BYTES
 * included); binary outputs asked per output and for all; and every bad binary request answered 400 with the
 * protocol's {@code {"error": ...}} saying what was wrong.
 */
class BinaryDataHttpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    private static final String HEADER = "Inference-Header-Content-Length";
    private static Path models;
    private static EmbeddedServer server;

    @BeforeAll
    static void start() throws Exception {
        models = Files.createTempDirectory("binary-data");
        ServedModels.install(models, "tiny", "tiny.onnx");
        TestModels.twoInputs(models.resolve("mixed"));
        // One input per carried type, each passed through: x_TYPE [batch, 2] -> y_TYPE.
        TestModels.Graph every = TestModels.graph("every_type");
        for (TensorType t : carried()) {
            String n = t.name().toLowerCase(Locale.ROOT);
            every.input("x_" + n, t, -1, 2).node("Identity", List.of("x_" + n), List.of("y_" + n)).output("y_" + n, t, -1, 2);
        }
        every.writeTo(models.resolve("every"));
        server = SqueezeServer.start(Map.of("squeeze.serve.models", models.toString(), "micronaut.server.port", -1));
        ModelServing serving = server.getApplicationContext().getBean(ModelServing.class);
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!(serving.ready("tiny") && serving.ready("mixed") && serving.ready("every")) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(serving.ready("tiny") && serving.ready("mixed") && serving.ready("every"), serving.entries().toString());
    }

    @AfterAll
    static void stop() {
        if (server != null) server.getApplicationContext().close();
    }

    private static List<TensorType> carried() {
        return java.util.Arrays.stream(TensorType.values()).filter(TensorType::carried).toList();
    }

    /** What came back: status, Content-Type, the Inference-Header-Content-Length header (-1 when absent), body. */
    private record Answer(int status, String contentType, int jsonBytes, byte[] body) {
        Map<String, HostTensor> outputs() {
            assertEquals(200, status, () -> new String(body, StandardCharsets.UTF_8));
            return ResponseTensors.outputs(body, jsonBytes);
        }

        JsonNode json() {
            return ResponseTensors.json(body, jsonBytes);
        }

        /** The protocol's error message, asserting a 400 whose body is exactly {@code {"error": "..."}}. */
        String error() throws IOException {
            String text = new String(body, StandardCharsets.UTF_8);
            assertEquals(400, status, text);
            assertTrue(contentType.startsWith("application/json"), contentType + ": " + text);
            assertEquals(-1, jsonBytes, "no " + HEADER + " on an error");
            JsonNode e = JSON.readTree(body);
            assertTrue(e.isObject() && e.size() == 1 && e.path("error").isTextual(), text);
            return e.path("error").asText();
        }
    }

    private static Answer post(String model, byte[] body, String jsonLength, String... headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(server.getURI().resolve("/v2/models/" + model + "/infer"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Content-Type", jsonLength == null ? "application/json" : "application/octet-stream");
        if (jsonLength != null) r.header(HEADER, jsonLength);
        for (int i = 0; i < headers.length; i += 2) r.header(headers[i], headers[i + 1]);
        HttpResponse<byte[]> response = CLIENT.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Answer(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""),
                response.headers().firstValue(HEADER).map(Integer::parseInt).orElse(-1), response.body());
    }

    private static Answer post(String model, InferenceProtocol.Body body) throws Exception {
        return post(model, body.bytes(), body.binary() ? Integer.toString(body.jsonBytes()) : null);
    }

    /** {@code json} and the raw bytes after it, with the header giving the JSON's length. */
    private static Answer post(String model, String json, byte[]... raw) throws Exception {
        return post(model, body(json, raw), Integer.toString(json.getBytes(StandardCharsets.UTF_8).length));
    }

    private static byte[] body(String json, byte[]... raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(json.getBytes(StandardCharsets.UTF_8));
        for (byte[] r : raw) out.writeBytes(r);
        return out.toByteArray();
    }

    private static byte[] fp32(float... values) {
        return RawTensors.encode(new HostTensor("x", TensorType.FP32, new long[]{values.length}, values));
    }

    private static HostTensor image(int i) {
        return new HostTensor("input", TensorType.FP32, new long[]{1, 1, 28, 28}, ServedModels.pixels(i));
    }

    /** The tiny export run in-process by ONNX Runtime on test image {@code i}: each output's values. */
    private static Map<String, float[]> inProcess(int i) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(models.resolve("tiny/model.onnx").toString(), new OrtSession.SessionOptions());
             OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(ServedModels.pixels(i)), new long[]{1, 1, 28, 28});
             OrtSession.Result r = session.run(Map.of("input", x))) {
            Map<String, float[]> out = new LinkedHashMap<>();
            for (var e : r) {
                FloatBuffer b = ((OnnxTensor) e.getValue()).getFloatBuffer();
                float[] a = new float[b.remaining()];
                b.get(a);
                out.put(e.getKey(), a);
            }
            return out;
        }
    }

    @Test
    void aRealImageInBinaryComesBackInBinaryAsTheJsonAnswerAndOnnxRuntimeInProcessHaveIt() throws Exception {
        for (int i = 0; i < 4; i++) {
            Answer binary = post("tiny", InferenceProtocol.request("img-" + i, List.of(image(i)), Set.of("input"), true));
            assertEquals(200, binary.status());
            assertEquals("application/octet-stream", binary.contentType());
            assertTrue(binary.jsonBytes() > 0 && binary.jsonBytes() < binary.body().length, "the JSON part's length");
            assertEquals("img-" + i, binary.json().path("id").asText());
            assertEquals("tiny", binary.json().path("model_name").asText());
            Map<String, HostTensor> got = binary.outputs();
            assertEquals(Set.of("logits", "probabilities"), got.keySet());
            int rawBytes = 0;
            for (JsonNode o : binary.json().path("outputs")) {
                assertFalse(o.has("data"), o.toString());
                rawBytes += o.path("parameters").path("binary_data_size").asInt();
            }
            assertEquals(2 * 10 * 4, rawBytes, "two outputs of 10 FP32 values");

            Answer json = post("tiny", InferenceProtocol.request("img-" + i, List.of(image(i)), Set.of(), false));
            assertEquals("application/json", json.contentType());
            assertEquals(-1, json.jsonBytes(), "no " + HEADER + " on a JSON answer");
            Map<String, HostTensor> fromJson = json.outputs();
            Map<String, float[]> reference = inProcess(i);
            for (String name : got.keySet()) {
                HostTensor b = got.get(name);
                assertTrue(ResponseTensors.same(fromJson.get(name), b), name + ": binary and JSON answers differ");
                assertArrayEquals(new long[]{1, 10}, b.shape());
                float[] want = reference.get(name);
                float[] have = (float[]) b.data();
                for (int c = 0; c < want.length; c++) {
                    assertEquals(want[c], have[c], 1e-5f * Math.max(1, Math.abs(want[c])), name + "[" + c + "] of image " + i);
                }
            }
        }
    }

    @Test
    void jsonAndBinaryInputsMixInOneRequestToAModelOfAFloatAndAnInt64Input() throws Exception {
        String kJson = "{\"name\": \"k\", \"shape\": [2, 1], \"datatype\": \"INT64\", \"data\": [3, 9007199254740993]}";
        String xBinary = "{\"name\": \"x\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"parameters\": {\"binary_data_size\": 24}}";
        byte[] x = fp32(1, 2.5f, -3, 4, 5, 6);
        byte[] k = RawTensors.encode(new HostTensor("k", TensorType.INT64, new long[]{2}, new long[]{3, 9007199254740993L}));
        String kBinary = kJson.replace("\"data\": [3, 9007199254740993]", "\"parameters\": {\"binary_data_size\": 16}");
        String xJson = xBinary.replace("\"parameters\": {\"binary_data_size\": 24}", "\"data\": [[1, 2.5, -3], [4, 5, 6]]");
        String xFirst = "{\"id\": \"m\", \"inputs\": [" + xBinary + ", " + kJson + "]}";
        List<Answer> answers = List.of(
                post("mixed", xFirst, x),
                post("mixed", "{\"id\": \"m\", \"inputs\": [" + kBinary + ", " + xJson + "]}", k),
                post("mixed", "{\"id\": \"m\", \"inputs\": [" + kBinary + ", " + xBinary + "]}", k, x),
                // compressed: the header gives the JSON's length in the decompressed body
                post("mixed", gzip(body(xFirst, x)), Integer.toString(xFirst.length()), "Content-Encoding", "gzip"));
        for (Answer a : answers) {
            Map<String, HostTensor> out = a.outputs();
            assertEquals("application/json", a.contentType(), "no binary output was asked for");
            assertEquals("m", a.json().path("id").asText());
            float[] xs = {1, 2.5f, -3, 4, 5, 6};
            long[] ks = {3, 9007199254740993L};
            float[] y = (float[]) out.get("y").data();
            for (int i = 0; i < 6; i++) assertEquals(xs[i] * (float) ks[i / 3], y[i], 0f, "y[" + i + "]");
            assertArrayEquals(new long[]{6, 18014398509481986L}, (long[]) out.get("z").data());
        }
    }

    private static byte[] gzip(byte[] body) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(body);
        }
        return out.toByteArray();
    }

    /** One [2, 2] tensor of each carried type, named x_TYPE, with values at each type's edges. */
    private static List<HostTensor> everyType() {
        List<HostTensor> out = new ArrayList<>();
        for (TensorType t : carried()) {
            Object data = switch (t) {
                case BOOL -> new boolean[]{true, false, false, true};
                case UINT8 -> new byte[]{0, 1, (byte) 200, (byte) 255};
                case INT8 -> new byte[]{Byte.MIN_VALUE, -1, 0, Byte.MAX_VALUE};
                case INT16 -> new short[]{Short.MIN_VALUE, -2, 3, Short.MAX_VALUE};
                case INT32 -> new int[]{Integer.MIN_VALUE, -5, 6, Integer.MAX_VALUE};
                case INT64 -> new long[]{Long.MIN_VALUE, (1L << 53) + 1, 0, Long.MAX_VALUE};
                case FP16 -> new short[]{0x3e00, (short) 0xfbff, 0x0001, 0x7e00};      // 1.5, -65504, smallest, NaN
                case BF16 -> new short[]{0x3dcd, (short) 0xff80, 0x0001, 0x7f7f};      // 0.1, -inf, smallest, largest
                case FP32 -> new float[]{0.1f, -0f, Float.MIN_VALUE, Float.NaN};
                case FP64 -> new double[]{Math.PI, -Double.MAX_VALUE, Double.MIN_VALUE, Double.POSITIVE_INFINITY};
                case BYTES -> new String[]{"", "héllo 日本語 😀", "tab\tquote\" nul\u0000", "x".repeat(300)};
                default -> throw new IllegalStateException(t.name());
            };
            out.add(new HostTensor("x_" + t.name().toLowerCase(Locale.ROOT), t, new long[]{2, 2}, data));
        }
        return out;
    }

    @Test
    void everyCarriedTypeTravelsAsBinaryDataBothWaysMixedWithJson() throws Exception {
        List<HostTensor> inputs = everyType();
        Set<String> all = new LinkedHashSet<>(inputs.stream().map(HostTensor::name).toList());
        Set<String> everyOther = new LinkedHashSet<>();
        for (int i = 0; i < inputs.size(); i += 2) everyOther.add(inputs.get(i).name());
        for (Set<String> binary : List.of(all, everyOther)) {
            Answer a = post("every", InferenceProtocol.request(null, inputs, binary, true));
            assertEquals("application/octet-stream", a.contentType());
            Map<String, HostTensor> out = a.outputs();
            assertEquals(inputs.size(), out.size());
            for (HostTensor x : inputs) {
                String y = "y" + x.name().substring(1);
                assertTrue(ResponseTensors.same(new HostTensor(y, x.type(), x.shape(), x.data()), out.get(y)),
                        y + " came back as " + java.util.Arrays.deepToString(new Object[]{out.get(y).data()}));
                assertTrue(a.json().toString().contains("\"name\":\"" + y + "\",\"datatype\":\"" + x.type()
                        + "\",\"shape\":[2,2],\"parameters\":{\"binary_data_size\":"), "binary: " + y);
            }
        }
        // A BYTES tensor: its elements' lengths travel before their UTF-8 bytes, both ways.
        HostTensor s = inputs.stream().filter(t -> t.type() == TensorType.BYTES).findFirst().orElseThrow();
        InferenceProtocol.Body body = InferenceProtocol.request(null, inputs, Set.of(s.name()), false);
        String requestJson = new String(body.bytes(), 0, body.jsonBytes(), StandardCharsets.UTF_8);
        assertTrue(requestJson.contains("{\"name\":\"x_bytes\",\"shape\":[2,2],\"datatype\":\"BYTES\",\"parameters\":"
                + "{\"binary_data_size\":" + RawTensors.encodedBytes(s) + "}}"), requestJson);
        Answer bytesOnly = post("every", withOutputs(body, "[{\"name\": \"y_bytes\", \"parameters\": {\"binary_data\": true}}]"));
        assertEquals(Set.of("y_bytes"), bytesOnly.outputs().keySet());
        assertArrayEquals((String[]) s.data(), (String[]) bytesOnly.outputs().get("y_bytes").data());
        byte[] raw = java.util.Arrays.copyOfRange(bytesOnly.body(), bytesOnly.jsonBytes(), bytesOnly.body().length);
        assertArrayEquals(RawTensors.encode(s), raw, "4-byte little-endian lengths, then the UTF-8 bytes");
    }

    /** {@code body} with an {@code "outputs"} field added to its JSON part (the header's length follows it). */
    private static InferenceProtocol.Body withOutputs(InferenceProtocol.Body body, String outputs) {
        String json = new String(body.bytes(), 0, body.jsonBytes(), StandardCharsets.UTF_8);
        byte[] head = (json.substring(0, json.length() - 1) + ", \"outputs\": " + outputs + "}").getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(head);
        out.write(body.bytes(), body.jsonBytes(), body.bytes().length - body.jsonBytes());
        return new InferenceProtocol.Body(out.toByteArray(), head.length);
    }

    @Test
    void binaryOutputsAreAskedPerOutputOrForAll() throws Exception {
        InferenceProtocol.Body jsonRequest = InferenceProtocol.request("o", List.of(image(0)), Set.of(), false);
        String json = new String(jsonRequest.bytes(), StandardCharsets.UTF_8);
        String head = json.substring(0, json.length() - 1);
        // what follows the request's inputs, and the outputs it makes binary
        Map<String, Set<String>> cases = new LinkedHashMap<>();
        cases.put(", \"outputs\": [{\"name\": \"logits\", \"parameters\": {\"binary_data\": true}}, {\"name\": \"probabilities\"}]}",
                Set.of("logits"));
        cases.put(", \"outputs\": [{\"name\": \"probabilities\", \"parameters\": {\"binary_data\": true}}]}",
                Set.of("probabilities"));
        cases.put(", \"parameters\": {\"binary_data_output\": true}}", Set.of("logits", "probabilities"));
        cases.put(", \"parameters\": {\"binary_data_output\": true}, \"outputs\": [{\"name\": \"logits\"},"
                + " {\"name\": \"probabilities\", \"parameters\": {\"binary_data\": false}}]}", Set.of("logits"));
        cases.put(", \"outputs\": [{\"name\": \"logits\", \"parameters\": {\"binary_data\": false}}]}", Set.of());
        Map<String, HostTensor> reference = post("tiny", json.getBytes(StandardCharsets.UTF_8), null).outputs();
        for (Map.Entry<String, Set<String>> c : cases.entrySet()) {
            String request = head + c.getKey();
            // a JSON request asks for binary outputs without the header; the same image sent as binary data likewise
            for (boolean binaryInput : new boolean[]{false, true}) {
                String what = c.getKey() + (binaryInput ? ", the image as binary data" : ", the image as JSON");
                Answer a = binaryInput
                        ? post("tiny", asBinaryInput(request))
                        : post("tiny", request.getBytes(StandardCharsets.UTF_8), null);
                Map<String, HostTensor> out = a.outputs();
                boolean binary = !c.getValue().isEmpty();
                assertEquals(binary ? "application/octet-stream" : "application/json", a.contentType(), what);
                assertEquals(binary, a.jsonBytes() >= 0, what);
                assertEquals(c.getKey().contains("\"outputs\"") ? c.getKey().split("\"name\"", -1).length - 1 : 2,
                        out.size(), what);
                for (JsonNode o : a.json().path("outputs")) {
                    String name = o.path("name").asText();
                    assertEquals(c.getValue().contains(name), o.path("parameters").has("binary_data_size"), what);
                    assertEquals(!c.getValue().contains(name), o.has("data"), what);
                    assertTrue(ResponseTensors.same(reference.get(name), out.get(name)), name + ": " + what);
                }
            }
        }
    }

    /** The request {@code json} (one FP32 input in "data") with the input sent as binary data instead. */
    private static InferenceProtocol.Body asBinaryInput(String json) {
        int start = json.indexOf("\"data\":[");
        int end = json.indexOf(']', start) + 1;
        String head = json.substring(0, start) + "\"parameters\":{\"binary_data_size\":" + 784 * 4 + "}" + json.substring(end);
        byte[] h = head.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(h);
        out.writeBytes(fp32(ServedModels.pixels(0)));
        return new InferenceProtocol.Body(out.toByteArray(), h.length);
    }

    @Test
    void everyBadBinaryRequestIsA400SayingWhatAndWhatToDo() throws Exception {
        String k = "{\"name\": \"k\", \"shape\": [1, 1], \"datatype\": \"INT64\", \"data\": [1]}";
        String xBinary = "{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"parameters\": {\"binary_data_size\": %s}}";
        String good = "{\"inputs\": [" + String.format(xBinary, 12) + ", " + k + "]}";
        byte[] x = fp32(1, 2, 3);
        int jsonLength = good.getBytes(StandardCharsets.UTF_8).length;
        byte[] body = body(good, x);
        assertEquals(200, post("mixed", body, Integer.toString(jsonLength)).status());

        Map<String, Answer> refused = new LinkedHashMap<>();
        refused.put("binary_data_size is 8 bytes, but shape [1, 3] of FP32 needs 3 values of 4 bytes = 12 bytes",
                post("mixed", "{\"inputs\": [" + String.format(xBinary, 8) + ", " + k + "]}", fp32(1, 2)));
        refused.put("Inference-Header-Content-Length is " + (body.length + 1) + ", past the end of the " + body.length + "-byte body",
                post("mixed", body, Integer.toString(body.length + 1)));
        refused.put("Inference-Header-Content-Length is 'twelve', not a whole number",
                post("mixed", body, "twelve"));
        refused.put("Inference-Header-Content-Length is -12, a negative length",
                post("mixed", body, "-12"));
        refused.put("(its JSON part, the first " + (jsonLength - 2) + " bytes as Inference-Header-Content-Length says) is not valid JSON",
                post("mixed", body, Integer.toString(jsonLength - 2)));
        refused.put("the request body is truncated: input 'x''s binary data (binary_data_size 12) runs past its end: 8 bytes follow",
                post("mixed", good, fp32(1, 2)));
        refused.put("the request body has 4 bytes left over after the binary data of its inputs",
                post("mixed", good, x, fp32(4)));
        refused.put("input 'x' has both \"data\" and binary_data_size",
                post("mixed", "{\"inputs\": [" + String.format(xBinary, 12).replace("}}", "}, \"data\": [1, 2, 3]}") + ", " + k + "]}", x));
        refused.put("binary_data_size must be a whole number of bytes, 0 or more, got -12",
                post("mixed", "{\"inputs\": [" + String.format(xBinary, -12) + ", " + k + "]}", x));
        refused.put("binary_data_size must be a whole number of bytes, 0 or more, got the string \"12\"",
                post("mixed", "{\"inputs\": [" + String.format(xBinary, "\"12\"") + ", " + k + "]}", x));
        refused.put("input 'x' has binary_data_size, but the request has no Inference-Header-Content-Length header",
                post("mixed", good.getBytes(StandardCharsets.UTF_8), null));
        String bytes = "{\"inputs\": [{\"name\": \"x_bytes\", \"shape\": [1, 2], \"datatype\": \"BYTES\", \"parameters\": {\"binary_data_size\": 11}}]}";
        refused.put("BYTES element 1 says it is 9 bytes long but only 1 bytes follow",
                post("every", bytes, new byte[]{2, 0, 0, 0, 'h', 'i', 9, 0, 0, 0, 'x'}));
        refused.put("BOOL byte 1 is 2; BOOL values are one byte each, 0 (false) or 1 (true)",
                post("every", "{\"inputs\": [{\"name\": \"x_bool\", \"shape\": [1, 2], \"datatype\": \"BOOL\", \"parameters\": {\"binary_data_size\": 2}}]}",
                        new byte[]{1, 2}));
        for (Map.Entry<String, Answer> c : refused.entrySet()) {
            String error = c.getValue().error();
            assertTrue(error.contains(c.getKey()), "\"" + error + "\" lacks \"" + c.getKey() + "\"");
        }
        assertEquals(200, post("mixed", body, Integer.toString(jsonLength)).status(), "still serving");
        String metrics = new String(CLIENT.send(HttpRequest.newBuilder(server.getURI().resolve("/metrics")).build(),
                HttpResponse.BodyHandlers.ofByteArray()).body(), StandardCharsets.UTF_8);
        assertTrue(metrics.contains("squeeze_requests_seconds_count{endpoint=\"infer\",model=\"mixed\",outcome=\"client_error\",protocol=\"http\"}"),
                "refusals count as client errors");
    }

    @Test
    void theOpenApiDocumentDescribesBinaryTensorData() throws Exception {
        String doc = CLIENT.send(HttpRequest.newBuilder(server.getURI().resolve("/openapi/squeeze-v2.yml")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        int infer = doc.indexOf("/v2/models/{name}/infer:");
        assertTrue(infer >= 0, doc);
        String section = doc.substring(infer, doc.indexOf("\n  /", infer + 1) > 0 ? doc.indexOf("\n  /", infer + 1) : doc.length());
        assertTrue(section.contains("application/octet-stream") && section.contains(HEADER), section);
    }
}
