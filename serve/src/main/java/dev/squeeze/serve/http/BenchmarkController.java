package dev.squeeze.serve.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squeeze.serve.runtime.BadRequestException;
import dev.squeeze.serve.runtime.BenchmarkJobs;
import dev.squeeze.serve.runtime.BenchmarkOptions;
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

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Server-side benchmarks: {@code POST /v1/benchmarks} queues one (body optional:
 * {@code {"models": [...], "window_ms": 1000, "warmup_ms": 1000, "max_windows": 10, "threads": 1}}) and answers 202
 * with its id; {@code GET /v1/benchmarks/{id}} gives its status and results.
 */
@Controller("/v1/benchmarks")
@Tag(name = "benchmarks")
public class BenchmarkController {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ModelServing serving;

    public BenchmarkController(ModelServing serving) {
        this.serving = serving;
    }

    @Post(consumes = MediaType.ALL, produces = MediaType.APPLICATION_JSON)
    @Operation(summary = "Benchmark served models (all ready ones by default); answers 202 with the job")
    public HttpResponse<BenchmarkJobs.Job> start(@Nullable @Body byte[] body) {
        JsonNode req;
        try {
            req = body == null || body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (IOException e) {
            throw new BadRequestException("the body is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (req == null || !req.isObject()) throw new BadRequestException("send a JSON object, e.g. {\"models\": [\"a\"]}");
        List<String> models = new ArrayList<>();
        for (JsonNode m : req.path("models")) models.add(m.asText());
        BenchmarkOptions o = BenchmarkOptions.DEFAULTS;
        try {
            if (req.has("threads")) o = o.withIntraOpThreads(req.get("threads").asInt());
            if (req.has("warmup_ms")) o = o.withWarmup(Duration.ofMillis(req.get("warmup_ms").asLong()));
            if (req.has("window_ms")) o = o.withWindow(Duration.ofMillis(req.get("window_ms").asLong()));
            if (req.has("max_windows")) o = o.withMaxWindows(req.get("max_windows").asInt());
        } catch (IllegalArgumentException e) {
            throw new BadRequestException(e.getMessage());
        }
        return HttpResponse.status(HttpStatus.ACCEPTED).body(serving.benchmarks().submit(models, o));
    }

    @Get(produces = MediaType.APPLICATION_JSON)
    @Operation(summary = "Every kept benchmark job")
    public List<BenchmarkJobs.Job> all() {
        return serving.benchmarks().all();
    }

    @Get(value = "/{id}", produces = MediaType.APPLICATION_JSON)
    @Operation(summary = "One job: status (queued, running, done, failed) and results")
    public HttpResponse<?> get(String id) {
        return serving.benchmarks().get(id).<HttpResponse<?>>map(HttpResponse::ok)
                .orElseGet(() -> ErrorResponses.of(HttpStatus.NOT_FOUND, "no benchmark job '" + id + "'; GET /v1/benchmarks lists them"));
    }
}
