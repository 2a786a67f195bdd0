package dev.squeeze.serve.http;

import io.micronaut.context.annotation.ConfigurationProperties;

import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code squeeze.serve.*}: where the models are and how they are served, as the server's Micronaut configuration
 * (flags of {@code squeeze serve}, a recipe's {@code serve} section, or {@code -D} properties). The user-facing
 * settings are declared on {@link ServeOptions}, with their defaults and ranges; this bean starts from those defaults.
 */
@ConfigurationProperties("squeeze.serve")
public class ServeSettings {
    /** The model folder: one sub-folder per model holding model.onnx (and optionally config.json). */
    private Path models = Path.of("models");
    /** How often the folder is checked for new, replaced and removed models. */
    private Duration poll = Duration.ofSeconds(2);
    // The settings ServeOptions declares, at its defaults.
    private int grpcPort = ServeOptions.DEFAULTS.grpcPort();
    private int maxBatchSize = ServeOptions.DEFAULTS.maxBatchSize();
    private long maxQueueDelayUs = ServeOptions.DEFAULTS.maxQueueDelayUs();
    private int intraOpThreads = ServeOptions.DEFAULTS.intraOpThreads();
    private long maxElements = ServeOptions.DEFAULTS.maxElements();
    private long maxImagePixels = ServeOptions.DEFAULTS.maxImagePixels();
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

    /** The gRPC port: 0 picks a free one, -1 serves no gRPC. */
    public int getGrpcPort() {
        return grpcPort;
    }

    public void setGrpcPort(int grpcPort) {
        this.grpcPort = grpcPort;
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
