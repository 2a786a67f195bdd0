package dev.squeeze.serve.http;

import dev.squeeze.serve.bench.BenchmarkJobs;
import dev.squeeze.serve.bench.BenchmarkRequest;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

import java.util.List;

/**
 * Server-side benchmarks: {@code POST /v1/benchmarks} queues one (body optional, see {@link BenchmarkRequest}:
 * {@code {"models": [...], "window_ms": 1000, "warmup_ms": 1000, "max_windows": 10, "threads": 1}}, each bounded) and
 * answers 202 with its id, or 429 when a job runs and {@value BenchmarkJobs#MAX_WAITING} wait; it needs the API key
 * when one is set ({@link ApiKeyFilter}). {@code GET /v1/benchmarks/{id}} gives a job's status and results.
 */
@Controller("/v1/benchmarks")
@Tag(name = "benchmarks")
public class BenchmarkController {
    private final ModelServing serving;

    public BenchmarkController(ModelServing serving) {
        this.serving = serving;
    }

    @Post(consumes = MediaType.ALL, produces = MediaType.APPLICATION_JSON)
    @Operation(summary = "Benchmark served models (all ready ones by default); answers 202 with the job, 429 when the queue is full")
    public HttpResponse<?> start(@Nullable @Body byte[] body) {
        BenchmarkRequest request = BenchmarkRequest.parse(body);
        try {
            return HttpResponse.status(HttpStatus.ACCEPTED).body(serving.benchmarks().submit(request.models(), request.options()));
        } catch (BenchmarkJobs.QueueFullException e) {
            return ErrorResponses.of(HttpStatus.TOO_MANY_REQUESTS, e.getMessage());
        }
    }

    @Get(produces = MediaType.APPLICATION_JSON)
    @Operation(summary = "Every kept benchmark job")
    public List<BenchmarkJobs.Job> all() {
        return serving.benchmarks().all();
    }

    @Get(value = "/{id}", produces = MediaType.APPLICATION_JSON)
    @Operation(summary = "One job: status (queued, running, done, failed, cancelled) and results")
    public HttpResponse<?> get(String id) {
        return serving.benchmarks().get(id).<HttpResponse<?>>map(HttpResponse::ok)
                .orElseGet(() -> ErrorResponses.of(HttpStatus.NOT_FOUND, "no benchmark job '" + id + "'; GET /v1/benchmarks lists them"));
    }
}
