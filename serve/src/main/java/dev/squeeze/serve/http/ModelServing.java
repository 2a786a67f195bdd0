package dev.squeeze.serve.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.squeeze.serve.bench.BenchmarkJobs;
import dev.squeeze.serve.runtime.BadRequestException;
import dev.squeeze.serve.runtime.DynamicBatcher;
import dev.squeeze.serve.runtime.HostTensor;
import dev.squeeze.serve.runtime.ImagePrediction;
import dev.squeeze.serve.runtime.InferRequest;
import dev.squeeze.serve.runtime.InferenceProtocol;
import dev.squeeze.serve.runtime.LoadedModel;
import dev.squeeze.serve.runtime.ModelConfig;
import dev.squeeze.serve.runtime.ModelLease;
import dev.squeeze.serve.runtime.ModelRepository;
import dev.squeeze.serve.runtime.ModelState;
import dev.squeeze.serve.runtime.RepositoryEntry;
import dev.squeeze.serve.runtime.TensorSpec;
import jakarta.annotation.PreDestroy;
import io.micronaut.context.annotation.Context;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * What the controllers call: the model repository (watched for changes), one dynamic batcher per loaded model
 * version, and the protocol codec. Inference never runs on an HTTP event loop: batchers run it on their own threads
 * and answer through futures.
 */
@Context   // eager: the folder is watched from startup, not from the first request
public class ModelServing implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ServeSettings settings;
    private final ServeMetrics metrics;
    private final ModelRepository repository;
    private final Map<LoadedModel, DynamicBatcher> batchers = new ConcurrentHashMap<>();
    private final ExecutorService inference;
    private final BenchmarkJobs benchmarks;

    public ModelServing(ServeSettings settings, ServeMetrics metrics) {
        this.settings = settings;
        this.metrics = metrics;
        this.inference = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "squeeze-inference");
            t.setDaemon(true);
            return t;
        });
        ModelConfig defaults = new ModelConfig(settings.getMaxBatchSize(), settings.getMaxQueueDelayUs(),
                settings.getIntraOpThreads());
        this.repository = new ModelRepository(settings.getModels(), defaults);
        repository.addListener(new ModelRepository.Listener() {
            @Override
            public void loaded(LoadedModel model) {
                batchers.put(model, new DynamicBatcher(model, inference, stats ->
                        metrics.batch(model.name(), stats.requests(), stats.rows(), stats.queueWaitNanos())));
            }

            @Override
            public void unloaded(LoadedModel model) {
                DynamicBatcher b = batchers.remove(model);
                if (b != null) b.close();
            }
        });
        repository.start(settings.getPoll());
        this.benchmarks = new BenchmarkJobs(repository);
    }

    /** The server's benchmark jobs ({@code /v1/benchmarks}) and the latest result per model. */
    public BenchmarkJobs benchmarks() {
        return benchmarks;
    }

    /** Requests waiting in {@code name}'s batch queues (every loaded version), for metrics and tests. */
    public int queued(String name) {
        int n = 0;
        for (var e : batchers.entrySet()) if (e.getKey().name().equals(name)) n += e.getValue().queued();
        return n;
    }

    /** The folder being served. */
    public java.nio.file.Path modelsDir() {
        return repository.dir();
    }

    /** Every model folder's state, as the repository index has it. */
    public List<RepositoryEntry> entries() {
        return repository.index();
    }

    /** The size of a ready model's file, or -1. */
    public long fileBytes(String name) {
        try (ModelLease lease = repository.acquire(name)) {
            return lease.model().fileBytes();
        } catch (BadRequestException notReady) {
            return -1;
        }
    }

    /**
     * {@code POST /v2/models/{name}/infer}: the response body, when the batch it joined has run. The body is decoded
     * before this returns; the caller may release it then.
     *
     * @param jsonHeaderLength the request's {@value InferenceProtocol#HEADER_LENGTH} header (the binary tensor data
     *                         extension: the body is that many bytes of JSON, then raw tensor data); null when it has
     *                         none, and the body is JSON
     * @return JSON, or JSON and the binary data of the outputs the request asked for as binary data, with the
     *         length of its JSON part
     */
    public CompletableFuture<InferenceProtocol.Body> infer(String name, InputStream body, long bodyBytes,
                                                           String jsonHeaderLength) {
        return infer(name, spec -> InferenceProtocol.parseRequest(body, bodyBytes,
                InferenceProtocol.jsonHeaderBytes(jsonHeaderLength, bodyBytes), spec, settings.getMaxElements()))
                .thenApply(a -> InferenceProtocol.response(name, Long.toString(a.version()), a.request().id(), a.outputs(),
                        a.request().binaryOutputs()));
    }

    /**
     * An answered inference request, in any protocol's terms.
     *
     * @param version the model version that ran it
     * @param request the request as decoded
     * @param outputs the outputs asked for (all of the model's when it asked for none), in the model's output order
     */
    public record Answer(long version, InferRequest request, List<HostTensor> outputs) {
    }

    /**
     * Inference for any protocol: {@code decode} turns the request into tensors checked against the served model's
     * spec (see {@link InferenceProtocol#checkInput}); they join the model's dynamic batch. {@code decode} runs before
     * this returns, so the caller may release the request's bytes then.
     *
     * @throws dev.squeeze.serve.runtime.BadRequestException when the model is not ready or {@code decode} refuses
     */
    public CompletableFuture<Answer> infer(String name, java.util.function.Function<dev.squeeze.serve.runtime.ModelSpec, InferRequest> decode) {
        ModelLease lease = repository.acquire(name);
        try {
            LoadedModel model = lease.model();
            InferRequest request = decode.apply(model.spec());
            return run(lease, request.inputs(), request.outputs())
                    .thenApply(outputs -> new Answer(model.version(), request, outputs));
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    /** The most elements one input tensor may have ({@code --max-elements}), for request decoders. */
    public long maxElements() {
        return settings.getMaxElements();
    }

    /**
     * {@code POST /v1/models/{name}/predict}: an image or a JSON array of raw pixels in, label and probabilities out.
     * The body is decoded before this returns; the caller may release it then.
     */
    public CompletableFuture<byte[]> predict(String name, String contentType, InputStream body) {
        ModelLease lease = repository.acquire(name);
        try {
            LoadedModel model = lease.model();
            TensorSpec input = ImagePrediction.imageInput(model.spec());
            boolean json = contentType == null || contentType.contains("json");
            long maxPixels = settings.getMaxImagePixels() > 0 ? settings.getMaxImagePixels() : ImagePrediction.defaultMaxPixels(input);
            HostTensor x = json ? ImagePrediction.fromJson(body, input) : ImagePrediction.fromImage(body, input, maxPixels);
            List<String> classes = ImagePrediction.classNames(model.metadata());
            return run(lease, List.of(x), Set.of())
                    .thenApply(outputs -> ImagePrediction.response(name, model.version(), outputs, classes));
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    private CompletableFuture<List<HostTensor>> run(ModelLease lease, List<HostTensor> inputs, Set<String> outputs) {
        DynamicBatcher batcher = batchers.get(lease.model());
        if (batcher == null) {
            lease.close();
            throw new UnloadingException(lease.model().name() + " is being unloaded; retry");
        }
        return batcher.submit(inputs, outputs).whenComplete((r, e) -> lease.close());
    }

    /**
     * A request that reached a model version while it was being unloaded or replaced (HTTP 400, gRPC UNAVAILABLE):
     * retrying it reaches the version serving next, if any.
     */
    public static class UnloadingException extends BadRequestException {
        public UnloadingException(String message) {
            super(message);
        }
    }

    /**
     * A model as it serves now, for protocols that describe it in their own terms.
     *
     * @param version the version serving
     * @param spec    its inputs and outputs
     */
    public record Served(long version, dev.squeeze.serve.runtime.ModelSpec spec) {
    }

    /**
     * The version of {@code name} serving now and its inputs and outputs.
     *
     * @throws dev.squeeze.serve.runtime.ModelRepository.ModelNotFoundException when there is no such model or it is
     *                                                                          not ready
     */
    public Served served(String name) {
        try (ModelLease lease = repository.acquire(name)) {
            return new Served(lease.model().version(), lease.model().spec());
        }
    }

    /** {@code GET /v2/models/{name}}. */
    public byte[] metadata(String name) {
        try (ModelLease lease = repository.acquire(name)) {
            LoadedModel m = lease.model();
            return InferenceProtocol.metadata(name, List.of(Long.toString(m.version())), m.spec(), m.metadata());
        }
    }

    /** Whether {@code name} is loaded and serving (unknown names are simply not ready). */
    public boolean ready(String name) {
        return repository.index().stream().anyMatch(e -> e.name().equals(name) && e.state() == ModelState.READY);
    }

    /** {@code /v2/repository/index}: every model folder with its version, state and, when it failed, why. */
    public byte[] index() {
        ArrayNode out = JSON.createArrayNode();
        for (RepositoryEntry e : repository.index()) {
            var node = out.addObject().put("name", e.name()).put("state", e.state().name());
            if (e.version() > 0) node.put("version", Long.toString(e.version()));
            if (e.reason() != null && !e.reason().isEmpty()) node.put("reason", e.reason());
        }
        return bytes(out);
    }

    public void load(String name) {
        repository.load(name);
    }

    public void unload(String name) {
        repository.unload(name);
    }

    public ServeMetrics metrics() {
        return metrics;
    }

    private static byte[] bytes(Object node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Stops the benchmarks first (the running one ends before its next ONNX Runtime call, and this waits for it), then
     * stops watching, lets queued and in-flight requests finish, and closes every model.
     */
    @PreDestroy
    @Override
    public void close() {
        benchmarks.close();
        repository.close();
        // A version still leased by a request in flight closes when that request ends: wait for it (bounded), so the
        // JVM does not exit under an ONNX Runtime call in progress, which crashes it.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try {
            while (!batchers.isEmpty() && System.nanoTime() < deadline) Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        inference.shutdown();
    }
}
