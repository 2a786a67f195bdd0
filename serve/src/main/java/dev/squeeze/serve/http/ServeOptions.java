package dev.squeeze.serve.http;

import dev.squeeze.core.settings.Setting;
import dev.squeeze.core.settings.StageSettings;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How the model server listens and serves, declared once: {@code squeeze serve}'s options, the recipe's {@code serve}
 * section and the checks are made from these settings, and {@link ServeSettings} (the server's configuration,
 * {@code squeeze.serve.*}) takes its defaults from {@link #DEFAULTS}. Port and host are Micronaut's
 * {@code micronaut.server.*}; application.yml repeats their defaults for servers started without them (ServeOptionsTest
 * checks the two agree).
 *
 * @param port            the port; 0 picks a free one
 * @param host            the address to listen on (HTTP and gRPC)
 * @param grpcPort        the gRPC port (the protocol's {@code inference.GRPCInferenceService}); 0 picks a free one, -1
 *                        serves no gRPC
 * @param maxBatchSize    default most rows per batched ONNX Runtime call (1 turns batching off); config.json overrides
 * @param maxQueueDelayUs default longest wait for a batch to fill, in microseconds
 * @param intraOpThreads  default ONNX Runtime threads per model
 * @param maxElements     most tensor elements one request may carry
 * @param maxImagePixels  most pixels an image sent to {@code /v1/models/{name}/predict} may have; 0: per model
 */
public record ServeOptions(
        @Setting(help = "Port; 0 picks a free one.", defaultValue = "8080", min = 0, max = 65535)
        int port,
        @Setting(help = "Address to listen on; 0.0.0.0 for every interface.", defaultValue = "127.0.0.1", label = "ADDR")
        String host,
        @Setting(help = "gRPC port (the Open Inference Protocol's GRPCInferenceService, on the same address); 0 picks a "
                + "free one, -1 serves no gRPC.", defaultValue = "8081", min = -1, max = 65535)
        int grpcPort,
        @Setting(help = "Default rows per batched call; 1 turns batching off (a model's config.json overrides it).",
                defaultValue = "32", min = 1)
        int maxBatchSize,
        @Setting(help = "Default longest wait for a batch to fill, in microseconds; 0 (Triton's default) sends a lone "
                + "request at once and still batches under load (requests arriving while every call is busy merge).",
                defaultValue = "0", min = 0,
                label = "US")
        long maxQueueDelayUs,
        @Setting(help = "Default ONNX Runtime threads per model.", defaultValue = "1", min = 1)
        int intraOpThreads,
        @Setting(help = "Most tensor elements one request may carry.", defaultValue = "4000000", min = 1)
        long maxElements,
        @Setting(help = "Most pixels (width x height, read from the header before decoding) of an image sent to "
                + "/v1/models/NAME/predict; 0: per model, max(4096 x 4096, 64 x the model's input H x W).",
                defaultValue = "0", min = 0)
        long maxImagePixels) {

    /** The settings, as declared above. */
    public static final StageSettings<ServeOptions> SETTINGS = StageSettings.of(ServeOptions.class);

    /** Every setting at its default. */
    public static final ServeOptions DEFAULTS = SETTINGS.defaults();

    /**
     * These options as the server's configuration, for {@link SqueezeServer#start}: port and host always (port 0 as
     * Micronaut's -1, "pick a free one"), the other settings where they differ from their defaults, so that a
     * {@code -Dsqueeze.serve...} property still sets what was not given.
     */
    public Map<String, Object> properties() {
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("micronaut.server.port", port == 0 ? -1 : port);
        properties.put("micronaut.server.host", host);
        Map<String, Object> defaults = SETTINGS.settingValues(DEFAULTS);
        SETTINGS.settingValues(this).forEach((name, value) -> {
            if (!name.equals("port") && !name.equals("host") && !value.equals(defaults.get(name))) {
                properties.put(property(name), value);
            }
        });
        return properties;
    }

    /** The configuration property a setting other than port and host is: {@code squeeze.serve.max-batch-size}. */
    static String property(String setting) {
        return "squeeze.serve." + setting;
    }
}
