package dev.squeeze.serve.load;

import dev.squeeze.serve.runtime.HostTensor;
import dev.squeeze.serve.runtime.InferenceProtocol;
import dev.squeeze.serve.runtime.TensorType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Array;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A closed-loop load generator for a running Open Inference Protocol v2 server ({@code squeeze bench}), measuring the
 * way Triton's perf_analyzer does.
 *
 * <p>For each concurrency level c, c virtual users each send their next request as soon as their previous answer has
 * arrived, over one HTTP/1.1 {@link HttpClient} (one connection per user, requests sent asynchronously, so all c are
 * really in flight). After a warm-up, the level is measured in windows until the throughputs of the last 3 windows are
 * each within the stability percent of their mean, or the window limit is reached. A level reports its throughput
 * (the median of those windows, with their min and max), latency percentiles over every successful request answered
 * in those windows, requests and errors, and the CPU time the generator's own threads used, so that readers know how
 * much the client competed with a server on the same machine.
 *
 * <p>Every request sends the same body: the one given in {@link LoadOptions#body()}, or one built from the model's
 * metadata ({@code GET /v2/models/{name}}): one example, every input with its datatype and shape ({@code -1} dimensions
 * as 1), all zeros ({@code false} for BOOL, {@code ""} for BYTES).
 *
 * <p>A request counts as an error when its answer is not 2xx, it times out or its connection fails; errors are
 * counted and the first one's message kept as a sample, and the run goes on. Only an unreachable server or an unknown
 * model stops the run, before it starts, with an {@link IllegalArgumentException}.
 */
public final class LoadGenerator {
    /** How many of the last windows must agree for a level to be stable, and over how many a level is reported. */
    public static final int STABLE_WINDOWS = 3;

    /** The most elements a body built from metadata may have; models with larger inputs need a body given. */
    static final long MAX_GENERATED_ELEMENTS = 50_000_000;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int QUOTE_LIMIT = 500;
    private static final AtomicInteger RUNS = new AtomicInteger();

    private LoadGenerator() {
    }

    /**
     * Measures a model on a running server at each of the options' concurrency levels, one after another.
     *
     * @param server  the server's address, {@code http://HOST:PORT} (a path prefix is kept)
     * @param model   the model's name
     * @param options levels, windows, body and endpoint
     * @return one {@link LoadLevel} per concurrency level, in order
     * @throws IllegalArgumentException when the address is not an http(s) URL, the server cannot be reached, the
     *                                  model is unknown to it (the message quotes the server's error), or its
     *                                  metadata cannot be turned into a request body
     * @throws IllegalStateException    when the calling thread is interrupted
     */
    public static LoadResult run(URI server, String model, LoadOptions options) {
        Objects.requireNonNull(options, "options");
        if (model == null || model.isBlank()) throw new IllegalArgumentException("give the model's name");
        String base = base(server);
        String encoded = URLEncoder.encode(model, StandardCharsets.UTF_8).replace("+", "%20");
        int processors = Runtime.getRuntime().availableProcessors();
        int maxConcurrency = options.concurrency().stream().mapToInt(Integer::intValue).max().orElse(1);

        CpuMeter cpu = new CpuMeter();
        int run = RUNS.incrementAndGet();
        AtomicInteger threadCount = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "squeeze-load-" + run + "-" + threadCount.incrementAndGet());
            t.setDaemon(true);
            cpu.add(t.getId());
            return t;
        };
        // The users' callbacks and the client's own tasks never block, so a few threads keep any number of requests
        // in flight; the connections (one per user) are what make c requests concurrent.
        int poolSize = Math.max(2, Math.min(maxConcurrency, Math.max(4, processors)));
        ThreadPoolExecutor executor = new ThreadPoolExecutor(poolSize, poolSize, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), factory);
        HttpClient client = cpu.watchNewThreads(() -> HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(options.timeout())
                .executor(executor)
                .build());
        try {
            byte[] metadata = metadata(client, base, model, encoded, options.timeout());
            byte[] given = options.body();
            byte[] body = given != null ? given : requestBody(metadata);
            String endpoint = options.endpoint().replace("{name}", encoded);
            URI target;
            try {
                target = URI.create(base + endpoint);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the endpoint '" + endpoint + "' does not make a valid URL with " + base
                        + ": " + e.getMessage());
            }
            HttpRequest request = HttpRequest.newBuilder(target)
                    .timeout(options.timeout())
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build();
            List<LoadLevel> levels = new ArrayList<>();
            for (int c : options.concurrency()) {
                levels.add(measure(client, request, executor, cpu, c, options, processors));
            }
            return new LoadResult(base, model, endpoint, body.length, given == null, options.window().toMillis(),
                    options.warmUp().toMillis(), options.stabilityPercent(), options.maxWindows(), processors, levels);
        } finally {
            executor.shutdownNow();
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /**
     * The nearest-rank percentile: the smallest value with at least {@code percent} percent of the values at or below
     * it (p50 of 1..100 is 50, p99 is 99, p100 the largest, p0 the smallest).
     *
     * @param nanos   the values, in any order (an unsorted array is not changed: a sorted copy is used)
     * @param percent from 0 to 100
     * @return the percentile, or 0 when there are no values
     */
    public static long percentile(long[] nanos, double percent) {
        Objects.requireNonNull(nanos, "nanos");
        if (!(percent >= 0 && percent <= 100)) throw new IllegalArgumentException("percent must be from 0 to 100, got " + percent);
        if (nanos.length == 0) return 0;
        long[] sorted = nanos;
        for (int i = 1; i < nanos.length; i++) {
            if (nanos[i - 1] > nanos[i]) {
                sorted = nanos.clone();
                Arrays.sort(sorted);
                break;
            }
        }
        return sortedPercentile(sorted, percent);
    }

    private static long sortedPercentile(long[] sorted, double percent) {
        if (sorted.length == 0) return 0;
        // percent * n is exact for the usual percents, so p90 of 10 values is rank 9, not 10.
        long rank = (long) Math.ceil(percent * sorted.length / 100.0);
        rank = Math.max(1, Math.min(sorted.length, rank));
        return sorted[(int) rank - 1];
    }

    /**
     * Whether the last {@link #STABLE_WINDOWS} throughputs are each within {@code percent} percent of their mean
     * (perf_analyzer's stability rule). Fewer windows are never stable; windows that are all zero are.
     *
     * @param throughputs the windows' throughputs, oldest first
     */
    public static boolean stable(double[] throughputs, double percent) {
        Objects.requireNonNull(throughputs, "throughputs");
        if (throughputs.length < STABLE_WINDOWS) return false;
        double sum = 0;
        for (int i = throughputs.length - STABLE_WINDOWS; i < throughputs.length; i++) sum += throughputs[i];
        double mean = sum / STABLE_WINDOWS;
        double allowed = mean * percent / 100.0;
        for (int i = throughputs.length - STABLE_WINDOWS; i < throughputs.length; i++) {
            if (!(Math.abs(throughputs[i] - mean) <= allowed)) return false;
        }
        return true;
    }

    /**
     * A request body for one example, built from a model's metadata ({@code GET /v2/models/{name}}): every input
     * with its datatype and shape, {@code -1} dimensions as 1, all zeros; BOOL {@code false}, BYTES {@code ""}.
     *
     * @param metadataJson the metadata, {@code {"inputs": [{"name", "datatype", "shape"}], ...}}
     * @throws IllegalArgumentException when the metadata is not such JSON, an input would have more than
     *                                  {@link #MAX_GENERATED_ELEMENTS} elements, or its datatype is not one
     *                                  {@link HostTensor} carries
     */
    public static byte[] requestBody(byte[] metadataJson) {
        JsonNode root;
        try {
            root = JSON.readTree(metadataJson);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("the model's metadata is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("reading JSON from memory", e);
        }
        JsonNode inputs = root == null ? null : root.get("inputs");
        if (inputs == null || !inputs.isArray()) {
            throw new IllegalArgumentException("the model's metadata has no \"inputs\" array, so no request body can be "
                    + "built from it; give a body: " + clip(new String(metadataJson, StandardCharsets.UTF_8)));
        }
        List<HostTensor> tensors = new ArrayList<>(inputs.size());
        for (JsonNode input : inputs) {
            JsonNode name = input.get("name");
            JsonNode datatype = input.get("datatype");
            JsonNode shape = input.get("shape");
            if (name == null || !name.isTextual() || datatype == null || !datatype.isTextual() || shape == null
                    || !shape.isArray()) {
                throw new IllegalArgumentException("an input in the model's metadata lacks \"name\", \"datatype\" or "
                        + "\"shape\": " + clip(input.toString()));
            }
            long[] dims = new long[shape.size()];
            long elements = 1;
            for (int d = 0; d < dims.length; d++) {
                JsonNode dim = shape.get(d);
                if (!dim.canConvertToLong()) {
                    throw new IllegalArgumentException("input '" + name.asText() + "' has a shape that is not whole numbers: " + shape);
                }
                long v = dim.asLong();
                dims[d] = v < 0 ? 1 : v;
                // Both factors are at most the limit here, so the product cannot overflow.
                elements = elements == 0 || dims[d] == 0 ? 0
                        : dims[d] > MAX_GENERATED_ELEMENTS ? MAX_GENERATED_ELEMENTS + 1 : elements * dims[d];
                if (elements > MAX_GENERATED_ELEMENTS) {
                    throw new IllegalArgumentException("input '" + name.asText() + "' of shape " + shape + " has more than "
                            + MAX_GENERATED_ELEMENTS + " elements; give a request body instead of building one");
                }
            }
            tensors.add(zeros(name.asText(), datatype.asText(), dims, (int) elements));
        }
        return InferenceProtocol.request(null, tensors);
    }

    /** A tensor of {@code n} zeros of a protocol datatype: {@code false} for BOOL, {@code ""} for BYTES. */
    private static HostTensor zeros(String input, String datatype, long[] shape, int n) {
        TensorType type = TensorType.ofProtocolName(datatype).orElseThrow(() -> new IllegalArgumentException("input '"
                + input + "' has datatype '" + clip(datatype) + "', which is not an Open Inference Protocol datatype; give "
                + "a request body"));
        if (!type.carried()) {
            throw new IllegalArgumentException("input '" + input + "' has datatype " + type + ", which ONNX Runtime's Java "
                    + "API cannot create, so no body of it is built; give a request body");
        }
        Object data = Array.newInstance(type.arrayClass().getComponentType(), n);
        if (type == TensorType.BYTES) Arrays.fill((String[]) data, "");
        return new HostTensor(input, type, shape, data);
    }

    // ---- the server ---------------------------------------------------------------------------------------------

    /** The server's address without a trailing '/', checked. */
    private static String base(URI server) {
        Objects.requireNonNull(server, "server");
        String scheme = server.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https")) || server.getHost() == null
                || server.getRawQuery() != null || server.getRawFragment() != null) {
            throw new IllegalArgumentException("the server's address must look like http://HOST:PORT, got '" + server + "'");
        }
        String s = server.toString();
        while (s.endsWith("/")) s = s.substring(0, s.length() - 1);
        return s;
    }

    /** {@code GET /v2/models/{name}}: the model's metadata; says clearly when the server or the model is not there. */
    private static byte[] metadata(HttpClient client, String base, String model, String encoded, Duration timeout) {
        URI uri = URI.create(base + "/v2/models/" + encoded);
        HttpResponse<byte[]> r;
        try {
            r = client.send(HttpRequest.newBuilder(uri).timeout(timeout).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking " + base + " for model '" + model + "'", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot reach " + base + ": " + describe(e, timeout)
                    + "; is `squeeze serve` running?", e);
        }
        if (r.statusCode() == 404) {
            throw new IllegalArgumentException("model '" + model + "' is not served at " + base + ": " + serverError(r.body()));
        }
        if (r.statusCode() / 100 != 2) {
            throw new IllegalArgumentException("GET " + uri + " answered HTTP " + r.statusCode() + ": " + serverError(r.body()));
        }
        return r.body();
    }

    /** The protocol's {@code {"error": "..."}} message, or the body's text, shortened. */
    static String serverError(byte[] body) {
        if (body == null || body.length == 0) return "(empty body)";
        try {
            JsonNode node = JSON.readTree(body);
            if (node != null && node.get("error") != null && node.get("error").isTextual()) return clip(node.get("error").asText());
        } catch (IOException | RuntimeException ignored) {
            // not JSON: quote the text
        }
        return clip(new String(body, StandardCharsets.UTF_8).strip());
    }

    private static String describe(Throwable e, Duration timeout) {
        if (e instanceof CompletionException || e instanceof ExecutionException) {
            if (e.getCause() != null) e = e.getCause();
        }
        if (e instanceof HttpConnectTimeoutException) return "no connection within " + seconds(timeout);
        if (e instanceof HttpTimeoutException) return "no answer within " + seconds(timeout);
        if (e instanceof ConnectException) {
            String m = e.getMessage();
            if (m == null || m.isBlank() || m.toLowerCase(Locale.ROOT).contains("refused")) {
                Throwable cause = e.getCause();
                if (cause != null && cause.getMessage() != null && !cause.getMessage().toLowerCase(Locale.ROOT).contains("refused")) {
                    return cause.getClass().getSimpleName() + ": " + cause.getMessage();
                }
                return "connection refused";
            }
            return m;
        }
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }

    private static String seconds(Duration d) {
        double s = d.toMillis() / 1000.0;
        return (s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s)) + " s";
    }

    private static String clip(String s) {
        return s.length() <= QUOTE_LIMIT ? s : s.substring(0, QUOTE_LIMIT) + "...";
    }

    // ---- one level ----------------------------------------------------------------------------------------------

    private static LoadLevel measure(HttpClient client, HttpRequest request, ExecutorService executor, CpuMeter cpu,
                                     int concurrency, LoadOptions options, int processors) {
        Users users = new Users(client, request, executor, concurrency, options.timeout());
        List<Window> windows = new ArrayList<>();
        long cpuStart;
        long cpuEnd;
        long wallStart;
        long wallEnd;
        boolean stable = false;
        users.start();
        try {
            sleep(options.warmUp());
            users.swap();                       // the warm-up's answers are not counted
            cpuStart = cpu.nanos();
            wallStart = System.nanoTime();
            while (true) {
                sleep(options.window());
                windows.add(users.swap());
                double[] rates = windows.stream().mapToDouble(Window::throughput).toArray();
                stable = stable(rates, options.stabilityPercent());
                if (stable || windows.size() >= options.maxWindows()) break;
            }
            cpuEnd = cpu.nanos();
            wallEnd = System.nanoTime();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while measuring concurrency " + concurrency, e);
        } finally {
            users.stop();
        }

        List<Window> reported = windows.subList(Math.max(0, windows.size() - STABLE_WINDOWS), windows.size());
        double[] rates = reported.stream().mapToDouble(Window::throughput).sorted().toArray();
        long requests = 0;
        long errors = 0;
        String sample = null;
        int latencies = 0;
        for (Window w : reported) {
            requests += w.ok + w.errors;
            errors += w.errors;
            if (sample == null) sample = w.firstError;
            latencies += w.ok;
        }
        long[] nanos = new long[latencies];
        int at = 0;
        for (Window w : reported) {
            System.arraycopy(w.latencies, 0, nanos, at, w.ok);
            at += w.ok;
        }
        Arrays.sort(nanos);
        double cpuPercent = cpuStart < 0 || cpuEnd < 0 ? -1
                : round(100.0 * (cpuEnd - cpuStart) / ((double) Math.max(1, wallEnd - wallStart) * processors), 1);
        return new LoadLevel(concurrency, round(median(rates), 2), round(rates[0], 2), round(rates[rates.length - 1], 2),
                millis(sortedPercentile(nanos, 50)), millis(sortedPercentile(nanos, 90)), millis(sortedPercentile(nanos, 99)),
                requests, errors, sample, windows.size(), stable, cpuPercent);
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double millis(long nanos) {
        return round(nanos / 1e6, 3);
    }

    private static double round(double v, int decimals) {
        double scale = Math.pow(10, decimals);
        return Math.round(v * scale) / scale;
    }

    private static void sleep(Duration d) throws InterruptedException {
        long nanos = saturatedNanos(d);
        if (nanos > 0) TimeUnit.NANOSECONDS.sleep(nanos);
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** What one measurement window saw: answers by completion time. */
    private static final class Window {
        final long start;
        long end;
        long[] latencies = new long[1024];
        int ok;
        long errors;
        String firstError;

        Window(long start) {
            this.start = start;
        }

        double throughput() {
            return ok / (Math.max(1, end - start) / 1e9);
        }
    }

    /** A level's virtual users: each sends, waits for the answer, records it and sends again, until stopped. */
    private static final class Users {
        private final HttpClient client;
        private final HttpRequest request;
        private final ExecutorService executor;
        private final int count;
        private final Duration timeout;
        private final CountDownLatch finished;
        private volatile boolean stopping;
        private Window current;

        Users(HttpClient client, HttpRequest request, ExecutorService executor, int count, Duration timeout) {
            this.client = client;
            this.request = request;
            this.executor = executor;
            this.count = count;
            this.timeout = timeout;
            this.finished = new CountDownLatch(count);
        }

        void start() {
            synchronized (this) {
                current = new Window(System.nanoTime());
            }
            for (int i = 0; i < count; i++) next();
        }

        /** Ends the current window and starts the next; returns the ended one. */
        synchronized Window swap() {
            long now = System.nanoTime();
            Window done = current;
            done.end = now;
            current = new Window(now);
            return done;
        }

        /** Lets every user finish its request in flight and stop; waits at most the request timeout for them. */
        void stop() {
            stopping = true;
            try {
                long wait = saturatedNanos(timeout);
                finished.await(wait == Long.MAX_VALUE ? wait : wait + TimeUnit.SECONDS.toNanos(1), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** One user's next request, or its end. */
        private void next() {
            if (stopping) {
                finished.countDown();
                return;
            }
            long start = System.nanoTime();
            CompletableFuture<HttpResponse<byte[]>> f;
            try {
                f = client.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray());
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete((response, error) -> {
                long latency = System.nanoTime() - start;
                try {
                    record(latency, response, error);
                } finally {
                    // Through the executor, so that answers that come back at once cannot grow the stack.
                    try {
                        executor.execute(this::next);
                    } catch (RejectedExecutionException e) {
                        finished.countDown();
                    }
                }
            });
        }

        private void record(long latency, HttpResponse<byte[]> response, Throwable error) {
            boolean ok = error == null && response.statusCode() / 100 == 2;
            synchronized (this) {
                Window w = current;
                if (ok) {
                    if (w.ok == w.latencies.length) w.latencies = Arrays.copyOf(w.latencies, w.latencies.length * 2);
                    w.latencies[w.ok++] = latency;
                } else {
                    w.errors++;
                    if (w.firstError == null) {
                        w.firstError = error != null ? describe(error, timeout)
                                : "HTTP " + response.statusCode() + ": " + serverError(response.body());
                    }
                }
            }
        }
    }

    // ---- the generator's CPU time -------------------------------------------------------------------------------

    /** The CPU time of the generator's threads: the executor's and the HTTP client's selector thread. */
    private static final class CpuMeter {
        private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        private final Set<Long> ids = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private final boolean supported;

        CpuMeter() {
            boolean ok = threads.isThreadCpuTimeSupported();
            if (ok && !threads.isThreadCpuTimeEnabled()) {
                try {
                    threads.setThreadCpuTimeEnabled(true);
                } catch (RuntimeException e) {
                    ok = false;
                }
            }
            supported = ok;
        }

        void add(long id) {
            ids.add(id);
        }

        /** Builds something that starts threads of its own (the HTTP client's selector) and counts those too. */
        HttpClient watchNewThreads(java.util.function.Supplier<HttpClient> build) {
            Set<Long> before = new HashSet<>();
            for (long id : threads.getAllThreadIds()) before.add(id);
            HttpClient client = build.get();
            for (long id : threads.getAllThreadIds()) {
                if (before.contains(id)) continue;
                ThreadInfo info = threads.getThreadInfo(id);
                if (info != null && info.getThreadName().startsWith("HttpClient-")) ids.add(id);
            }
            return client;
        }

        /** Their CPU time so far, or -1 when the JVM cannot tell. */
        long nanos() {
            if (!supported) return -1;
            long sum = 0;
            for (long id : ids) {
                long t = threads.getThreadCpuTime(id);
                if (t > 0) sum += t;
            }
            return sum;
        }
    }
}
