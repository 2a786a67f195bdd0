package dev.squeeze.serve.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Produces;
import io.swagger.v3.oas.annotations.Operation;

/** Prometheus metrics: requests, errors, latency and batch-size histograms per model, queue depth, JVM. */
@Controller
public class MetricsController {
    private final PrometheusMeterRegistry registry;

    public MetricsController(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    @Get("/metrics")
    @Produces("text/plain; version=0.0.4; charset=utf-8")
    @Operation(summary = "Prometheus metrics in the text exposition format")
    public String metrics() {
        return registry.scrape();
    }
}
