package dev.squeeze.serve.http;

import io.micronaut.context.annotation.ConfigurationProperties;

import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code squeeze.serve.*} in application.yml, or flags of {@code squeeze serve}: where the models are and how they are
 * served.
 */
@ConfigurationProperties("squeeze.serve")
public class ServeSettings {
    /** The model folder: one sub-folder per model holding model.onnx (and optionally config.json). */
    private Path models = Path.of("models");
    /** How often the folder is checked for new, replaced and removed models. */
    private Duration poll = Duration.ofSeconds(2);
    /** Default dynamic batching: most rows per ONNX Runtime call (1 turns it off); config.json overrides per model. */
    private int maxBatchSize = 32;
    /** Default longest wait for a batch to fill, in microseconds. */
    private long maxQueueDelayUs = 2_000;
    /** Default ONNX Runtime threads per model. */
    private int intraOpThreads = 1;
    /** Most tensor elements one request may carry. */
    private long maxElements = 4_000_000;
    /**
     * Most pixels (width x height, read from the image's header before it is decoded) an image sent to
     * {@code /v1/models/{name}/predict} may have; 0: per model, max(4096 x 4096, 64 x the model's input H x W).
     */
    private long maxImagePixels;
    /** When set, the repository endpoints (load, unload, index) need "Authorization: Bearer KEY" or "X-API-Key: KEY". */
    private String apiKey;

    public Path getModels() {
        return models;
    }

    public void setModels(Path models) {
        this.models = models;
    }

    public Duration getPoll() {
        return poll;
    }

    public void setPoll(Duration poll) {
        this.poll = poll;
    }

    public int getMaxBatchSize() {
        return maxBatchSize;
    }

    public void setMaxBatchSize(int maxBatchSize) {
        this.maxBatchSize = maxBatchSize;
    }

    public long getMaxQueueDelayUs() {
        return maxQueueDelayUs;
    }

    public void setMaxQueueDelayUs(long maxQueueDelayUs) {
        this.maxQueueDelayUs = maxQueueDelayUs;
    }

    public int getIntraOpThreads() {
        return intraOpThreads;
    }

    public void setIntraOpThreads(int intraOpThreads) {
        this.intraOpThreads = intraOpThreads;
    }

    public long getMaxElements() {
        return maxElements;
    }

    public void setMaxElements(long maxElements) {
        this.maxElements = maxElements;
    }

    public long getMaxImagePixels() {
        return maxImagePixels;
    }

    public void setMaxImagePixels(long maxImagePixels) {
        this.maxImagePixels = maxImagePixels;
    }

    public String getApiKey() {
        return apiKey;
    }

    public void setApiKey(String apiKey) {
        this.apiKey = apiKey;
    }
}
