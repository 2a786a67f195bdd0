package dev.squeeze.serve.load;

import dev.squeeze.serve.runtime.HostTensor;
import dev.squeeze.serve.runtime.InferenceProtocol;
import dev.squeeze.serve.runtime.ModelSpec;
import dev.squeeze.serve.runtime.TensorSpec;
import dev.squeeze.serve.runtime.TensorType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
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
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A closed-loop load generator for a running Open Inference Protocol v2 server ({@code squeeze bench --url}),
 * measuring the way Triton's perf_analyzer does, over JSON, the binary tensor data extension or gRPC
 * ({@link Protocol}).
 *
 * <p>For each concurrency level c, c virtual users each send their next request as soon as their previous answer has
 * arrived, each over its own connection (HTTP/1.1 keep-alive; gRPC: the client threads' channels, HTTP/2), so that all
 * c are really in flight. The requests are sent and the answers read by {@link LoadOptions#clientThreads()} threads
 * (Netty event loops), the users spread over them. After a warm-up, the level is measured in windows until the
 * throughputs of the last 3 windows are each within the stability percent of their mean, or the window limit is
 * reached. A level reports its throughput (the median of those windows, with their min and max), latency percentiles
 * over every successful request answered in those windows, requests and errors, and the CPU time the generator's own
 * threads used: as a share of the machine (what a server on the same machine did not get) and of what its threads
 * could use; when they were busy {@value #CLIENT_LIMIT_PERCENT}% of that or more, the client, not the server, was the
 * limit, and the level says so.
 *
 * <p>Every request sends the same inputs: those of the body given in {@link LoadOptions#body()} (a JSON inference
 * request: sent as it is over JSON, its inputs re-encoded for the other protocols), or one example built from the
 * model's metadata ({@code GET /v2/models/{name}}): every input with its datatype and shape ({@code -1} dimensions as
 * 1), all zeros ({@code false} for BOOL, {@code ""} for BYTES). Binary and gRPC requests carry every input as raw
 * bytes and ask for every output as raw bytes.
 *
 * <p>A request counts as an error when its answer is not a success (HTTP: not 2xx, or for binary no binary tensor
 * data; gRPC: a status other than OK), it times out or its connection fails; errors are counted and the first one's
 * message kept as a sample, and the run goes on. Only an unreachable server, an unknown model or a body that does
 * not fit it stops the run, before it starts, with an {@link IllegalArgumentException}.
 */
public final class LoadGenerator {
    /** How many of the last windows must agree for a level to be stable, and over how many a level is reported. */
    public static final int STABLE_WINDOWS = 3;

    /** The most elements a body built from metadata may have; models with larger inputs need a body given. */
    static final long MAX_GENERATED_ELEMENTS = 50_000_000;

    /** At or above this share of what its threads could use, the client was the limit of a level. */
    public static final int CLIENT_LIMIT_PERCENT = 90;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int QUOTE_LIMIT = 500;
    private static final AtomicInteger RUNS = new AtomicInteger();

    private LoadGenerator() {
    }

    /**
     * Measures a model on a running server at each of the options' concurrency levels, one after another.
     *
     * @param server  the server's HTTP address, {@code http://HOST:PORT} (a path prefix is kept); its metadata is read
     *                there whatever the protocol
     * @param model   the model's name
     * @param options levels, windows, body, protocol, client threads and endpoint
     * @return one {@link LoadLevel} per concurrency level, in order
     * @throws IllegalArgumentException when the address is not an http(s) URL, the server cannot be reached, the
     *                                  model is unknown to it (the message quotes the server's error), its metadata
     *                                  cannot be turned into a request body, or (binary, gRPC) the body given is not
     *                                  a request for it
     * @throws IllegalStateException    when the calling thread is interrupted
     */
    public static LoadResult run(URI server, String model, LoadOptions options) {
        Objects.requireNonNull(options, "options");
        if (model == null || model.isBlank()) throw new IllegalArgumentException("give the model's name");
        String base = base(server);
        String encoded = URLEncoder.encode(model, StandardCharsets.UTF_8).replace("+", "%20");
        int processors = Runtime.getRuntime().availableProcessors();

        byte[] metadata = metadata(base, model, encoded, options.timeout());
        byte[] given = options.body();
        Protocol protocol = options.protocol();
        List<HostTensor> inputs = given != null && protocol == Protocol.JSON ? null
                : given != null ? inputsOf(given, metadata) : zeros(metadata);

        CpuMeter cpu = new CpuMeter();
        int run = RUNS.incrementAndGet();
        AtomicInteger threadCount = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "squeeze-load-" + run + "-" + threadCount.incrementAndGet());
            t.setDaemon(true);
            cpu.add(t.getId());
            return t;
        };
        String target;
        long requestBytes;
        Transport transport;
        if (protocol == Protocol.GRPC) {
            target = options.grpcTarget() != null ? options.grpcTarget() : grpcTarget(server);
            GrpcTransport grpc = new GrpcTransport(target, model, inputs, options.clientThreads(), factory, options.timeout());
            requestBytes = grpc.requestBytes();
            transport = grpc;
        } else {
            String endpoint = options.endpoint().replace("{name}", encoded);
            URI uri;
            try {
                uri = URI.create(base + endpoint);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the endpoint '" + endpoint + "' does not make a valid URL with " + base
                        + ": " + e.getMessage());
            }
            target = endpoint;
            InferenceProtocol.Body body = protocol == Protocol.BINARY
                    ? InferenceProtocol.request(null, inputs, names(inputs), true)
                    : new InferenceProtocol.Body(given != null ? given : InferenceProtocol.request(null, inputs), -1);
            requestBytes = body.bytes().length;
            transport = new HttpTransport(uri, body.bytes(), body.jsonBytes(), options.clientThreads(), factory, options.timeout());
        }
        try (transport) {
            List<LoadLevel> levels = new ArrayList<>();
            for (int c : options.concurrency()) {
                levels.add(measure(transport, cpu, c, options, processors));
            }
            return new LoadResult(base, model, protocol.label(), target, requestBytes, given == null,
                    options.clientThreads(), options.window().toMillis(), options.warmUp().toMillis(),
                    options.stabilityPercent(), options.maxWindows(), processors, levels);
        }
    }

    /** The server's host and the default gRPC port, for a server given by its HTTP address. */
    private static String grpcTarget(URI server) {
        String host = server.getHost();
        if (host.contains(":") && !host.startsWith("[")) host = "[" + host + "]";
        return host + ":" + LoadOptions.DEFAULT_GRPC_PORT;
    }

    private static Set<String> names(List<HostTensor> tensors) {
        Set<String> names = new java.util.LinkedHashSet<>();
        for (HostTensor t : tensors) names.add(t.name());
        return names;
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
        return InferenceProtocol.request(null, zeros(metadataJson));
    }

    /** The tensors of {@link #requestBody}: one example of zeros of every input. */
    static List<HostTensor> zeros(byte[] metadataJson) {
        List<HostTensor> tensors = new ArrayList<>();
        for (TensorSpec input : tensorSpecs(metadataJson, "inputs", true)) {
            long[] dims = input.shape().clone();
            long elements = 1;
            for (int d = 0; d < dims.length; d++) {
                dims[d] = dims[d] < 0 ? 1 : dims[d];
                // Both factors are at most the limit here, so the product cannot overflow.
                elements = elements == 0 || dims[d] == 0 ? 0
                        : dims[d] > MAX_GENERATED_ELEMENTS ? MAX_GENERATED_ELEMENTS + 1 : elements * dims[d];
                if (elements > MAX_GENERATED_ELEMENTS) {
                    throw new IllegalArgumentException("input '" + input.name() + "' of shape " + Arrays.toString(input.shape())
                            + " has more than " + MAX_GENERATED_ELEMENTS + " elements; give a request body instead of "
                            + "building one");
                }
            }
            tensors.add(zeros(input.name(), input.type(), dims, (int) elements));
        }
        return tensors;
    }

    /**
     * The inputs of a JSON inference request, checked against the model as its metadata describes it (the server's
     * own rules, {@link InferenceProtocol#parseRequest}).
     *
     * @throws IllegalArgumentException with the server's words, when the body is not a request for the model
     */
    static List<HostTensor> inputsOf(byte[] body, byte[] metadataJson) {
        ModelSpec spec = new ModelSpec(tensorSpecs(metadataJson, "inputs", true), tensorSpecs(metadataJson, "outputs", false));
        try {
            return InferenceProtocol.parseRequest(body, spec, Integer.MAX_VALUE).inputs();
        } catch (dev.squeeze.serve.runtime.BadRequestException e) {
            throw new IllegalArgumentException("the body is not an inference request for this model: " + e.getMessage());
        }
    }

    /**
     * The {@code inputs} or {@code outputs} of a model's metadata, each a name, a datatype (checked: one the server
     * carries, for inputs) and a shape.
     */
    private static List<TensorSpec> tensorSpecs(byte[] metadataJson, String field, boolean required) {
        JsonNode root;
        try {
            root = JSON.readTree(metadataJson);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("the model's metadata is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("reading JSON from memory", e);
        }
        JsonNode tensors = root == null ? null : root.get(field);
        if (tensors == null || !tensors.isArray()) {
            if (!required) return List.of();
            throw new IllegalArgumentException("the model's metadata has no \"" + field + "\" array, so no request body can be "
                    + "built from it; give a body: " + clip(new String(metadataJson, StandardCharsets.UTF_8)));
        }
        List<TensorSpec> out = new ArrayList<>(tensors.size());
        for (JsonNode tensor : tensors) {
            JsonNode name = tensor.get("name");
            JsonNode datatype = tensor.get("datatype");
            JsonNode shape = tensor.get("shape");
            if (name == null || !name.isTextual() || datatype == null || !datatype.isTextual() || shape == null
                    || !shape.isArray()) {
                if (!required) continue;
                throw new IllegalArgumentException("an input in the model's metadata lacks \"name\", \"datatype\" or "
                        + "\"shape\": " + clip(tensor.toString()));
            }
            long[] dims = new long[shape.size()];
            for (int d = 0; d < dims.length; d++) {
                JsonNode dim = shape.get(d);
                if (!dim.canConvertToLong()) {
                    throw new IllegalArgumentException("input '" + name.asText() + "' has a shape that is not whole numbers: " + shape);
                }
                dims[d] = dim.asLong() < 0 ? -1 : dim.asLong();
            }
            java.util.Optional<TensorType> type = TensorType.ofProtocolName(datatype.asText());
            if (type.isEmpty() && !required) continue;
            out.add(new TensorSpec(name.asText(), type.orElseThrow(() -> new IllegalArgumentException("input '"
                    + name.asText() + "' has datatype '" + clip(datatype.asText()) + "', which is not an Open Inference "
                    + "Protocol datatype; give a request body")), dims));
        }
        return out;
    }

    /** A tensor of {@code n} zeros of a datatype: {@code false} for BOOL, {@code ""} for BYTES. */
    private static HostTensor zeros(String input, TensorType type, long[] shape, int n) {
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
    private static byte[] metadata(String base, String model, String encoded, Duration timeout) {
        URI uri = URI.create(base + "/v2/models/" + encoded);
        HttpResponse<byte[]> r;
        ExecutorService executor = java.util.concurrent.Executors.newSingleThreadExecutor(task -> {
            Thread t = new Thread(task, "squeeze-load-metadata");
            t.setDaemon(true);
            return t;
        });
        try {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(timeout).executor(executor).build();
            r = client.send(HttpRequest.newBuilder(uri).timeout(timeout).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking " + base + " for model '" + model + "'", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot reach " + base + ": " + describe(e, timeout)
                    + "; is `squeeze serve` running?", e);
        } finally {
            executor.shutdownNow();
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

    static String describe(Throwable e, Duration timeout) {
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

    static String seconds(Duration d) {
        double s = d.toMillis() / 1000.0;
        return (s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s)) + " s";
    }

    private static String clip(String s) {
        return s.length() <= QUOTE_LIMIT ? s : s.substring(0, QUOTE_LIMIT) + "...";
    }

    // ---- one level ----------------------------------------------------------------------------------------------

    private static LoadLevel measure(Transport transport, CpuMeter cpu, int concurrency, LoadOptions options, int processors) {
        Users users = new Users(transport, concurrency, options.timeout());
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
        double cpuNanos = cpuStart < 0 || cpuEnd < 0 ? -1 : cpuEnd - cpuStart;
        double wall = Math.max(1, wallEnd - wallStart);
        // What the client's threads could use: one core each, at most the machine's.
        int usable = Math.min(options.clientThreads(), processors);
        double cpuPercent = cpuNanos < 0 ? -1 : round(100.0 * cpuNanos / (wall * processors), 1);
        double busyPercent = cpuNanos < 0 ? -1 : round(100.0 * cpuNanos / (wall * usable), 1);
        return new LoadLevel(concurrency, round(median(rates), 2), round(rates[0], 2), round(rates[rates.length - 1], 2),
                millis(sortedPercentile(nanos, 50)), millis(sortedPercentile(nanos, 90)), millis(sortedPercentile(nanos, 99)),
                requests, errors, sample, windows.size(), stable, cpuPercent, busyPercent,
                busyPercent >= CLIENT_LIMIT_PERCENT);
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

    /**
     * A level's virtual users, as the {@link Transport} runs them: each sends, waits for the answer, records it here and
     * sends again, until stopped.
     */
    static final class Users {
        private final Transport transport;
        private final int count;
        private final Duration timeout;
        private final CountDownLatch finished;
        private volatile boolean stopping;
        private Window current;

        Users(Transport transport, int count, Duration timeout) {
            this.transport = transport;
            this.count = count;
            this.timeout = timeout;
            this.finished = new CountDownLatch(count);
        }

        void start() {
            synchronized (this) {
                current = new Window(System.nanoTime());
            }
            for (int i = 0; i < count; i++) transport.start(this);
        }

        /** Ends the current window and starts the next; returns the ended one. */
        synchronized Window swap() {
            long now = System.nanoTime();
            Window done = current;
            done.end = now;
            current = new Window(now);
            return done;
        }

        /** Whether users should stop after their request in flight. */
        boolean stopping() {
            return stopping;
        }

        /** A user has stopped. */
        void userDone() {
            finished.countDown();
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

        /**
         * One answer.
         *
         * @param error null for a success; else what went wrong, asked only for the window's first error
         */
        void record(long latency, Supplier<String> error) {
            synchronized (this) {
                Window w = current;
                if (error == null) {
                    if (w.ok == w.latencies.length) w.latencies = Arrays.copyOf(w.latencies, w.latencies.length * 2);
                    w.latencies[w.ok++] = latency;
                } else {
                    w.errors++;
                    if (w.firstError == null) w.firstError = error.get();
                }
            }
        }
    }

    // ---- the generator's CPU time -------------------------------------------------------------------------------

    /** The CPU time of the generator's threads: those its thread factory made (the transport's). */
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
