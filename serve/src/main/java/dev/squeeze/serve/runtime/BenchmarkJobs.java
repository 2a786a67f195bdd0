package dev.squeeze.serve.runtime;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The server's benchmarks: jobs that run {@link ModelBenchmark} on served models, one job at a time on one thread (so
 * two benchmarks never compete for the CPU), kept in memory with their results; the latest result per model feeds the
 * dashboard. Accuracy comes from each export's metadata (measured in ONNX Runtime at export): the server has no test
 * set.
 */
public final class BenchmarkJobs implements AutoCloseable {
    private static final int KEPT = 100;

    /** @param status queued, running, done or failed */
    public record Job(String id, String status, List<String> models, String submitted, String finished,
                      List<BenchmarkResult> results, String error) {
    }

    private final ModelRepository repository;
    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "squeeze-benchmark");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Job> jobs = Collections.synchronizedMap(new LinkedHashMap<>());
    private final Map<String, BenchmarkResult> latest = new ConcurrentHashMap<>();

    public BenchmarkJobs(ModelRepository repository) {
        this.repository = repository;
    }

    /**
     * Queues a benchmark of {@code models} (every ready model when empty); unknown names are refused now, not later.
     */
    public Job submit(List<String> models, BenchmarkOptions options) {
        List<String> names = new ArrayList<>(models);
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
        put(job);
        runner.submit(() -> run(job, options));
        return job;
    }

    private void run(Job job, BenchmarkOptions options) {
        put(new Job(job.id(), "running", job.models(), job.submitted(), null, List.of(), null));
        List<BenchmarkResult> results = new ArrayList<>();
        try {
            for (String name : job.models()) {
                try (ModelLease lease = repository.acquire(name)) {
                    BenchmarkResult r = ModelBenchmark.measure(name, lease.model().file(), options, null);
                    results.add(r);
                    latest.put(name, r);
                }
                put(new Job(job.id(), "running", job.models(), job.submitted(), null, List.copyOf(results), null));
            }
            put(new Job(job.id(), "done", job.models(), job.submitted(), Instant.now().toString(), List.copyOf(results), null));
        } catch (RuntimeException e) {
            put(new Job(job.id(), "failed", job.models(), job.submitted(), Instant.now().toString(), List.copyOf(results),
                    String.valueOf(e.getMessage())));
        }
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

    @Override
    public void close() {
        runner.shutdownNow();
        try {
            runner.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
