package dev.squeeze.serve.bench;

import dev.squeeze.serve.runtime.BadRequestException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The HTTP API's benchmark settings are BenchmarkOptions' own: its defaults, its lower bounds, the API's caps. */
class BenchmarkRequestTest {
    private static BenchmarkRequest parse(String json) {
        return BenchmarkRequest.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String refusal(String json) {
        return assertThrows(BadRequestException.class, () -> parse(json)).getMessage();
    }

    @Test
    void anEmptyBodyIsTheSettingsDefaultsButForTheCallers() {
        // batch 1 from one caller only: no extra threads in a serving process
        BenchmarkOptions defaults = BenchmarkOptions.DEFAULTS.with("callers", List.of(1));
        assertEquals(new BenchmarkRequest(List.of(), defaults), BenchmarkRequest.parse(null));
        assertEquals(new BenchmarkRequest(List.of(), defaults), parse("{}"));
    }

    @Test
    void keysAreTheSettingsRecipeNames() {
        BenchmarkRequest r = parse("{\"models\": [\"a\"], \"warmup_ms\": 0, \"window_ms\": 7, \"max_windows\": 4, \"threads\": 1}");
        assertEquals(List.of("a"), r.models());
        assertEquals(new BenchmarkOptions(7, 0, 4, BenchmarkOptions.DEFAULTS.minRunsPerWindow(),
                BenchmarkOptions.DEFAULTS.stabilityPercent(), 1, List.of(1)), r.options());
        assertEquals("unknown key 'stabilty'; the keys are models, warmup_ms, window_ms, max_windows, threads",
                refusal("{\"stabilty\": 5}"));
    }

    @Test
    void lowerBoundsAreTheSettingsAndUpperBoundsTheApis() {
        // window-ms is declared min 1, max-windows min 3 (ModelBenchmark.STABLE_WINDOWS): the API says the same
        assertEquals("window_ms must be an integer from 1 to 10000, got 0", refusal("{\"window_ms\": 0}"));
        assertEquals("max_windows must be an integer from 3 to 30, got 2", refusal("{\"max_windows\": 2}"));
        assertEquals("warmup_ms must be an integer from 0 to 10000, got -1", refusal("{\"warmup_ms\": -1}"));
        assertEquals("max_windows must be an integer from 3 to 30, got 31", refusal("{\"max_windows\": 31}"));
        assertEquals("window_ms must be an integer from 1 to 10000, got 1.5", refusal("{\"window_ms\": 1.5}"));
    }
}
