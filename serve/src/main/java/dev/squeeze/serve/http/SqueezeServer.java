package dev.squeeze.serve.http;

import dev.squeeze.serve.bench.BenchmarkJobs;
import dev.squeeze.serve.bench.BenchmarkOptions;
import io.micronaut.context.ApplicationContext;
import io.micronaut.context.env.Environment;
import io.micronaut.runtime.exceptions.ApplicationStartupException;
import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.info.Info;
import io.micronaut.runtime.Micronaut;
import io.micronaut.runtime.server.EmbeddedServer;

import java.net.BindException;
import java.util.List;
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
     * @throws PortInUseException           when the HTTP or the gRPC port is taken
     * @throws ApplicationStartupException  when the server cannot start for another reason
     */
    public static EmbeddedServer start(Map<String, Object> properties) {
        ApplicationContext context = new Micronaut() {
            // Micronaut's own handling logs the stack trace and calls System.exit(1); the caller reports instead.
            @Override
            protected void handleStartupException(Environment environment, Throwable e) {
                for (Throwable t = e; t != null; t = t.getCause()) {
                    // the gRPC server's port (it starts with the context, before the HTTP server)
                    if (t instanceof PortInUseException taken) throw taken;
                }
                for (Throwable t = e; t != null; t = t.getCause()) {
                    if (t instanceof BindException && String.valueOf(t.getMessage()).contains("in use")) {
                        // the environment is closed by now: the address as given, else the default (application.yml's)
                        throw new PortInUseException(String.valueOf(properties.getOrDefault("micronaut.server.host",
                                ServeOptions.DEFAULTS.host())), Integer.parseInt(String.valueOf(properties.getOrDefault(
                                "micronaut.server.port", ServeOptions.DEFAULTS.port()))), e);
                    }
                }
                throw new ApplicationStartupException("cannot start the server: " + e.getMessage(), e);
            }
        }.mainClass(SqueezeServer.class).properties(properties).banner(false).start();
        return context.getBean(EmbeddedServer.class);
    }

    /**
     * Queues a benchmark of every model {@code server} serves (the dashboard shows its results), so callers need not
     * look beans up in the server's context.
     *
     * @param server a server {@link #start(Map)} returned
     */
    public static BenchmarkJobs.Job benchmarkAll(EmbeddedServer server, BenchmarkOptions options) {
        return server.getApplicationContext().getBean(ModelServing.class).benchmarks().submit(List.of(), options);
    }

    public static void main(String[] args) {
        Micronaut.run(SqueezeServer.class, args);
    }
}
