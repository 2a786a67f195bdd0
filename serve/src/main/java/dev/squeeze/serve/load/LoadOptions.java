package dev.squeeze.serve.load;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * How {@link LoadGenerator} measures a server: the concurrency levels, the measurement window and warm-up, when the
 * windows count as stable, and what each request sends. Start from {@link #of} (the defaults) and change what you need
 * with the {@code with...} methods.
 *
 * @param concurrency      the concurrency levels, in the order they are measured: at level c, c virtual users each
 *                         send their next request as soon as their previous answer arrives (at least 1 each)
 * @param window           one measurement window (default 2 s)
 * @param warmUp           how long each level runs before its first window, unmeasured (default 1 s; zero for none)
 * @param stabilityPercent the last 3 windows' throughputs must each be within this percent of their mean for a level
 *                         to be stable (default 10)
 * @param maxWindows       the most windows measured per level, stable or not (default 10; below 3 a level is never
 *                         stable)
 * @param body             the request body sent by every request, or null to build one from the model's metadata
 *                         (one example, zeros of each input's datatype)
 * @param endpoint         the path requests are POSTed to, {@code {name}} standing for the model's name (default
 *                         {@code /v2/models/{name}/infer})
 * @param timeout          how long one request may take before it counts as an error (default 30 s); also the
 *                         connect timeout
 */
public record LoadOptions(List<Integer> concurrency, Duration window, Duration warmUp, double stabilityPercent,
                          int maxWindows, byte[] body, String endpoint, Duration timeout) {

    public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(2);
    public static final Duration DEFAULT_WARM_UP = Duration.ofSeconds(1);
    public static final double DEFAULT_STABILITY_PERCENT = 10;
    public static final int DEFAULT_MAX_WINDOWS = 10;
    public static final String DEFAULT_ENDPOINT = "/v2/models/{name}/infer";
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** The most virtual users one level may have. */
    public static final int MAX_CONCURRENCY = 10_000;

    /**
     * Null durations and a null endpoint take their defaults.
     *
     * @throws IllegalArgumentException for an empty concurrency list, a level below 1 or above
     *                                  {@link #MAX_CONCURRENCY}, a window or timeout that is not positive, a negative
     *                                  warm-up, a stability percent that is not positive, fewer than 1 window, or an
     *                                  endpoint that does not start with '/'
     */
    public LoadOptions {
        Objects.requireNonNull(concurrency, "concurrency");
        if (concurrency.isEmpty()) throw new IllegalArgumentException("give at least one concurrency level");
        for (Integer c : concurrency) {
            if (c == null || c < 1 || c > MAX_CONCURRENCY) {
                throw new IllegalArgumentException("concurrency levels must be from 1 to " + MAX_CONCURRENCY + ", got " + c);
            }
        }
        concurrency = List.copyOf(concurrency);
        window = window == null ? DEFAULT_WINDOW : window;
        warmUp = warmUp == null ? DEFAULT_WARM_UP : warmUp;
        timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
        endpoint = endpoint == null ? DEFAULT_ENDPOINT : endpoint;
        if (window.isNegative() || window.isZero()) throw new IllegalArgumentException("the window must be positive, got " + window);
        if (warmUp.isNegative()) throw new IllegalArgumentException("the warm-up cannot be negative, got " + warmUp);
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("the timeout must be positive, got " + timeout);
        if (!(stabilityPercent > 0) || Double.isInfinite(stabilityPercent)) {
            throw new IllegalArgumentException("the stability percent must be a positive number, got " + stabilityPercent);
        }
        if (maxWindows < 1) throw new IllegalArgumentException("max windows must be at least 1, got " + maxWindows);
        if (!endpoint.startsWith("/")) {
            throw new IllegalArgumentException("the endpoint must be a path starting with '/', such as " + DEFAULT_ENDPOINT
                    + ", got '" + endpoint + "'");
        }
        body = body == null ? null : body.clone();
    }

    /** The defaults for these concurrency levels. */
    public static LoadOptions of(List<Integer> concurrency) {
        return new LoadOptions(concurrency, DEFAULT_WINDOW, DEFAULT_WARM_UP, DEFAULT_STABILITY_PERCENT,
                DEFAULT_MAX_WINDOWS, null, DEFAULT_ENDPOINT, DEFAULT_TIMEOUT);
    }

    /** The defaults for these concurrency levels. */
    public static LoadOptions of(int... concurrency) {
        return of(Arrays.stream(concurrency).boxed().toList());
    }

    /**
     * Concurrency levels as the command line gives them: {@code "1,4,16,64"} (spaces allowed).
     *
     * @throws IllegalArgumentException when a level is not a whole number from 1 to {@link #MAX_CONCURRENCY}
     */
    public static List<Integer> parseConcurrency(String levels) {
        if (levels == null || levels.isBlank()) throw new IllegalArgumentException("give at least one concurrency level, e.g. 1,4,16,64");
        List<Integer> out = new ArrayList<>();
        for (String part : levels.split(",")) {
            String s = part.strip();
            int c;
            try {
                c = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("concurrency levels are whole numbers separated by commas, e.g. 1,4,16,64; got '"
                        + levels + "'");
            }
            if (c < 1 || c > MAX_CONCURRENCY) {
                throw new IllegalArgumentException("concurrency levels must be from 1 to " + MAX_CONCURRENCY + ", got " + c);
            }
            out.add(c);
        }
        return List.copyOf(out);
    }

    /** A copy of the body, or null when it is built from the model's metadata. */
    @Override
    public byte[] body() {
        return body == null ? null : body.clone();
    }

    public LoadOptions withConcurrency(List<Integer> concurrency) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout);
    }

    public LoadOptions withWindow(Duration window) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout);
    }

    public LoadOptions withWarmUp(Duration warmUp) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout);
    }

    public LoadOptions withStabilityPercent(double stabilityPercent) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout);
    }

    public LoadOptions withMaxWindows(int maxWindows) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout);
    }

    /** @param body the bytes every request sends; null builds one from the model's metadata */
    public LoadOptions withBody(byte[] body) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout);
    }

    /** @param endpoint a path, {@code {name}} standing for the model's name; null for the default */
    public LoadOptions withEndpoint(String endpoint) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout);
    }

    public LoadOptions withTimeout(Duration timeout) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LoadOptions x && concurrency.equals(x.concurrency) && window.equals(x.window)
                && warmUp.equals(x.warmUp) && Double.compare(stabilityPercent, x.stabilityPercent) == 0
                && maxWindows == x.maxWindows && Arrays.equals(body, x.body) && endpoint.equals(x.endpoint)
                && timeout.equals(x.timeout);
    }

    @Override
    public int hashCode() {
        return Objects.hash(concurrency, window, warmUp, stabilityPercent, maxWindows, Arrays.hashCode(body), endpoint, timeout);
    }

    @Override
    public String toString() {
        return "LoadOptions[concurrency=" + concurrency + ", window=" + window + ", warmUp=" + warmUp
                + ", stabilityPercent=" + stabilityPercent + ", maxWindows=" + maxWindows + ", body="
                + (body == null ? "from metadata" : body.length + " bytes") + ", endpoint=" + endpoint + ", timeout=" + timeout + "]";
    }
}
