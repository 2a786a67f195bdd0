package dev.squeeze.serve.bench;

import dev.squeeze.core.BadInputException;
import dev.squeeze.core.settings.SettingSpec;
import dev.squeeze.serve.runtime.BadRequestException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A {@code POST /v1/benchmarks} body, checked: {@code {"models": [...], "warmup_ms": 1000, "window_ms": 1000,
 * "max_windows": 10, "threads": 1}}, every key optional (an empty body benchmarks every ready model with
 * {@link BenchmarkOptions#DEFAULTS}, but for the callers). The keys are {@link BenchmarkOptions}' settings, by their recipe names, with their
 * defaults and lower bounds; each also has an upper bound here, so that one request cannot occupy the server's CPU for
 * long, and batch 1 is measured from one caller thread only ({@link BenchmarkOptions#callers()} is 1): a model takes
 * at most 3 x ({@value #MAX_WARMUP_MS} + {@value #MAX_WINDOWS} x {@value #MAX_WINDOW_MS}) ms.
 */
public record BenchmarkRequest(List<String> models, BenchmarkOptions options) {
    public static final long MAX_WARMUP_MS = 10_000;
    public static final long MAX_WINDOW_MS = 10_000;
    public static final int MAX_WINDOWS = 30;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The settings a request may give (by setting name) and the most each may be. */
    private static final Map<String, LongSupplier> MOST = mostValues();

    private static Map<String, LongSupplier> mostValues() {
        Map<String, LongSupplier> most = new LinkedHashMap<>();
        most.put("warmup-ms", () -> MAX_WARMUP_MS);
        most.put("window-ms", () -> MAX_WINDOW_MS);
        most.put("max-windows", () -> MAX_WINDOWS);
        most.put("threads", BenchmarkRequest::maxThreads);   // more only contend
        most.keySet().forEach(name -> BenchmarkOptions.SETTINGS.setting(name).orElseThrow());
        return most;
    }

    /** The most ONNX Runtime threads a benchmark may use: this machine's processors. */
    public static int maxThreads() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** The JSON keys a request may hold: models, then the settings' keys. */
    static List<String> keys() {
        List<String> keys = new ArrayList<>(List.of("models"));
        MOST.keySet().forEach(name -> keys.add(setting(name).key()));
        return keys;
    }

    /**
     * @param body the request body; null or empty for the defaults
     * @throws BadRequestException naming the key and its bounds when the body is not such an object
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
        Map<String, Object> values = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = req.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            JsonNode v = field.getValue();
            if (field.getKey().equals("models")) {
                if (!v.isArray()) throw new BadRequestException("models must be an array of model names, e.g. [\"a\"]");
                for (JsonNode m : v) {
                    if (!m.isTextual()) throw new BadRequestException("models must be an array of model names, e.g. [\"a\"]");
                    models.add(m.asText());
                }
                continue;
            }
            String name = MOST.keySet().stream().filter(n -> setting(n).key().equals(field.getKey())).findFirst()
                    .orElseThrow(() -> new BadRequestException("unknown key '" + shown(field.getKey()) + "'; the keys are "
                            + String.join(", ", keys())));
            values.put(name, bounded(setting(name), v, MOST.get(name).getAsLong()));
        }
        // Batch 1 from one caller only: a benchmark in a serving process should not add threads that compete with it.
        values.put("callers", List.of(1));
        return new BenchmarkRequest(List.copyOf(models), BenchmarkOptions.SETTINGS.build(values));
    }

    private static SettingSpec setting(String name) {
        return BenchmarkOptions.SETTINGS.setting(name).orElseThrow();
    }

    /** The value of {@code v} for integer setting {@code s}: its own rules, then at most {@code most}. */
    private static Object bounded(SettingSpec s, JsonNode v, long most) {
        String range = s.key() + " must be an integer from " + SettingSpec.number(s.min()) + " to " + most
                + (s.name().equals("threads") ? " (this machine's processors)" : "");
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw new BadRequestException(range + ", got " + shown(v.toString()));
        Object value;
        try {
            value = s.parse(v.asText(), s.key());
        } catch (BadInputException e) {
            throw new BadRequestException(range + ", got " + v.longValue());
        }
        if (((Number) value).longValue() > most) throw new BadRequestException(range + ", got " + v.longValue());
        return value;
    }

    private static String shown(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
