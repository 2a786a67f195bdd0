package dev.squeeze.serve.grpc;

import dev.squeeze.serve.http.ModelServing;
import dev.squeeze.serve.http.PortInUseException;
import dev.squeeze.serve.http.ServeOptions;
import dev.squeeze.serve.http.ServeSettings;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micronaut.context.ApplicationContext;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Property;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.server.HttpServerConfiguration;
import io.micronaut.runtime.graceful.GracefulShutdownCapable;
import jakarta.annotation.PreDestroy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gRPC endpoint: {@code inference.GRPCInferenceService} ({@link InferenceService}) on its own port
 * ({@code squeeze.serve.grpc-port}, default 8081; 0 picks a free one, -1 serves no gRPC) and the HTTP server's
 * address, started with the server's context. It shares the context's {@link ModelServing} (the same repository and
 * dynamic batchers: a gRPC and an HTTP request to one model can share a batch), its metrics (tagged
 * {@code protocol=grpc}), its API key ({@link ApiKeyInterceptor}), and its request size limit
 * ({@code micronaut.server.max-request-size}, as gRPC's largest message).
 *
 * <p>Stopping: when the context stops (Ctrl-C, SIGTERM, {@code close()}), Micronaut's graceful shutdown stops
 * accepting calls here as on HTTP (new calls get UNAVAILABLE) and waits for the calls in flight; this bean is closed
 * before the ModelServing it depends on closes its models, and waits (at most {@value #GRACE_SECONDS} s) for the calls
 * still running before it cancels them.
 */
@Context
public class GrpcServer implements GracefulShutdownCapable, AutoCloseable {
    /** How long a stop waits for calls in flight, as ModelServing and the HTTP server's grace period do. */
    static final long GRACE_SECONDS = 30;

    private final Server server;
    private final String host;
    private final ExecutorService blocking;

    /**
     * Starts listening.
     *
     * @param host the HTTP server's address ({@code micronaut.server.host}), null for ServeOptions' default
     * @throws PortInUseException when the port is taken (its setting is {@code grpc-port})
     */
    public GrpcServer(ModelServing serving, ServeSettings settings, HttpServerConfiguration http,
                      @Property(name = "micronaut.server.host") @Nullable String host) {
        this.host = host == null || host.isEmpty() ? ServeOptions.DEFAULTS.host() : host;
        AtomicInteger threads = new AtomicInteger();
        this.blocking = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "squeeze-grpc-repository-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        int port = settings.getGrpcPort();
        if (port < 0) {
            this.server = null;
            return;
        }
        InferenceService service = new InferenceService(serving, blocking);
        String key = settings.getApiKey();
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(this.host, port))
                // handlers never block (see InferenceService): no hand-off to another thread per call
                .directExecutor()
                .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, http.getMaxRequestSize()))
                .addService(key == null || key.isEmpty() ? service.bindService()
                        : ServerInterceptors.intercept(service, new ApiKeyInterceptor(key)));
        Server started = builder.build();
        try {
            started.start();
        } catch (IOException e) {
            blocking.shutdown();
            for (Throwable t = e; t != null; t = t.getCause()) {
                // Netty's native transport reports it as a plain IOException, "bind(..) failed ...: Address already in use"
                if (t instanceof BindException || String.valueOf(t.getMessage()).contains("in use")) {
                    throw new PortInUseException(this.host, port, "grpc-port", e);
                }
            }
            throw new UncheckedIOException("cannot start the gRPC server on " + this.host + ":" + port + ": " + e.getMessage(), e);
        }
        this.server = started;
    }

    /** The gRPC server of a server's context, as {@code SqueezeServer.start} returned it. */
    public static GrpcServer of(ApplicationContext context) {
        return context.getBean(GrpcServer.class);
    }

    /** Whether gRPC is served (its port was not -1). */
    public boolean enabled() {
        return server != null;
    }

    /** The port listened on (the one picked when the setting was 0); -1 when gRPC is off. */
    public int port() {
        return server == null ? -1 : server.getPort();
    }

    /** The address listened on. */
    public String host() {
        return host;
    }

    /** The address as a gRPC client's target, {@code host:port} ({@code [::1]:port} for IPv6); null when off. */
    public String target() {
        if (server == null) return null;
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
    }

    /** Stops accepting calls; completes when the calls in flight have finished. */
    @Override
    public CompletionStage<?> shutdownGracefully() {
        if (server == null) return CompletableFuture.completedFuture(null);
        server.shutdown();
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            try {
                server.awaitTermination();
                done.complete(null);
            } catch (InterruptedException e) {
                done.completeExceptionally(e);
            }
        }, "squeeze-grpc-shutdown");
        waiter.setDaemon(true);
        waiter.start();
        return done;
    }

    /**
     * Stops accepting calls, waits for those in flight (at most {@value #GRACE_SECONDS} s, then cancels them), and
     * stops the repository calls' threads. Idempotent.
     */
    @PreDestroy
    @Override
    public void close() {
        if (server != null) {
            server.shutdown();
            try {
                if (!server.awaitTermination(GRACE_SECONDS, TimeUnit.SECONDS)) {
                    server.shutdownNow();
                    server.awaitTermination(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                server.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        blocking.shutdown();
    }
}
