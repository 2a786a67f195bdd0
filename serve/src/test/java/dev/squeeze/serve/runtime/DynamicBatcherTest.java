package dev.squeeze.serve.runtime;

import ai.onnxruntime.OrtException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The dynamic batcher on real ONNX Runtime sessions. Behaviour, not speed: results equal to running each request
 * alone bit for bit, how requests are grouped (seen through the observer), failures confined to their requests, and
 * a graceful close. Batches that must close by size use a 60 s queue delay, so a batch that waited for the timer
 * instead would show as a timeout.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DynamicBatcherTest {

    private static final long LONG_DELAY_MICROS = 60_000_000;
    private static final Set<String> ALL = Set.of();

    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        Collections.reverse(toClose);
        for (AutoCloseable c : toClose) c.close();
    }

    // ---- merging ----------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"own threads", "caller's executor"})
    void concurrentRequestsGiveExactlyWhatRunningEachAloneGives(String threads) throws Exception {
        LoadedModel model = load(BatchTestModels.mlp(dir), new ModelConfig(32, 2_000, 1));
        Recorder recorder = new Recorder();
        ExecutorService pool = threads.startsWith("own") ? null : Executors.newFixedThreadPool(3);
        if (pool != null) toClose.add(pool::shutdownNow);
        DynamicBatcher batcher = batcher(new DynamicBatcher(model, pool, recorder));

        List<Set<String>> outputSets = List.of(ALL, Set.of("probabilities"), Set.of("logits"),
                Set.of("logits", "probabilities"));
        int threadCount = 64;
        int perThread = 20;
        ConcurrentLinkedQueue<Object[]> done = new ConcurrentLinkedQueue<>(); // inputs, outputs, result
        runConcurrently(threadCount, t -> {
            Random random = new Random(1000 + t);
            for (int i = 0; i < perThread; i++) {
                List<HostTensor> inputs = List.of(x(random, 1 + random.nextInt(3)));
                Set<String> outputs = outputSets.get(random.nextInt(outputSets.size()));
                done.add(new Object[]{inputs, outputs, batcher.submit(inputs, outputs).get(60, TimeUnit.SECONDS)});
            }
        });

        assertEquals(threadCount * perThread, done.size());
        for (Object[] d : done) {
            @SuppressWarnings("unchecked") List<HostTensor> inputs = (List<HostTensor>) d[0];
            @SuppressWarnings("unchecked") Set<String> outputs = (Set<String>) d[1];
            @SuppressWarnings("unchecked") List<HostTensor> result = (List<HostTensor>) d[2];
            assertSameTensors(model.run(inputs, outputs), result);
        }
        List<BatchStats> batches = recorder.batches();
        assertEquals(threadCount * perThread, batches.stream().mapToInt(BatchStats::requests).sum());
        assertTrue(batches.stream().allMatch(b -> b.rows() <= 32), "a batch over 32 rows: " + batches);
        assertTrue(batches.stream().anyMatch(b -> b.requests() > 1), "no request was merged");
        assertTrue(batches.stream().noneMatch(b -> b.fallback() || b.failed() > 0));
        assertEquals(0, batcher.queued());
    }

    @Test
    void aBatchClosesWhenFullOrWhenTheNextRequestWouldNotFitWithoutWaitingForTheDelay() throws Exception {
        LoadedModel model = load(BatchTestModels.mlp(dir), new ModelConfig(8, LONG_DELAY_MICROS, 1));
        Recorder recorder = new Recorder();
        DynamicBatcher batcher = batcher(new DynamicBatcher(model, null, recorder));
        Random random = new Random(1);

        List<List<HostTensor>> inputs = new ArrayList<>();
        List<CompletableFuture<List<HostTensor>>> futures = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            inputs.add(List.of(x(random, 1)));
            futures.add(batcher.submit(inputs.get(i), ALL));
        }
        for (int i = 0; i < 8; i++) assertSameTensors(model.run(inputs.get(i), ALL), get(futures.get(i)));
        assertEquals(List.of("8 requests, 8 rows"), recorder.shapes());

        // 3 + 3 rows fit in 8; the third request's 3 rows would not: the first two run, the third waits for its delay
        List<List<HostTensor>> more = List.of(List.of(x(random, 3)), List.of(x(random, 3)), List.of(x(random, 3)));
        List<CompletableFuture<List<HostTensor>>> moreFutures = new ArrayList<>();
        for (List<HostTensor> in : more) moreFutures.add(batcher.submit(in, ALL));
        assertSameTensors(model.run(more.get(0), ALL), get(moreFutures.get(0)));
        assertSameTensors(model.run(more.get(1), ALL), get(moreFutures.get(1)));
        assertFalse(moreFutures.get(2).isDone(), "a lone request ran before its 60 s delay");
        assertEquals(1, batcher.queued());

        batcher.close(); // runs the queued request now rather than after its delay
        assertTrue(moreFutures.get(2).isDone());
        assertSameTensors(model.run(more.get(2), ALL), moreFutures.get(2).get());
        assertEquals(List.of("8 requests, 8 rows", "2 requests, 6 rows", "1 requests, 3 rows"), recorder.shapes());
        assertTrue(recorder.batches().get(2).queueWaitNanos() < TimeUnit.MICROSECONDS.toNanos(LONG_DELAY_MICROS));
    }

    @Test
    void onlyRequestsForTheSameOutputsAndNonBatchDimensionsAreMerged() throws Exception {
        LoadedModel mlp = load(BatchTestModels.mlp(dir), new ModelConfig(2, LONG_DELAY_MICROS, 1));
        Recorder recorder = new Recorder();
        DynamicBatcher batcher = batcher(new DynamicBatcher(mlp, null, recorder));
        Random random = new Random(2);
        // {} and {logits, probabilities} both mean every output, so they merge
        List<Set<String>> outputs = List.of(Set.of("logits"), Set.of("probabilities"), Set.of("logits"),
                Set.of("probabilities"), ALL, Set.of("logits", "probabilities"));
        List<List<HostTensor>> inputs = new ArrayList<>();
        List<CompletableFuture<List<HostTensor>>> futures = new ArrayList<>();
        for (Set<String> o : outputs) {
            inputs.add(List.of(x(random, 1)));
            futures.add(batcher.submit(inputs.get(inputs.size() - 1), o));
        }
        for (int i = 0; i < outputs.size(); i++) {
            assertSameTensors(mlp.run(inputs.get(i), outputs.get(i)), get(futures.get(i)));
        }
        assertEquals(List.of("2 requests, 2 rows", "2 requests, 2 rows", "2 requests, 2 rows"), recorder.shapes());

        LoadedModel relu = load(BatchTestModels.relu(dir), new ModelConfig(2, LONG_DELAY_MICROS, 1));
        Recorder reluRecorder = new Recorder();
        DynamicBatcher reluBatcher = batcher(new DynamicBatcher(relu, null, reluRecorder));
        List<List<HostTensor>> reluInputs = new ArrayList<>();
        List<CompletableFuture<List<HostTensor>>> reluFutures = new ArrayList<>();
        for (int width : new int[]{3, 5, 3, 5}) {
            reluInputs.add(List.of(floats("x", random, 1, width)));
            reluFutures.add(reluBatcher.submit(reluInputs.get(reluInputs.size() - 1), ALL));
        }
        for (int i = 0; i < 4; i++) assertSameTensors(relu.run(reluInputs.get(i), ALL), get(reluFutures.get(i)));
        assertEquals(List.of("2 requests, 2 rows", "2 requests, 2 rows"), reluRecorder.shapes());
    }

    // ---- the delay --------------------------------------------------------------------------------------------

    @Test
    void aLoneRequestWaitsForTheDelayThenRuns() throws Exception {
        LoadedModel model = load(BatchTestModels.mlp(dir), new ModelConfig(32, 50_000, 1));
        Recorder recorder = new Recorder();
        DynamicBatcher batcher = batcher(new DynamicBatcher(model, null, recorder));
        List<HostTensor> inputs = List.of(x(new Random(3), 2));

        assertSameTensors(model.run(inputs, ALL), get(batcher.submit(inputs, ALL)));
        BatchStats only = recorder.batches().get(0);
        assertEquals(1, only.requests());
        assertEquals(2, only.rows());
        assertTrue(only.queueWaitNanos() >= TimeUnit.MILLISECONDS.toNanos(50),
                "ran after " + only.queueWaitNanos() + " ns, before its 50 ms delay was up");
    }

    @Test
    void withNoDelayALoneRequestIsNotHeldByATimer() throws Exception {
        LoadedModel model = load(BatchTestModels.mlp(dir), new ModelConfig(32, 0, 1));
        Recorder recorder = new Recorder();
        DynamicBatcher batcher = batcher(new DynamicBatcher(model, null, recorder));
        Random random = new Random(4);
        for (int i = 0; i < 20; i++) {
            List<HostTensor> inputs = List.of(x(random, 1));
            // a batcher that waited for company would never complete this: nothing else is submitted
            assertSameTensors(model.run(inputs, ALL), get(batcher.submit(inputs, ALL)));
        }
        List<BatchStats> batches = recorder.batches();
        assertEquals(20, batches.size());
        assertTrue(batches.stream().allMatch(b -> b.requests() == 1));
        // the wait is a thread hand-off (microseconds); a second is a margin no scheduler hiccup should reach
        long[] waits = batches.stream().mapToLong(BatchStats::queueWaitNanos).sorted().toArray();
        assertTrue(waits[waits.length / 2] < TimeUnit.SECONDS.toNanos(1), "median queue wait " + waits[waits.length / 2]);
    }

    // ---- requests that run by themselves ----------------------------------------------------------------------

    @Test
    void withBatchingOffEveryRequestRunsAloneAndWithoutDelay() throws Exception {
        LoadedModel model = load(BatchTestModels.mlp(dir), new ModelConfig(1, LONG_DELAY_MICROS, 1));
        Recorder recorder = new Recorder();
        DynamicBatcher batcher = batcher(new DynamicBatcher(model, null, recorder));
        ConcurrentLinkedQueue<Object[]> done = new ConcurrentLinkedQueue<>();
        runConcurrently(16, t -> {
            Random random = new Random(2000 + t);
            for (int i = 0; i < 10; i++) {
                List<HostTensor> inputs = List.of(x(random, 1 + random.nextInt(3)));
                done.add(new Object[]{inputs, get(batcher.submit(inputs, ALL))});
            }
        });
        assertAllMatchRunningAlone(model, done);
        List<BatchStats> batches = recorder.batches();
        assertEquals(160, batches.size());
        assertTrue(batches.stream().allMatch(b -> b.requests() == 1), "merged with batching off: " + batches);
    }

    @Test
    void aModelWithAFixedFirstDimensionIsServedOneRequestAtATime() throws Exception {
        LoadedModel model = load(BatchTestModels.fixedBatchMlp(dir), new ModelConfig(32, LONG_DELAY_MICROS, 1));
        assertFalse(model.spec().input("x").batchable());
        Recorder recorder = new Recorder();
        DynamicBatcher batcher = batcher(new DynamicBatcher(model, null, recorder));
        ConcurrentLinkedQueue<Object[]> done = new ConcurrentLinkedQueue<>();
        runConcurrently(16, t -> {
            Random random = new Random(3000 + t);
            for (int i = 0; i < 10; i++) {
                List<HostTensor> inputs = List.of(x(random, 1));
                done.add(new Object[]{inputs, get(batcher.submit(inputs, ALL))});
            }
        });
        assertAllMatchRunningAlone(model, done);
        assertEquals(160, recorder.batches().size());
        assertTrue(recorder.batches().stream().allMatch(b -> b.requests() == 1));
    }

    @Test
    void aRequestWithMoreRowsThanTheMaximumBatchRunsAlone() throws Exception {
        LoadedModel model = load(BatchTestModels.mlp(dir), new ModelConfig(4, LONG_DELAY_MICROS, 1));
        Recorder recorder = new Recorder();
        DynamicBatcher batcher = batcher(new DynamicBatcher(model, null, recorder));
        List<HostTensor> inputs = List.of(x(new Random(5), 10));
        List<HostTensor> result = get(batcher.submit(inputs, Set.of("probabilities")));
        assertSameTensors(model.run(inputs, Set.of("probabilities")), result);
        assertArrayEquals(new long[]{10, BatchTestModels.CLASSES}, result.get(0).shape());
        assertEquals(List.of("1 requests, 10 rows"), recorder.shapes());
    }

    // ---- failures ---------------------------------------------------------------------------------------------

    @Test
    void aRequestOnnxRuntimeRejectsInAMergedBatchFailsOnlyItself() throws Exception {
        LoadedModel model = load(BatchTestModels.gather(dir), new ModelConfig(4, LONG_DELAY_MICROS, 1));
        Recorder recorder = new Recorder();
        DynamicBatcher batcher = batcher(new DynamicBatcher(model, null, recorder));
        long[] indices = {1, 2, 99, 3}; // 99 is outside the 10-row table: ONNX Runtime fails any run holding it
        List<CompletableFuture<List<HostTensor>>> futures = new ArrayList<>();
        for (long i : indices) futures.add(batcher.submit(List.of(index(i)), ALL));

        for (int k = 0; k < indices.length; k++) {
            if (indices[k] == 99) {
                int bad = k;
                ExecutionException e = assertThrows(ExecutionException.class, () -> futures.get(bad).get(60, TimeUnit.SECONDS));
                assertInstanceOf(OrtException.class, e.getCause());
            } else {
                List<HostTensor> rows = get(futures.get(k));
                assertSameTensors(model.run(List.of(index(indices[k])), ALL), rows);
                assertEquals(indices[k] * BatchTestModels.TABLE_WIDTH * 0.5f, ((float[]) rows.get(0).data())[0]);
            }
        }
        List<BatchStats> batches = recorder.batches();
        assertEquals(1, batches.size());
        assertEquals(4, batches.get(0).requests());
        assertTrue(batches.get(0).fallback());
        assertEquals(1, batches.get(0).failed());
    }

    @Test
    void aRequestOfTheWrongRankFailsAloneWhileConcurrentGoodRequestsSucceed() throws Exception {
        LoadedModel model = load(BatchTestModels.mlp(dir), new ModelConfig(32, 2_000, 1));
        Recorder recorder = new Recorder();
        DynamicBatcher batcher = batcher(new DynamicBatcher(model, null, recorder));
        ConcurrentLinkedQueue<Object[]> done = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> badFailures = new ConcurrentLinkedQueue<>();
        runConcurrently(16, t -> {
            Random random = new Random(4000 + t);
            for (int i = 0; i < 10; i++) {
                if (i % 5 == t % 5) {
                    // [2, 28, 28] where the model takes [batch, 784]: as if validation had let it through
                    HostTensor bad = floats("x", random, 2, 28, 28);
                    ExecutionException e = assertThrows(ExecutionException.class,
                            () -> batcher.submit(List.of(bad), ALL).get(60, TimeUnit.SECONDS));
                    badFailures.add(e.getCause());
                } else {
                    List<HostTensor> inputs = List.of(x(random, 1 + random.nextInt(3)));
                    done.add(new Object[]{inputs, get(batcher.submit(inputs, ALL))});
                }
            }
        });
        assertEquals(16 * 2, badFailures.size());
        assertTrue(badFailures.stream().allMatch(e -> e instanceof OrtException), badFailures.toString());
        assertEquals(16 * 8, done.size());
        assertAllMatchRunningAlone(model, done);
    }

    @Test
    void outputsWhoseFirstDimensionTurnsOutNotToBeTheBatchAreServedOneRequestAtATime() throws Exception {
        LoadedModel model = load(BatchTestModels.nonZero(dir), new ModelConfig(4, LONG_DELAY_MICROS, 1));
        assertEquals(-1, model.spec().output("coords").shape()[0]);
        Recorder recorder = new Recorder();
        DynamicBatcher batcher = batcher(new DynamicBatcher(model, null, recorder));
        Random random = new Random(6);

        // four requests fill a batch; its output is [28, 2], not [4, ...]: every request is rerun alone
        List<List<HostTensor>> inputs = new ArrayList<>();
        List<CompletableFuture<List<HostTensor>>> futures = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            inputs.add(List.of(nonZeroRows(random, 1)));
            futures.add(batcher.submit(inputs.get(i), ALL));
        }
        for (int i = 0; i < 4; i++) {
            List<HostTensor> result = get(futures.get(i));
            assertSameTensors(model.run(inputs.get(i), ALL), result);
            assertArrayEquals(new long[]{BatchTestModels.SUM_WIDTH, 2}, result.get(0).shape());
        }
        assertEquals(List.of("4 requests, 4 rows"), recorder.shapes());
        assertTrue(recorder.batches().get(0).fallback());
        assertEquals(0, recorder.batches().get(0).failed());

        // and from then on such requests run by themselves, without waiting for the (60 s) delay
        for (int i = 0; i < 3; i++) {
            List<HostTensor> in = List.of(nonZeroRows(random, 2));
            assertSameTensors(model.run(in, ALL), get(batcher.submit(in, ALL)));
        }
        assertEquals(List.of("4 requests, 4 rows", "1 requests, 2 rows", "1 requests, 2 rows", "1 requests, 2 rows"),
                recorder.shapes());
    }

    @Test
    void outputsDeclaredWithAFixedFirstDimensionAreNeverMerged() throws Exception {
        LoadedModel model = load(BatchTestModels.columnSum(dir), new ModelConfig(4, LONG_DELAY_MICROS, 1));
        assertTrue(model.spec().input("x").batchable());
        assertArrayEquals(new long[]{BatchTestModels.SUM_WIDTH}, model.spec().output("sum").shape());
        Recorder recorder = new Recorder();
        DynamicBatcher batcher = batcher(new DynamicBatcher(model, null, recorder));
        Random random = new Random(8);
        List<List<HostTensor>> inputs = new ArrayList<>();
        List<CompletableFuture<List<HostTensor>>> futures = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            inputs.add(List.of(floats("x", random, 1, BatchTestModels.SUM_WIDTH)));
            futures.add(batcher.submit(inputs.get(i), ALL));
        }
        // three rows of four would wait 60 s for a fourth if they could be merged
        for (int i = 0; i < 3; i++) assertSameTensors(model.run(inputs.get(i), ALL), get(futures.get(i)));
        assertEquals(List.of("1 requests, 1 rows", "1 requests, 1 rows", "1 requests, 1 rows"), recorder.shapes());
    }

    // ---- closing ----------------------------------------------------------------------------------------------

    @Test
    void closeRunsWhatIsQueuedWithoutWaitingForTheDelayThenRefusesRequests() throws Exception {
        LoadedModel model = load(BatchTestModels.mlp(dir), new ModelConfig(32, LONG_DELAY_MICROS, 1));
        Recorder recorder = new Recorder();
        DynamicBatcher batcher = batcher(new DynamicBatcher(model, null, recorder));
        Random random = new Random(7);
        List<List<HostTensor>> inputs = new ArrayList<>();
        List<CompletableFuture<List<HostTensor>>> futures = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            inputs.add(List.of(x(random, 1 + i % 3)));
            futures.add(batcher.submit(inputs.get(i), ALL));
        }
        assertEquals(5, batcher.queued());
        assertTrue(futures.stream().noneMatch(CompletableFuture::isDone));

        batcher.close();
        assertEquals(0, batcher.queued());
        for (int i = 0; i < 5; i++) {
            assertTrue(futures.get(i).isDone(), "close returned before request " + i + " completed");
            assertSameTensors(model.run(inputs.get(i), ALL), futures.get(i).get());
        }
        assertEquals(5, recorder.batches().stream().mapToInt(BatchStats::requests).sum());

        CompletableFuture<List<HostTensor>> late = batcher.submit(inputs.get(0), ALL);
        ExecutionException e = assertThrows(ExecutionException.class, late::get);
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertEquals("model unloaded", e.getCause().getMessage());
        batcher.close(); // again: nothing to do
    }

    @Test
    void closeUnderLoadCompletesEveryAcceptedRequest() throws Exception {
        LoadedModel model = load(BatchTestModels.mlp(dir), new ModelConfig(16, 1_000, 1));
        DynamicBatcher batcher = batcher(new DynamicBatcher(model, null, BatchObserver.NONE));
        int threadCount = 8;
        ConcurrentLinkedQueue<Object[]> submitted = new ConcurrentLinkedQueue<>();
        CountDownLatch someServed = new CountDownLatch(threadCount * 5);
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < threadCount; t++) {
            Random random = new Random(5000 + t);
            Thread thread = new Thread(() -> {
                while (true) {
                    List<HostTensor> inputs = List.of(x(random, 1 + random.nextInt(3)));
                    CompletableFuture<List<HostTensor>> f = batcher.submit(inputs, ALL);
                    submitted.add(new Object[]{inputs, f});
                    try {
                        f.get(60, TimeUnit.SECONDS);
                        someServed.countDown();
                    } catch (ExecutionException e) {
                        if (!"model unloaded".equals(e.getCause().getMessage())) unexpected.set(e.getCause());
                        return;
                    } catch (Exception e) {
                        unexpected.set(e);
                        return;
                    }
                }
            });
            thread.start();
            threads.add(thread);
        }
        assertTrue(someServed.await(60, TimeUnit.SECONDS));
        batcher.close();
        // every request accepted before close has completed; every later one failed at once
        for (Object[] s : submitted) assertTrue(((CompletableFuture<?>) s[1]).isDone());
        for (Thread thread : threads) thread.join(TimeUnit.SECONDS.toMillis(60));
        assertNull(unexpected.get());
        int served = 0;
        for (Object[] s : submitted) {
            @SuppressWarnings("unchecked") List<HostTensor> inputs = (List<HostTensor>) s[0];
            CompletableFuture<?> f = (CompletableFuture<?>) s[1];
            assertTrue(f.isDone());
            if (f.isCompletedExceptionally()) continue;
            @SuppressWarnings("unchecked") List<HostTensor> result = (List<HostTensor>) f.get();
            assertSameTensors(model.run(inputs, ALL), result);
            served++;
        }
        assertTrue(served >= threadCount * 5);
        assertEquals(threadCount, submitted.stream().filter(s -> ((CompletableFuture<?>) s[1]).isCompletedExceptionally()).count(),
                "each thread stops at its first refused request");
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    /** Records every batch the observer is told about. */
    private static final class Recorder implements BatchObserver {
        private final ConcurrentLinkedQueue<BatchStats> batches = new ConcurrentLinkedQueue<>();

        @Override
        public void batch(BatchStats stats) {
            batches.add(stats);
        }

        List<BatchStats> batches() {
            return List.copyOf(batches);
        }

        List<String> shapes() {
            return batches().stream().map(b -> b.requests() + " requests, " + b.rows() + " rows").toList();
        }
    }

    @FunctionalInterface
    private interface Worker {
        void run(int thread) throws Exception;
    }

    /** Runs {@code threads} workers started together; rethrows the first failure. */
    private static void runConcurrently(int threads, Worker worker) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    worker.run(id);
                    return null;
                }));
            }
            start.countDown();
            for (java.util.concurrent.Future<?> f : futures) {
                try {
                    f.get(120, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof Exception ex) throw ex;
                    if (e.getCause() instanceof Error err) throw err;
                    throw e;
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private LoadedModel load(Path file, ModelConfig config) {
        LoadedModel model = LoadedModel.load(file.getFileName().toString(), 1, file, config);
        toClose.add(model);
        return model;
    }

    /** Closed after the test, before its model. */
    private DynamicBatcher batcher(DynamicBatcher batcher) {
        toClose.add(batcher);
        return batcher;
    }

    private static List<HostTensor> get(CompletableFuture<List<HostTensor>> f) throws Exception {
        return f.get(60, TimeUnit.SECONDS);
    }

    private static HostTensor x(Random random, int rows) {
        return floats("x", random, rows, BatchTestModels.FEATURES);
    }

    private static HostTensor floats(String name, Random random, long... shape) {
        float[] data = new float[Math.toIntExact(HostTensor.elementCount(shape))];
        for (int i = 0; i < data.length; i++) data[i] = random.nextFloat() * 2 - 0.5f;
        return new HostTensor(name, TensorType.FP32, shape, data);
    }

    /** Rows of non-zero values for {@link BatchTestModels#nonZero}. */
    private static HostTensor nonZeroRows(Random random, int rows) {
        float[] data = new float[rows * BatchTestModels.SUM_WIDTH];
        for (int i = 0; i < data.length; i++) data[i] = 1 + random.nextFloat();
        return new HostTensor("x", TensorType.FP32, new long[]{rows, BatchTestModels.SUM_WIDTH}, data);
    }

    private static HostTensor index(long i) {
        return new HostTensor("index", TensorType.INT64, new long[]{1}, new long[]{i});
    }

    private static void assertAllMatchRunningAlone(LoadedModel model, ConcurrentLinkedQueue<Object[]> done) throws Exception {
        for (Object[] d : done) {
            @SuppressWarnings("unchecked") List<HostTensor> inputs = (List<HostTensor>) d[0];
            @SuppressWarnings("unchecked") List<HostTensor> result = (List<HostTensor>) d[1];
            assertSameTensors(model.run(inputs, ALL), result);
        }
    }

    /** Same names, types, shapes and data, bit for bit. */
    private static void assertSameTensors(List<HostTensor> expected, List<HostTensor> actual) {
        assertEquals(expected.size(), actual.size(), "outputs " + expected + " vs " + actual);
        for (int i = 0; i < expected.size(); i++) {
            HostTensor e = expected.get(i);
            HostTensor a = actual.get(i);
            assertEquals(e.name(), a.name());
            assertEquals(e.type(), a.type());
            assertArrayEquals(e.shape(), a.shape(), e.name());
            if (e.data() instanceof float[] ef) {
                float[] af = (float[]) a.data();
                assertEquals(ef.length, af.length);
                for (int k = 0; k < ef.length; k++) {
                    if (Float.floatToRawIntBits(ef[k]) != Float.floatToRawIntBits(af[k])) {
                        fail(e.name() + "[" + k + "]: " + ef[k] + " alone, " + af[k] + " batched");
                    }
                }
            } else {
                assertTrue(Objects.deepEquals(e.data(), a.data()), e.name() + " differs: "
                        + Arrays.deepToString(new Object[]{e.data()}) + " vs " + Arrays.deepToString(new Object[]{a.data()}));
            }
        }
    }
}
