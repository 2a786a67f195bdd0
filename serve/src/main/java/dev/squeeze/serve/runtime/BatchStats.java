package dev.squeeze.serve.runtime;

/**
 * One batch run by a {@link DynamicBatcher}, for metrics.
 *
 * @param model          the model's name
 * @param version        the model's version
 * @param requests       requests in the batch (1 for a request run by itself)
 * @param rows           their rows along the first dimension, together (never more than the model's
 *                       {@code maxBatchSize} when {@code requests > 1})
 * @param queueWaitNanos how long the batch's oldest request waited, from {@code submit} until its batch started
 *                       running (the batching delay plus any wait for a free inference thread)
 * @param runNanos       ONNX Runtime time for the batch: stacking, the run and splitting, or the individual runs on a
 *                       fallback; excludes the callers' callbacks
 * @param fallback       true when the requests were merged but had to run one by one: the merged run failed or an
 *                       output's first dimension was not the batch
 * @param failed         requests that completed exceptionally
 */
public record BatchStats(String model, long version, int requests, long rows, long queueWaitNanos, long runNanos,
                         boolean fallback, int failed) {
}
