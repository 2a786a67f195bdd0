package dev.squeeze.serve.runtime;

/**
 * How one model is served, from {@code config.json} beside its {@code model.onnx} (every field optional) or the
 * server's defaults.
 *
 * @param maxBatchSize      most requests' rows merged into one ONNX Runtime call (1 turns dynamic batching off)
 * @param maxQueueDelayMicros longest a request waits for others to join its batch
 * @param intraOpThreads    ONNX Runtime threads per call
 */
public record ModelConfig(int maxBatchSize, long maxQueueDelayMicros, int intraOpThreads) {
    public static final ModelConfig DEFAULTS = new ModelConfig(32, 0, 1);

    public ModelConfig {
        if (maxBatchSize < 1) throw new BadRequestException("max_batch_size must be at least 1, got " + maxBatchSize);
        if (maxQueueDelayMicros < 0) throw new BadRequestException("max_queue_delay_us cannot be negative, got " + maxQueueDelayMicros);
        if (intraOpThreads < 1) throw new BadRequestException("intra_op_threads must be at least 1, got " + intraOpThreads);
    }

    public boolean batching() {
        return maxBatchSize > 1;
    }
}
