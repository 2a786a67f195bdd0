package dev.squeeze.serve.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squeeze.serve.runtime.TensorType;
import dev.squeeze.serve.runtime.TestModels;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server on a real loopback port, with application.yml's defaults except a 1 s read timeout, refusing what it
 * cannot serve: every error status speaks the protocol's {@code {"error": ...}}, a corrupt compressed body is a 400, an
 * image decompression bomb is refused before it is decoded, a body that stops short of its Content-Length is answered
 * 408 once the read timeout passes; and a 4-megapixel FP32 image written as JSON fits the default request size.
 */
class ServeRefusalsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    private static final String TINY_REQUEST = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\","
            + "\"data\":[" + "1,".repeat(783) + "1]}]}";
    private static Path models;
    private static EmbeddedServer server;

    @BeforeAll
    static void start() throws Exception {
        models = Files.createTempDirectory("refusals");
        TestModels.scale(models.resolve("image"), 2f, -1, 1, 28, 28);
        // A 2000 x 2000 image in, its mean out (GlobalAveragePool): a 4-megapixel request with a one-number answer.
        TestModels.graph("mean").input("x", TensorType.FP32, -1, 1, 2000, 2000)
                .node("GlobalAveragePool", List.of("x"), List.of("y"))
                .output("y", TensorType.FP32, -1, 1, 1, 1).writeTo(models.resolve("mean"));
        // Reshape to a fixed [2, 2]: ONNX Runtime refuses a batch of one row of 3 when it runs, a failure on the
        // server's side (500).
        TestModels.graph("broken").input("x", TensorType.FP32, -1, 3).int64s("shape", new long[]{2, 2}, 2)
                .node("Reshape", List.of("x", "shape"), List.of("y"))
                .output("y", TensorType.FP32, 2, 2).writeTo(models.resolve("broken"));
        server = SqueezeServer.start(Map.of("squeeze.serve.models", models.toString(), "micronaut.server.port", -1,
                "micronaut.server.read-idle-timeout", "1s"));
        ModelServing serving = server.getApplicationContext().getBean(ModelServing.class);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!(serving.ready("image") && serving.ready("mean") && serving.ready("broken")) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(serving.ready("image") && serving.ready("mean") && serving.ready("broken"), serving.entries().toString());
    }

    @AfterAll
    static void stop() {
        if (server != null) server.getApplicationContext().close();
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder at(String path) {
        return HttpRequest.newBuilder(server.getURI().resolve(path));
    }

    private static HttpResponse<String> post(String path, String contentType, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder r = at(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) r.header(headers[i], headers[i + 1]);
        return send(r);
    }

    /** The protocol's error message of {@code r}, asserting that its body is exactly {@code {"error": "..."}}. */
    private static String error(HttpResponse<String> r) throws IOException {
        return errorOf(r.body(), r.headers().firstValue("Content-Type").orElse(""));
    }

    private static String errorOf(String body, String contentType) throws IOException {
        assertTrue(contentType.startsWith("application/json"), contentType + ": " + body);
        JsonNode json = JSON.readTree(body);
        assertTrue(json.isObject() && json.size() == 1 && json.path("error").isTextual(), "the protocol's error body: " + body);
        assertFalse(json.path("error").asText().isBlank(), body);
        return json.path("error").asText();
    }

    /** A raw HTTP/1.1 exchange: writes {@code head} and {@code body} and reads until the server closes. */
    private static String raw(String head, byte[] body) throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.getPort())) {
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String rawBody(String response) {
        return response.substring(response.indexOf("\r\n\r\n") + 4);
    }

    private static String rawHeader(String response, String name) {
        for (String line : response.substring(0, response.indexOf("\r\n\r\n")).split("\r\n")) {
            if (line.toLowerCase().startsWith(name.toLowerCase() + ":")) return line.substring(name.length() + 1).trim();
        }
        return "";
    }

    @Test
    void aCorruptGzipOrDeflateBodyIsA400() throws Exception {
        byte[] gzip = gzip(TINY_REQUEST.getBytes(StandardCharsets.UTF_8));
        assertEquals(200, post("/v2/models/image/infer", "application/json", gzip, "Content-Encoding", "gzip").statusCode(),
                "a good gzip body is decompressed");

        byte[] garbageAfterMagic = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        byte[] notCompressed = TINY_REQUEST.getBytes(StandardCharsets.UTF_8);
        for (byte[] corrupt : List.of(garbageAfterMagic, notCompressed)) {
            for (String encoding : List.of("gzip", "deflate")) {
                for (String path : List.of("/v2/models/image/infer", "/v1/models/image/predict")) {
                    HttpResponse<String> r = post(path, path.contains("predict") ? "image/png" : "application/json", corrupt,
                            "Content-Encoding", encoding);
                    assertEquals(400, r.statusCode(), path + " " + encoding + ": " + r.body());
                    assertTrue(error(r).contains("Content-Encoding"), error(r));
                }
            }
        }
        // A gzip bomb: 200 MB of zeros in about 200 KB; the limit counts the bytes decompressed, not those sent.
        ByteArrayOutputStream bomb = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(bomb)) {
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 200; i++) z.write(zeros);
        }
        HttpResponse<String> inflated = post("/v2/models/image/infer", "application/json", bomb.toByteArray(), "Content-Encoding", "gzip");
        assertEquals(413, inflated.statusCode(), inflated.body());
        assertTrue(error(inflated).contains("decompressing") && error(inflated).contains("micronaut.server.max-request-size"),
                error(inflated));

        // Cut short: the decoder passes on what it could decompress, which the endpoint then refuses.
        HttpResponse<String> truncated = post("/v2/models/image/infer", "application/json",
                java.util.Arrays.copyOf(gzip, gzip.length / 2), "Content-Encoding", "gzip");
        assertEquals(400, truncated.statusCode(), truncated.body());
        error(truncated);
    }

    @Test
    void everyErrorStatusSpeaksTheProtocol() throws Exception {
        HttpResponse<String> unknownRoute = send(at("/v3/nothing/here").GET());
        assertEquals(404, unknownRoute.statusCode());
        assertTrue(error(unknownRoute).contains("/v3/nothing/here"), error(unknownRoute));

        HttpResponse<String> wrongMethod = send(at("/v2/models/image/infer").DELETE());
        assertEquals(405, wrongMethod.statusCode());
        assertTrue(error(wrongMethod).contains("DELETE") && error(wrongMethod).contains("POST"), error(wrongMethod));

        // (No endpoint can answer 415: every one that takes a body takes any Content-Type.)
        HttpResponse<String> notAcceptable = send(at("/v1/dashboard").header("Accept", "image/gif").GET());
        assertEquals(406, notAcceptable.statusCode());
        assertTrue(error(notAcceptable).contains("application/json"), error(notAcceptable));

        // Content-Length over micronaut.server.max-request-size: refused from the headers, before the body is read.
        String tooLarge = raw("POST /v2/models/image/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: 2000000000\r\nConnection: close\r\n\r\n", "{\"inputs\":".getBytes(StandardCharsets.US_ASCII));
        assertTrue(tooLarge.startsWith("HTTP/1.1 413"), tooLarge);
        String refused = errorOf(rawBody(tooLarge), rawHeader(tooLarge, "Content-Type"));
        assertTrue(refused.contains("2000000000 bytes") && refused.contains("micronaut.server.max-request-size"), refused);

        HttpResponse<String> failed = post("/v2/models/broken/infer", "application/json",
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}".getBytes(StandardCharsets.UTF_8));
        assertEquals(500, failed.statusCode(), failed.body());
        assertTrue(error(failed).contains("broken"), error(failed));
    }

    @Test
    void aFourMegapixelFp32ImageAsJsonFitsTheDefaultRequestSize() throws Exception {
        int n = 2000 * 2000;
        Random random = new Random(17);
        StringBuilder body = new StringBuilder(n * 12 + 100)
                .append("{\"inputs\":[{\"name\":\"x\",\"shape\":[1,1,2000,2000],\"datatype\":\"FP32\",\"data\":[");
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = random.nextFloat();   // written as Java writes a float: "0.73090166", ~11 bytes with the comma
            sum += v;
            if (i > 0) body.append(',');
            body.append(v);
        }
        byte[] bytes = body.append("]}]}").toString().getBytes(StandardCharsets.US_ASCII);
        assertTrue(bytes.length > 40_000_000, "a realistic body: " + bytes.length + " bytes");
        HttpResponse<String> r = post("/v2/models/mean/infer", "application/json", bytes);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode y = JSON.readTree(r.body()).path("outputs").get(0);
        assertEquals("[1,1,1,1]", y.path("shape").toString());
        assertEquals(sum / n, y.path("data").get(0).asDouble(), 1e-3);
    }

    @Test
    void anImageDeclaringHugeDimensionsIsRefusedBeforeItIsDecoded() throws Exception {
        byte[] bomb = blackPng(30_000, 30_000);
        assertTrue(bomb.length < 1_000_000, "small on disk: " + bomb.length);
        long start = System.nanoTime();
        HttpResponse<String> r = post("/v1/models/image/predict", "image/png", bomb);
        assertEquals(400, r.statusCode(), r.body().substring(0, Math.min(300, r.body().length())));
        String message = error(r);
        assertTrue(message.contains("30000x30000") && message.contains("squeeze.serve.max-image-pixels"), message);
        assertTrue(message.contains("16777216"), "the default limit: max(4096 x 4096, 64 x 28 x 28): " + message);
        assertTrue(System.nanoTime() - start < 20_000_000_000L, "answered at once");

        // An image larger than the model's input, within the limit, is still resized and served.
        BufferedImage big = new BufferedImage(1000, 1000, BufferedImage.TYPE_BYTE_GRAY);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(big, "png", png);
        HttpResponse<String> ok = post("/v1/models/image/predict", "image/png", png.toByteArray());
        assertEquals(200, ok.statusCode(), ok.body());
    }

    @Test
    void aBodyShorterThanItsContentLengthIsAnswered408WhenTheReadTimeoutPasses() throws Exception {
        long start = System.nanoTime();
        // 10 of the 1000 bytes promised, then silence; the server's read timeout is 1 s here.
        String answer = raw("POST /v2/models/image/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: 1000\r\n\r\n", "{\"inputs\":".getBytes(StandardCharsets.US_ASCII));
        double seconds = (System.nanoTime() - start) / 1e9;
        assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
        String message = errorOf(rawBody(answer), rawHeader(answer, "Content-Type"));
        assertTrue(message.contains("micronaut.server.read-idle-timeout"), message);
        assertEquals("close", rawHeader(answer, "Connection"));
        assertTrue(seconds < 30, "answered after the 1 s timeout, not the old 300 s: " + seconds + " s");

        // The same for the image endpoint, and the server still serves afterwards.
        String predict = raw("POST /v1/models/image/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                + "Content-Length: 1000\r\n\r\n", new byte[10]);
        assertTrue(predict.startsWith("HTTP/1.1 408"), predict);
        assertEquals(200, post("/v2/models/image/infer", "application/json", TINY_REQUEST.getBytes(StandardCharsets.UTF_8)).statusCode());
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    /** A valid all-black 1-bit grey PNG of {@code width} x {@code height}: a few hundred KB however large it claims to be. */
    static byte[] blackPng(int width, int height) throws IOException {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        byte[] row = new byte[1 + (width + 7) / 8];   // filter byte 0, then the packed pixels, all 0
        try (DeflaterOutputStream z = new DeflaterOutputStream(idat, new Deflater(), 1 << 16)) {
            for (int y = 0; y < height; y++) z.write(row);
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(png);
        out.write(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream h = new DataOutputStream(ihdr);
        h.writeInt(width);
        h.writeInt(height);
        h.write(new byte[]{1, 0, 0, 0, 0});   // bit depth 1, grey, deflate, adaptive filtering, no interlace
        chunk(out, "IHDR", ihdr.toByteArray());
        chunk(out, "IDAT", idat.toByteArray());
        chunk(out, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(DataOutputStream out, String type, byte[] data) throws IOException {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeInt(data.length);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeInt((int) crc.getValue());
    }
}
