package dev.squeeze.serve.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Dynamic batching for one loaded model, like Triton's dynamic batcher: concurrent requests are stacked along their
 * first dimension into one ONNX Runtime call of at most {@link ModelConfig#maxBatchSize()} rows, and the outputs are
 * split back by each request's rows. A batch closes when its rows reach {@code maxBatchSize} (or the next request
 * that could join it would not fit), or when its oldest request has waited {@link ModelConfig#maxQueueDelayMicros()};
 * so a lone request waits at most that delay, and not at all when it is 0.
 *
 * <p>Only requests that ask for the same outputs and whose inputs agree on names, types and every dimension but the
 * first are merged; the others form batches of their own. A request runs by itself (never delayed by the timer) when
 * batching is off ({@code maxBatchSize} 1), when any model input's first dimension is fixed, when it alone has more
 * rows than {@code maxBatchSize} (or none, or inputs disagreeing on rows), or when an output it asks for is declared
 * with a fixed first dimension. If a merged run fails, or one of its outputs turns out not to have the batch as its
 * first dimension, every request of the batch is run again by itself, so one bad request fails only itself; an
 * output set found not to split is not merged again. The batcher assumes, as Triton does, that the model treats rows
 * independently (true of feed-forward classifiers; not of models that mix rows, which must set {@code maxBatchSize}
 * 1).
 *
 * <h2>Threading</h2>
 * {@link #submit} never blocks and never runs inference on the caller's thread (HTTP event loops call it): it queues
 * the request under a short lock and returns a future. One <em>dispatcher</em> thread per batcher forms batches and
 * hands each to an inference executor, at most {@code maxConcurrentBatches} at a time. The dispatcher takes a free
 * inference slot <em>before</em> it forms a batch, so while every slot is busy requests keep accumulating and the
 * next batch is bigger: batching adapts to load even with a delay of 0, and the delay only matters when the model is
 * idle. Batches run concurrently (rather than one at a time on the dispatcher) because ONNX Runtime sessions are
 * thread-safe and a run with {@code intraOpThreads} threads leaves the other cores idle; the default concurrency is
 * {@code availableProcessors / intraOpThreads}, enough to keep every core busy without oversubscribing them. The
 * executor is the caller's (for instance the server's blocking-work pool) or, when null, a fixed pool of
 * {@code maxConcurrentBatches} daemon threads that this batcher owns and shuts down. Futures complete on the
 * inference thread, so their non-async dependents run there; they should be quick, and must not call
 * {@link #close()} and wait for it.
 *
 * <p>The batcher does not own the {@link LoadedModel}: {@link #close()} stops accepting requests and waits for the
 * queued and running ones, after which the model's owner (the repository that loaded it) closes the model.
 */
public final class DynamicBatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DynamicBatcher.class);
    private static final AtomicInteger POOLS = new AtomicInteger();

    /** The batcher whose dispatcher or inference work runs on the current thread, if any. */
    private static final ThreadLocal<DynamicBatcher> CURRENT = new ThreadLocal<>();

    private final LoadedModel model;
    private final ModelConfig config;
    private final BatchObserver observer;
    private final Executor executor;
    private final ExecutorService ownExecutor;
    private final int maxConcurrentBatches;
    private final Semaphore slots;
    private final Thread dispatcher;
    private final long delayNanos;
    /** Batching is on and every model input has a free first dimension. */
    private final boolean modelBatchable;
    private final List<String> outputNames;
    /** Output sets (normalized) whose merged outputs could not be split by rows: served one request at a time. */
    private final Set<Set<String>> unsplittable = ConcurrentHashMap.newKeySet();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Mergeable requests, one FIFO per batch key; a key's queue is dropped when it empties. */
    private final Map<Key, ArrayDeque<Pending>> queues = new LinkedHashMap<>();
    /** Requests to run by themselves, FIFO. */
    private final ArrayDeque<Pending> solos = new ArrayDeque<>();
    private boolean closed;
    private volatile int queued;

    /**
     * A batcher running up to {@link #defaultConcurrency(ModelConfig)} batches at a time.
     *
     * @param executorOrNull where batches run; null for a pool of this batcher's own
     * @param observer       told about every batch; null for none
     */
    public DynamicBatcher(LoadedModel model, Executor executorOrNull, BatchObserver observer) {
        this(model, executorOrNull, defaultConcurrency(model.config()), observer);
    }

    /**
     * @param executorOrNull       where batches run; null for a pool of {@code maxConcurrentBatches} daemon threads
     *                             owned by this batcher
     * @param maxConcurrentBatches most batches (ONNX Runtime calls) of this model running at once, at least 1
     * @param observer             told about every batch; null for none
     */
    public DynamicBatcher(LoadedModel model, Executor executorOrNull, int maxConcurrentBatches, BatchObserver observer) {
        this.model = Objects.requireNonNull(model, "model");
        if (maxConcurrentBatches < 1) {
            throw new IllegalArgumentException("maxConcurrentBatches must be at least 1, got " + maxConcurrentBatches);
        }
        this.config = model.config();
        this.observer = observer == null ? BatchObserver.NONE : observer;
        this.maxConcurrentBatches = maxConcurrentBatches;
        this.slots = new Semaphore(maxConcurrentBatches);
        long micros = config.maxQueueDelayMicros();
        this.delayNanos = micros > Long.MAX_VALUE / 1_000 ? Long.MAX_VALUE : micros * 1_000;
        this.modelBatchable = config.batching() && !model.spec().inputs().isEmpty()
                && model.spec().inputs().stream().allMatch(TensorSpec::batchable);
        this.outputNames = model.spec().outputs().stream().map(TensorSpec::name).toList();
        String label = model.name() + "-v" + model.version();
        if (executorOrNull == null) {
            int pool = POOLS.incrementAndGet();
            AtomicInteger n = new AtomicInteger();
            this.ownExecutor = Executors.newFixedThreadPool(maxConcurrentBatches, r -> {
                Thread t = new Thread(r, "squeeze-infer-" + label + "-" + pool + "-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            this.executor = ownExecutor;
        } else {
            this.ownExecutor = null;
            this.executor = executorOrNull;
        }
        this.dispatcher = new Thread(this::dispatch, "squeeze-batcher-" + label);
        dispatcher.setDaemon(true);
        dispatcher.start();
    }

    /** Enough concurrent runs of {@code intraOpThreads} threads each to use every core: at least 1. */
    public static int defaultConcurrency(ModelConfig config) {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / config.intraOpThreads());
    }

    public LoadedModel model() {
        return model;
    }

    /** Requests waiting for a batch (not yet running). */
    public int queued() {
        return queued;
    }

    /**
     * Queues one request; never blocks and never runs the model on the calling thread.
     *
     * @param inputs  one tensor per model input, already checked against the model's spec
     * @param outputs the outputs wanted, or empty for all
     * @return the outputs in the model's order, exactly as {@link LoadedModel#run} would return them for this request
     *         alone; completes exceptionally with ONNX Runtime's exception ({@code OrtException}) when the model
     *         rejects this request, or with a {@link ModelUnloadedException} ("model unloaded") once
     *         {@link #close()} has been called
     */
    public CompletableFuture<List<HostTensor>> submit(List<HostTensor> inputs, Set<String> outputs) {
        List<HostTensor> in = List.copyOf(Objects.requireNonNull(inputs, "inputs"));
        Set<String> out = normalize(Objects.requireNonNull(outputs, "outputs"));
        long rows = rowsOf(in);
        Key key = rows > 0 ? keyOf(in, out, rows) : null;
        CompletableFuture<List<HostTensor>> future = new CompletableFuture<>();
        lock.lock();
        try {
            if (closed) return CompletableFuture.failedFuture(new ModelUnloadedException(null));
            Pending p = new Pending(in, out, rows, System.nanoTime(), future);
            if (key == null) {
                solos.addLast(p);
            } else {
                queues.computeIfAbsent(key, k -> new ArrayDeque<>()).addLast(p);
            }
            queued++;
            changed.signal();
        } finally {
            lock.unlock();
        }
        return future;
    }

    /**
     * Stops accepting requests (later submits fail with "model unloaded"), runs what is queued without waiting for
     * the batching delay, waits for every running batch, then returns. Idempotent. Does not close the model: its
     * owner does, after this returns. Called from one of this batcher's own threads (a future's callback), it only
     * stops accepting and does not wait.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (CURRENT.get() == this) return;
        boolean interrupted = false;
        while (dispatcher.isAlive()) {
            try {
                dispatcher.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        slots.acquireUninterruptibly(maxConcurrentBatches);
        slots.release(maxConcurrentBatches);
        if (interrupted) Thread.currentThread().interrupt();
    }

    // ---- the dispatcher ---------------------------------------------------------------------------------------

    private void dispatch() {
        CURRENT.set(this);
        try {
            while (true) {
                slots.acquireUninterruptibly();
                List<Pending> batch;
                try {
                    batch = nextBatch();
                } catch (RuntimeException | Error e) {
                    slots.release();
                    throw e;
                }
                if (batch == null) {
                    slots.release();
                    return;
                }
                Runnable task = () -> execute(batch);
                try {
                    executor.execute(task);
                } catch (RejectedExecutionException e) {
                    LOG.warn("{} v{}: inference executor rejected a batch; running it on the dispatcher", model.name(),
                            model.version());
                    task.run();
                }
            }
        } catch (Throwable t) {
            LOG.error("{} v{}: batcher failed; failing its queued requests", model.name(), model.version(), t);
            failQueued(t);
        } finally {
            if (ownExecutor != null) ownExecutor.shutdown();
        }
    }

    /** Waits for the next batch to close; null once closed and drained. */
    private List<Pending> nextBatch() {
        lock.lock();
        try {
            while (true) {
                if (closed && queued == 0) return null;
                long now = System.nanoTime();
                long[] wait = {Long.MAX_VALUE};
                List<Pending> batch = takeReady(now, wait);
                if (batch != null) return batch;
                try {
                    if (wait[0] == Long.MAX_VALUE) {
                        changed.await();
                    } else {
                        changed.awaitNanos(wait[0]);
                    }
                } catch (InterruptedException e) {
                    // only close() wakes the dispatcher, through the condition; keep going
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes and returns the ready batch whose oldest request is oldest, or null and sets {@code wait[0]} to the
     * nanos until the next batch is due by its delay (unchanged when none is). A solo request is always ready; a
     * key's batch (the longest prefix of its queue that fits in maxBatchSize rows) is ready when it is full, when the
     * next request would not fit, when its oldest request has waited the delay, or when closing.
     */
    private List<Pending> takeReady(long now, long[] wait) {
        Pending bestSolo = solos.peekFirst();
        ArrayDeque<Pending> bestQueue = null;
        Key bestKey = null;
        int bestCount = 0;
        long bestSince = bestSolo == null ? 0 : bestSolo.enqueuedNanos;
        boolean found = bestSolo != null;
        for (Map.Entry<Key, ArrayDeque<Pending>> e : queues.entrySet()) {
            ArrayDeque<Pending> q = e.getValue();
            Pending head = q.peekFirst();
            long rows = 0;
            int count = 0;
            boolean full = false;
            for (Pending p : q) {
                if (rows + p.rows > config.maxBatchSize()) {
                    full = true;
                    break;
                }
                rows += p.rows;
                count++;
                if (rows == config.maxBatchSize()) {
                    full = true;
                    break;
                }
            }
            long waited = now - head.enqueuedNanos;
            if (full || closed || waited >= delayNanos) {
                if (!found || head.enqueuedNanos - bestSince < 0) {
                    found = true;
                    bestSince = head.enqueuedNanos;
                    bestSolo = null;
                    bestQueue = q;
                    bestKey = e.getKey();
                    bestCount = count;
                }
            } else {
                wait[0] = Math.min(wait[0], delayNanos - waited);
            }
        }
        if (!found) return null;
        List<Pending> batch;
        if (bestSolo != null) {
            batch = List.of(solos.pollFirst());
        } else {
            batch = new ArrayList<>(bestCount);
            for (int i = 0; i < bestCount; i++) batch.add(bestQueue.pollFirst());
            if (bestQueue.isEmpty()) queues.remove(bestKey);
        }
        queued -= batch.size();
        return batch;
    }

    private void failQueued(Throwable cause) {
        List<Pending> failed = new ArrayList<>();
        lock.lock();
        try {
            closed = true;
            failed.addAll(solos);
            solos.clear();
            queues.values().forEach(failed::addAll);
            queues.clear();
            queued = 0;
        } finally {
            lock.unlock();
        }
        for (Pending p : failed) p.future.completeExceptionally(new ModelUnloadedException(cause));
    }

    // ---- running a batch --------------------------------------------------------------------------------------

    private void execute(List<Pending> batch) {
        DynamicBatcher previous = CURRENT.get();
        CURRENT.set(this);
        try {
            List<Pending> live = new ArrayList<>(batch.size());
            for (Pending p : batch) if (!p.future.isDone()) live.add(p); // a caller may have cancelled
            if (live.isEmpty()) return;
            long start = System.nanoTime();
            Object[] results = new Object[live.size()]; // List<HostTensor> or Throwable
            boolean fallback = false;
            try {
                if (live.size() == 1) {
                    results[0] = runAlone(live.get(0));
                } else {
                    List<List<HostTensor>> split = runMerged(live);
                    if (split != null) {
                        for (int i = 0; i < results.length; i++) results[i] = split.get(i);
                    } else {
                        fallback = true;
                        for (int i = 0; i < results.length; i++) results[i] = runAlone(live.get(i));
                    }
                }
            } catch (Throwable t) {
                for (int i = 0; i < results.length; i++) if (results[i] == null) results[i] = t;
            }
            long runNanos = System.nanoTime() - start;
            int failed = 0;
            long rows = 0;
            for (int i = 0; i < results.length; i++) {
                rows += live.get(i).rows;
                if (results[i] instanceof Throwable) failed++;
            }
            try {
                observer.batch(new BatchStats(model.name(), model.version(), live.size(), rows,
                        start - live.get(0).enqueuedNanos, runNanos, fallback, failed));
            } catch (RuntimeException e) {
                LOG.warn("{} v{}: batch observer failed", model.name(), model.version(), e);
            }
            for (int i = 0; i < results.length; i++) complete(live.get(i), results[i]);
        } finally {
            CURRENT.set(previous);
            slots.release();
        }
    }

    @SuppressWarnings("unchecked")
    private static void complete(Pending p, Object result) {
        try {
            if (result instanceof Throwable t) {
                p.future.completeExceptionally(t);
            } else {
                p.future.complete((List<HostTensor>) result);
            }
        } catch (RuntimeException e) {
            LOG.warn("a request's completion callback failed", e);
        }
    }

    /** The request's outputs, or what it threw. */
    private Object runAlone(Pending p) {
        try {
            return model.run(p.inputs, p.outputs);
        } catch (Throwable t) {
            if (t instanceof Error) LOG.error("{} v{}: run failed", model.name(), model.version(), t);
            return t;
        }
    }

    /**
     * Runs the requests as one batch and splits the outputs by their rows; null when the merged run fails or an
     * output's first dimension is not the batch (then the output set is remembered as not splittable).
     */
    private List<List<HostTensor>> runMerged(List<Pending> batch) {
        List<HostTensor> merged;
        long total = 0;
        for (Pending p : batch) total += p.rows;
        try {
            merged = model.run(stack(batch), batch.get(0).outputs);
        } catch (Exception e) {
            LOG.debug("{} v{}: merged run of {} requests failed ({}); running them one by one", model.name(),
                    model.version(), batch.size(), e.toString());
            return null;
        }
        for (HostTensor t : merged) {
            if (t.shape().length == 0 || t.shape()[0] != total) {
                if (unsplittable.add(batch.get(0).outputs)) {
                    LOG.info("{} v{}: output {} is not batched along its first dimension ({} rows in); requests for "
                            + "{} now run one by one", model.name(), model.version(), t, total,
                            batch.get(0).outputs.isEmpty() ? "all outputs" : batch.get(0).outputs);
                }
                return null;
            }
        }
        List<List<HostTensor>> out = new ArrayList<>(batch.size());
        long at = 0;
        for (Pending p : batch) {
            List<HostTensor> mine = new ArrayList<>(merged.size());
            for (HostTensor t : merged) mine.add(t.slice(at, at + p.rows));
            out.add(mine);
            at += p.rows;
        }
        return out;
    }

    /** Each input stacked along the first dimension, in the first request's order. */
    private static List<HostTensor> stack(List<Pending> batch) {
        List<HostTensor> first = batch.get(0).inputs;
        List<HostTensor> stacked = new ArrayList<>(first.size());
        for (int i = 0; i < first.size(); i++) {
            String name = first.get(i).name();
            List<HostTensor> parts = new ArrayList<>(batch.size());
            for (Pending p : batch) parts.add(p.input(name, i));
            stacked.add(HostTensor.concat(parts));
        }
        return stacked;
    }

    // ---- admission --------------------------------------------------------------------------------------------

    /** Empty (all outputs) when every output is asked for, so equivalent requests merge. */
    private Set<String> normalize(Set<String> outputs) {
        if (outputs.isEmpty() || outputs.containsAll(outputNames)) return Set.of();
        return Set.copyOf(outputs);
    }

    /** The rows every input agrees on; 0 when there are none, they disagree or an input is a scalar. */
    private static long rowsOf(List<HostTensor> inputs) {
        long rows = -1;
        for (HostTensor t : inputs) {
            if (t.shape().length == 0) return 0;
            if (rows != -1 && t.shape()[0] != rows) return 0;
            rows = t.shape()[0];
        }
        return Math.max(rows, 0);
    }

    /** What requests must share to be merged; null when this request runs by itself. */
    private Key keyOf(List<HostTensor> inputs, Set<String> outputs, long rows) {
        if (!modelBatchable || rows > config.maxBatchSize() || unsplittable.contains(outputs)) return null;
        if (inputs.size() != model.spec().inputs().size()) return null;
        Set<String> names = new HashSet<>();
        List<InputKey> inputKeys = new ArrayList<>(inputs.size());
        for (HostTensor t : inputs) {
            if (model.spec().input(t.name()) == null || !names.add(t.name())) return null;
            long[] shape = t.shape();
            inputKeys.add(new InputKey(t.name(), t.type(), Arrays.stream(shape, 1, shape.length).boxed().toList()));
        }
        for (TensorSpec o : model.spec().outputs()) {
            boolean wanted = outputs.isEmpty() || outputs.contains(o.name());
            if (wanted && o.shape().length > 0 && o.shape()[0] >= 0) return null; // declared fixed: not the batch
        }
        inputKeys.sort((a, b) -> a.name.compareTo(b.name));
        return new Key(outputs, inputKeys);
    }

    private record InputKey(String name, TensorType type, List<Long> dims) {
    }

    private record Key(Set<String> outputs, List<InputKey> inputs) {
    }

    private static final class Pending {
        final List<HostTensor> inputs;
        final Set<String> outputs;
        final long rows;
        final long enqueuedNanos;
        final CompletableFuture<List<HostTensor>> future;

        Pending(List<HostTensor> inputs, Set<String> outputs, long rows, long enqueuedNanos,
                CompletableFuture<List<HostTensor>> future) {
            this.inputs = inputs;
            this.outputs = outputs;
            this.rows = rows;
            this.enqueuedNanos = enqueuedNanos;
            this.future = future;
        }

        /** The input named {@code name}, looked for first at {@code index}. */
        HostTensor input(String name, int index) {
            if (index < inputs.size() && inputs.get(index).name().equals(name)) return inputs.get(index);
            for (HostTensor t : inputs) if (t.name().equals(name)) return t;
            throw new IllegalStateException("no input " + name);
        }
    }

    /**
     * A request this batcher held or was given after {@link #close()} began: its model version was unloaded before it
     * ran. Still an {@link IllegalStateException} (HTTP answers it 500 as before); gRPC answers it UNAVAILABLE.
     */
    public static final class ModelUnloadedException extends IllegalStateException {
        ModelUnloadedException(Throwable cause) {
            super("model unloaded", cause);
        }
    }
}
