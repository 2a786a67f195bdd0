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
 * @param protocol         how requests are sent (default {@link Protocol#JSON})
 * @param clientThreads    the generator's threads sending requests and reading answers (default 1), each with its own
 *                         connections: more, when one thread's CPU is the limit
 * @param grpcTarget       {@code HOST:PORT} of the server's gRPC endpoint, for {@link Protocol#GRPC}; null: the HTTP
 *                         address's host and port {@value #DEFAULT_GRPC_PORT}
 */
public record LoadOptions(List<Integer> concurrency, Duration window, Duration warmUp, double stabilityPercent,
                          int maxWindows, byte[] body, String endpoint, Duration timeout, Protocol protocol,
                          int clientThreads, String grpcTarget) {

    public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(2);
    public static final Duration DEFAULT_WARM_UP = Duration.ofSeconds(1);
    public static final double DEFAULT_STABILITY_PERCENT = 10;
    public static final int DEFAULT_MAX_WINDOWS = 10;
    public static final String DEFAULT_ENDPOINT = "/v2/models/{name}/infer";
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** The most virtual users one level may have. */
    public static final int MAX_CONCURRENCY = 10_000;
    /** The most client threads. */
    public static final int MAX_CLIENT_THREADS = 256;
    /** The server's gRPC port unless told otherwise ({@code squeeze serve --grpc-port}'s default). */
    public static final int DEFAULT_GRPC_PORT = 8081;

    /**
     * Null durations and a null endpoint take their defaults.
     *
     * @throws IllegalArgumentException for an empty concurrency list, a level below 1 or above
     *                                  {@link #MAX_CONCURRENCY}, a window or timeout that is not positive, a negative
     *                                  warm-up, a stability percent that is not positive, fewer than 1 window, an
     *                                  endpoint that does not start with '/', client threads outside 1 to
     *                                  {@link #MAX_CLIENT_THREADS}, or a gRPC target that is not {@code HOST:PORT}
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
        protocol = protocol == null ? Protocol.JSON : protocol;
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
        if (clientThreads < 1 || clientThreads > MAX_CLIENT_THREADS) {
            throw new IllegalArgumentException("client threads must be from 1 to " + MAX_CLIENT_THREADS + ", got " + clientThreads);
        }
        if (grpcTarget != null) grpcTarget = checkedTarget(grpcTarget);
        body = body == null ? null : body.clone();
    }

    /** {@code HOST:PORT} with a port from 1 to 65535, as given (stripped). */
    private static String checkedTarget(String target) {
        String t = target.strip();
        int colon = t.lastIndexOf(':');
        int port = -1;
        if (colon > 0) {
            try {
                port = Integer.parseInt(t.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("the gRPC address must be HOST:PORT, e.g. 127.0.0.1:" + DEFAULT_GRPC_PORT
                    + ", got '" + target + "'");
        }
        return t;
    }

    /** The defaults for these concurrency levels. */
    public static LoadOptions of(List<Integer> concurrency) {
        return new LoadOptions(concurrency, DEFAULT_WINDOW, DEFAULT_WARM_UP, DEFAULT_STABILITY_PERCENT,
                DEFAULT_MAX_WINDOWS, null, DEFAULT_ENDPOINT, DEFAULT_TIMEOUT, Protocol.JSON, 1, null);
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
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout, protocol,
                clientThreads, grpcTarget);
    }

    public LoadOptions withWindow(Duration window) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout, protocol,
                clientThreads, grpcTarget);
    }

    public LoadOptions withWarmUp(Duration warmUp) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout, protocol,
                clientThreads, grpcTarget);
    }

    public LoadOptions withStabilityPercent(double stabilityPercent) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout, protocol,
                clientThreads, grpcTarget);
    }

    public LoadOptions withMaxWindows(int maxWindows) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout, protocol,
                clientThreads, grpcTarget);
    }

    /** @param body the bytes every request sends; null builds one from the model's metadata */
    public LoadOptions withBody(byte[] body) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout, protocol,
                clientThreads, grpcTarget);
    }

    /** @param endpoint a path, {@code {name}} standing for the model's name; null for the default */
    public LoadOptions withEndpoint(String endpoint) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout, protocol,
                clientThreads, grpcTarget);
    }

    /** @param protocol null for {@link Protocol#JSON} */
    public LoadOptions withProtocol(Protocol protocol) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout, protocol,
                clientThreads, grpcTarget);
    }

    public LoadOptions withClientThreads(int clientThreads) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout, protocol,
                clientThreads, grpcTarget);
    }

    /** @param grpcTarget {@code HOST:PORT}; null for the HTTP address's host and port {@value #DEFAULT_GRPC_PORT} */
    public LoadOptions withGrpcTarget(String grpcTarget) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout, protocol,
                clientThreads, grpcTarget);
    }

    public LoadOptions withTimeout(Duration timeout) {
        return new LoadOptions(concurrency, window, warmUp, stabilityPercent, maxWindows, body, endpoint, timeout, protocol,
                clientThreads, grpcTarget);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LoadOptions x && concurrency.equals(x.concurrency) && window.equals(x.window)
                && warmUp.equals(x.warmUp) && Double.compare(stabilityPercent, x.stabilityPercent) == 0
                && maxWindows == x.maxWindows && Arrays.equals(body, x.body) && endpoint.equals(x.endpoint)
                && timeout.equals(x.timeout) && protocol == x.protocol && clientThreads == x.clientThreads
                && Objects.equals(grpcTarget, x.grpcTarget);
    }

    @Override
    public int hashCode() {
        return Objects.hash(concurrency, window, warmUp, stabilityPercent, maxWindows, Arrays.hashCode(body), endpoint, timeout,
                protocol, clientThreads, grpcTarget);
    }

    @Override
    public String toString() {
        return "LoadOptions[concurrency=" + concurrency + ", window=" + window + ", warmUp=" + warmUp
                + ", stabilityPercent=" + stabilityPercent + ", maxWindows=" + maxWindows + ", body="
                + (body == null ? "from metadata" : body.length + " bytes") + ", endpoint=" + endpoint + ", timeout=" + timeout + ", protocol=" + protocol.label()
                + ", clientThreads=" + clientThreads + ", grpcTarget=" + grpcTarget + "]";
    }
}
