package dev.squeeze.serve.bench;

import dev.squeeze.core.ExportProvenance;
import dev.squeeze.serve.runtime.ModelLease;
import dev.squeeze.serve.runtime.ModelRepository;
import dev.squeeze.serve.runtime.ModelState;
import dev.squeeze.serve.runtime.RepositoryEntry;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The server's benchmarks: jobs that run {@link ModelBenchmark} on served models, one job at a time on one thread (so
 * two benchmarks never compete for the CPU), kept in memory with their results; the latest result per model feeds the
 * dashboard. Accuracy comes from each export's metadata (measured in ONNX Runtime at export): the server has no test
 * set; a model quantized from a float ONNX file with inputs gets its {@link Fidelity} instead, and that float model,
 * when the same job measures it, the reference 1.
 *
 * <p>At most one job runs and {@value #MAX_WAITING} wait; more are refused ({@link QueueFullException}).
 * {@link #close()} stops the running job before its next ONNX Runtime call and waits for its thread to end, so a
 * stopping server never exits under a benchmark's call in progress.
 */
public final class BenchmarkJobs implements AutoCloseable {
    private static final int KEPT = 100;
    /** Jobs that may wait behind the running one. */
    public static final int MAX_WAITING = 4;
    private static final Logger log = LoggerFactory.getLogger(BenchmarkJobs.class);

    /** @param status queued, running, done, failed or cancelled (the server stopped first) */
    public record Job(String id, String status, List<String> models, String submitted, String finished,
                      List<BenchmarkResult> results, String error) {
    }

    /** A job runs and {@value #MAX_WAITING} wait: try again once one has finished (HTTP 429). */
    public static final class QueueFullException extends RuntimeException {
        QueueFullException(String message) {
            super(message);
        }
    }

    private final ModelRepository repository;
    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "squeeze-benchmark");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Job> jobs = Collections.synchronizedMap(new LinkedHashMap<>());
    private final Map<String, BenchmarkResult> latest = new ConcurrentHashMap<>();
    private int unfinished; // queued or running; guarded by this
    private boolean closed; // guarded by this

    public BenchmarkJobs(ModelRepository repository) {
        this.repository = repository;
    }

    /**
     * Queues a benchmark of {@code models} (every ready model when empty; a name given twice is measured once);
     * unknown names are refused now, not later.
     *
     * @throws QueueFullException    when a job is running and {@value #MAX_WAITING} are waiting
     * @throws IllegalStateException after {@link #close()}
     */
    public Job submit(List<String> models, BenchmarkOptions options) {
        List<String> names = new ArrayList<>(new LinkedHashSet<>(models));
        if (names.isEmpty()) {
            for (RepositoryEntry e : repository.index()) if (e.state() == ModelState.READY) names.add(e.name());
        }
        for (String name : names) {
            ModelRepository.checkName(name);
            RepositoryEntry e = repository.entry(name);
            if (e == null || e.state() != ModelState.READY) {
                throw new ModelRepository.ModelNotFoundException(name, "cannot benchmark '" + name + "': it is not a "
                        + "ready model; see /v2/repository/index");
            }
        }
        String id = UUID.randomUUID().toString().substring(0, 8);
        Job job = new Job(id, "queued", List.copyOf(names), Instant.now().toString(), null, List.of(), null);
        synchronized (this) {
            if (closed) throw new IllegalStateException("the server is stopping; no new benchmarks");
            if (unfinished > MAX_WAITING) {
                throw new QueueFullException("a benchmark is running and " + MAX_WAITING + " are waiting; "
                        + "try again when one has finished (GET /v1/benchmarks lists them)");
            }
            unfinished++;
            put(job);
            runner.submit(() -> run(job, options));
        }
        return job;
    }

    private void run(Job job, BenchmarkOptions options) {
        List<BenchmarkResult> results = new ArrayList<>();
        try {
            put(new Job(job.id(), "running", job.models(), job.submitted(), null, List.of(), null));
            // The float models the job's quantized files came from are their reference, when the job measures them.
            List<ExportProvenance> provenances = new ArrayList<>();
            for (String name : job.models()) {
                try (ModelLease lease = repository.acquire(name)) {
                    ExportProvenance.read(lease.model().metadata()).ifPresent(provenances::add);
                }
            }
            Map<String, Fidelity> references = Fidelity.references(provenances);
            for (String name : job.models()) {
                try (ModelLease lease = repository.acquire(name)) {
                    BenchmarkResult r = ModelBenchmark.measure(name, lease.model().file(), options, null, references);
                    results.add(r);
                    latest.put(name, r);
                }
                put(new Job(job.id(), "running", job.models(), job.submitted(), null, List.copyOf(results), null));
            }
            put(new Job(job.id(), "done", job.models(), job.submitted(), Instant.now().toString(), List.copyOf(results), null));
        } catch (CancellationException e) {
            put(cancelled(job, results));
        } catch (RuntimeException e) {
            put(new Job(job.id(), "failed", job.models(), job.submitted(), Instant.now().toString(), List.copyOf(results),
                    String.valueOf(e.getMessage())));
        } finally {
            synchronized (this) {
                unfinished--;
            }
        }
    }

    private static Job cancelled(Job job, List<BenchmarkResult> results) {
        return new Job(job.id(), "cancelled", job.models(), job.submitted(), Instant.now().toString(),
                List.copyOf(results), "the server stopped before the benchmark finished");
    }

    private void put(Job job) {
        synchronized (jobs) {
            jobs.put(job.id(), job);
            while (jobs.size() > KEPT) jobs.remove(jobs.keySet().iterator().next());
        }
    }

    public Optional<Job> get(String id) {
        return Optional.ofNullable(jobs.get(id));
    }

    /** Every kept job, oldest first. */
    public List<Job> all() {
        synchronized (jobs) {
            return List.copyOf(jobs.values());
        }
    }

    /** The latest benchmark of each model. */
    public Map<String, BenchmarkResult> latest() {
        return Map.copyOf(latest);
    }

    /**
     * Refuses new jobs, drops the waiting ones, interrupts the running one (it stops before its next ONNX Runtime call
     * and closes its session) and waits until its thread has ended. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        runner.shutdownNow();
        boolean interrupted = false;
        while (true) {
            try {
                if (runner.awaitTermination(10, TimeUnit.SECONDS)) break;
                log.warn("waiting for the running benchmark to stop");
            } catch (InterruptedException e) {
                interrupted = true; // still wait: exiting under a call in progress crashes ONNX Runtime
            }
        }
        synchronized (jobs) {
            for (Job j : List.copyOf(jobs.values())) {
                if (j.status().equals("queued")) jobs.put(j.id(), cancelled(j, List.of()));
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
