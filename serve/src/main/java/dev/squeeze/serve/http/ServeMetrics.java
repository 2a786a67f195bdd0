package dev.squeeze.serve.http;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.inject.Singleton;

import java.time.Duration;

/**
 * The server's own metrics, per model: {@code squeeze_requests_seconds} (a latency histogram whose count is the
 * request count, tagged by endpoint, protocol (http, grpc) and outcome: ok, client_error, server_error),
 * {@code squeeze_batch_rows} and
 * {@code squeeze_batch_requests} (how much dynamic batching merged), {@code squeeze_queue_wait_seconds}.
 */
@Singleton
public class ServeMetrics {
    private final MeterRegistry registry;

    public ServeMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** A request over HTTP. */
    public void request(String model, String endpoint, String outcome, long nanos) {
        request(model, endpoint, "http", outcome, nanos);
    }

    /**
     * @param endpoint what was asked: infer, predict, metadata (the same names over every protocol)
     * @param protocol http or grpc
     */
    public void request(String model, String endpoint, String protocol, String outcome, long nanos) {
        Timer.builder("squeeze.requests").description("Requests by model, endpoint, protocol and outcome, with their latency")
                .tags("model", model, "endpoint", endpoint, "protocol", protocol, "outcome", outcome)
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(50_000)).maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry).record(Duration.ofNanos(nanos));
    }

    public void batch(String model, int requests, long rows, long queueWaitNanos) {
        DistributionSummary.builder("squeeze.batch.requests").description("Requests merged into one ONNX Runtime call")
                .tags("model", model).publishPercentileHistogram().minimumExpectedValue(1.0).maximumExpectedValue(256.0)
                .register(registry).record(requests);
        DistributionSummary.builder("squeeze.batch.rows").description("Rows (examples) in one ONNX Runtime call")
                .tags("model", model).publishPercentileHistogram().minimumExpectedValue(1.0).maximumExpectedValue(1024.0)
                .register(registry).record(rows);
        Timer.builder("squeeze.queue.wait").description("Time a request waited for its batch to fill")
                .tags("model", model).register(registry).record(Duration.ofNanos(queueWaitNanos));
    }
}
