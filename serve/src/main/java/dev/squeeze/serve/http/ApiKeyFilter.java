package dev.squeeze.serve.http;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * When {@code squeeze.serve.api-key} is set, the repository endpoints (index, load, unload) and starting a benchmark
 * ({@code POST /v1/benchmarks}, which occupies the CPU) answer 401 unless the request carries the key as
 * {@code Authorization: Bearer KEY} or {@code X-API-Key: KEY}. Inference, and reading benchmark results, stay open.
 */
@ServerFilter({"/v2/repository/**", "/v1/benchmarks", "/v1/benchmarks/**"})
public class ApiKeyFilter {
    private final ServeSettings settings;

    public ApiKeyFilter(ServeSettings settings) {
        this.settings = settings;
    }

    @RequestFilter
    @Nullable
    public HttpResponse<?> check(HttpRequest<?> request) {
        String key = settings.getApiKey();
        if (key == null || key.isEmpty()) return null;
        boolean benchmarks = request.getPath().startsWith("/v1/benchmarks");
        if (benchmarks && request.getMethod() != HttpMethod.POST) return null;
        String refusal = refusal(key, request.getHeaders().get("X-API-Key"), request.getHeaders().get("Authorization"),
                benchmarks ? "starting a benchmark" : "the repository API");
        return refusal == null ? null : ErrorResponses.of(HttpStatus.UNAUTHORIZED, refusal);
    }

    /**
     * The one API key check, for every protocol (the HTTP headers here, gRPC call metadata of the same names): the key
     * from {@code X-API-Key}, else from {@code Authorization: Bearer KEY}, compared in constant time.
     *
     * @param key           the server's key (set)
     * @param apiKey        the {@code X-API-Key} value, or null
     * @param authorization the {@code Authorization} value, or null
     * @param what          what needs the key, for the message ("the repository API")
     * @return null when the key is right; otherwise why the request is refused
     */
    public static String refusal(String key, String apiKey, String authorization, String what) {
        String given = apiKey;
        if (given == null && authorization != null && authorization.startsWith("Bearer ")) {
            given = authorization.substring("Bearer ".length()).trim();
        }
        if (given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), key.getBytes(StandardCharsets.UTF_8))) {
            return null;
        }
        return given == null ? what + " needs the server's API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
                : "wrong API key";
    }
}
