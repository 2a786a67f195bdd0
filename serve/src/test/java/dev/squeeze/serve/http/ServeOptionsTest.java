package dev.squeeze.serve.http;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** ServeOptions declares the serving settings once; application.yml and ServeSettings follow it. */
class ServeOptionsTest {
    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Map<String, Object> yaml, String... path) {
        Map<String, Object> map = yaml;
        for (String key : path) {
            if (map == null) return null;
            map = (Map<String, Object>) map.get(key);
        }
        return map;
    }

    @Test
    void applicationYmlStatesOnlyWhatMicronautNeedsAndAgrees() throws IOException {
        Map<String, Object> yaml;
        try (InputStream in = SqueezeServer.class.getResourceAsStream("/application.yml")) {
            assertNotNull(in, "application.yml on the classpath");
            yaml = new Yaml().load(in);
        }
        // Micronaut reads port and host from its own keys: the yml holds them for servers started without them
        Map<String, Object> server = section(yaml, "micronaut", "server");
        assertEquals(ServeOptions.DEFAULTS.port(), server.get("port"));
        assertEquals(ServeOptions.DEFAULTS.host(), server.get("host"));
        // ... and restates none of the serving settings ServeSettings takes from ServeOptions
        assertNull(section(yaml, "squeeze", "serve"), "squeeze.serve in application.yml");
    }

    @Test
    void serveSettingsStartAtTheDeclaredDefaults() {
        ServeSettings settings = new ServeSettings();
        ServeOptions d = ServeOptions.DEFAULTS;
        assertEquals(32, d.maxBatchSize());
        assertEquals(8081, d.grpcPort());
        assertEquals(d.grpcPort(), settings.getGrpcPort());
        assertEquals(d.maxBatchSize(), settings.getMaxBatchSize());
        assertEquals(d.maxQueueDelayUs(), settings.getMaxQueueDelayUs());
        assertEquals(d.intraOpThreads(), settings.getIntraOpThreads());
        assertEquals(d.maxElements(), settings.getMaxElements());
        assertEquals(d.maxImagePixels(), settings.getMaxImagePixels());
    }

    @Test
    void propertiesGivePortAndHostAndWhatDiffers() {
        assertEquals(Map.of("micronaut.server.port", 8080, "micronaut.server.host", "127.0.0.1"),
                ServeOptions.DEFAULTS.properties());
        ServeOptions changed = ServeOptions.SETTINGS.build(Map.of("port", 0, "max-batch-size", 1, "max-elements", 10L));
        assertEquals(Map.of("micronaut.server.port", -1, "micronaut.server.host", "127.0.0.1",
                "squeeze.serve.max-batch-size", 1, "squeeze.serve.max-elements", 10L), changed.properties());
        // gRPC's port as given: 0 is "a free one" to the gRPC server too, -1 no gRPC
        assertEquals(0, ServeOptions.SETTINGS.build(Map.of("grpc-port", 0)).properties().get("squeeze.serve.grpc-port"));
        assertEquals(-1, ServeOptions.SETTINGS.build(Map.of("grpc-port", -1)).properties().get("squeeze.serve.grpc-port"));
    }
}
