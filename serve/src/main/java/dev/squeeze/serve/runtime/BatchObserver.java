package dev.squeeze.serve.runtime;

/**
 * Told about every batch a {@link DynamicBatcher} runs, after its requests' results are known and before their
 * futures complete; the HTTP layer turns this into Prometheus metrics. Called on the inference thread that ran the
 * batch, concurrently when batches run concurrently, so implementations must be thread-safe and quick. An exception
 * thrown here is logged and otherwise ignored.
 */
@FunctionalInterface
public interface BatchObserver {

    /** Observes nothing. */
    BatchObserver NONE = stats -> { };

    void batch(BatchStats stats);
}
