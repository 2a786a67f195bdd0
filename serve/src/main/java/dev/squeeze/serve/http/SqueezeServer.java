package dev.squeeze.serve.http;

import io.micronaut.context.ApplicationContext;
import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.info.Info;
import io.micronaut.runtime.Micronaut;
import io.micronaut.runtime.server.EmbeddedServer;

import java.util.Map;

/**
 * Starts the model server in this JVM. Micronaut registers its own shutdown hook, which stops the server gracefully
 * (a second hook that closes the context deadlocks against it, so there is none).
 */
@OpenAPIDefinition(info = @Info(title = "squeeze", version = "v2",
        description = "Squeeze's model server: the Open Inference Protocol v2 over ONNX Runtime, with dynamic batching"))
public final class SqueezeServer {
    private SqueezeServer() {
    }

    /**
     * @param properties configuration overriding application.yml, e.g. {@code squeeze.serve.models},
     *                   {@code micronaut.server.port}
     */
    public static EmbeddedServer start(Map<String, Object> properties) {
        ApplicationContext context = Micronaut.build(new String[0]).mainClass(SqueezeServer.class).properties(properties)
                .banner(false).start();
        return context.getBean(EmbeddedServer.class);
    }

    public static void main(String[] args) {
        Micronaut.run(SqueezeServer.class, args);
    }
}
