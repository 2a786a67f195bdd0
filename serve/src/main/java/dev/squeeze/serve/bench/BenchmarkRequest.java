package dev.squeeze.serve.bench;

import dev.squeeze.serve.runtime.BadRequestException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A {@code POST /v1/benchmarks} body, checked: {@code {"models": [...], "warmup_ms": 1000, "window_ms": 1000,
 * "max_windows": 10, "threads": 1}}, every key optional (an empty body benchmarks every ready model with
 * {@link BenchmarkOptions#DEFAULTS}). Each number has an upper bound, so that one request cannot occupy the server's
 * CPU for long: a model takes at most 3 x ({@value #MAX_WARMUP_MS} + {@value #MAX_WINDOWS} x {@value #MAX_WINDOW_MS})
 * ms.
 */
public record BenchmarkRequest(List<String> models, BenchmarkOptions options) {
    public static final long MAX_WARMUP_MS = 10_000;
    public static final long MAX_WINDOW_MS = 10_000;
    public static final int MAX_WINDOWS = 30;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEYS = "models, warmup_ms, window_ms, max_windows and threads";

    /** The most ONNX Runtime threads a benchmark may use: this machine's processors. */
    public static int maxThreads() {
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * @param body the request body; null or empty for the defaults
     * @throws BadRequestException naming the key and its bound when the body is not such an object
     */
    public static BenchmarkRequest parse(byte[] body) {
        JsonNode req;
        try {
            req = body == null || body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (IOException e) {
            throw new BadRequestException("the body is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (req == null || !req.isObject()) throw new BadRequestException("send a JSON object, e.g. {\"models\": [\"a\"]}");
        List<String> models = new ArrayList<>();
        BenchmarkOptions o = BenchmarkOptions.DEFAULTS;
        for (Iterator<Map.Entry<String, JsonNode>> it = req.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            JsonNode v = field.getValue();
            switch (field.getKey()) {
                case "models" -> {
                    if (!v.isArray()) throw new BadRequestException("models must be an array of model names, e.g. [\"a\"]");
                    for (JsonNode m : v) {
                        if (!m.isTextual()) throw new BadRequestException("models must be an array of model names, e.g. [\"a\"]");
                        models.add(m.asText());
                    }
                }
                case "warmup_ms" -> o = o.withWarmup(Duration.ofMillis(bounded("warmup_ms", v, 0, MAX_WARMUP_MS)));
                case "window_ms" -> o = o.withWindow(Duration.ofMillis(bounded("window_ms", v, 1, MAX_WINDOW_MS)));
                case "max_windows" -> o = o.withMaxWindows((int) bounded("max_windows", v, ModelBenchmark.STABLE_WINDOWS, MAX_WINDOWS));
                case "threads" -> o = o.withIntraOpThreads((int) bounded("threads", v, 1, maxThreads()));   // more only contend
                default -> throw new BadRequestException("unknown key '" + shown(field.getKey()) + "'; the keys are " + KEYS);
            }
        }
        return new BenchmarkRequest(List.copyOf(models), o);
    }

    private static long bounded(String key, JsonNode v, long min, long max) {
        String range = key + " must be an integer from " + min + " to " + max
                + (key.equals("threads") ? " (this machine's processors)" : "");
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw new BadRequestException(range + ", got " + shown(v.toString()));
        long n = v.longValue();
        if (n < min || n > max) throw new BadRequestException(range + ", got " + n);
        return n;
    }

    private static String shown(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
