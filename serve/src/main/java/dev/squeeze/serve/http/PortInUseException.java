package dev.squeeze.serve.http;

/**
 * The server could not start: something else already listens on one of its addresses. The message names the protocol
 * (for gRPC), host and port; {@link #setting()} names the setting that chose the port, for the caller's advice.
 */
public class PortInUseException extends RuntimeException {
    private final String host;
    private final int port;
    private final String setting;

    /** The HTTP port ({@code port}) is taken. */
    public PortInUseException(String host, int port, Throwable cause) {
        this(host, port, "port", cause);
    }

    /**
     * @param setting the {@link ServeOptions} setting that chose the port: {@code port} (HTTP) or {@code grpc-port}
     */
    public PortInUseException(String host, int port, String setting, Throwable cause) {
        super((setting.equals("grpc-port") ? "gRPC port " : "port ") + port + " on " + host + " is already in use", cause);
        this.host = host;
        this.port = port;
        this.setting = setting;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** The setting that chose the port, as {@link ServeOptions} names it: {@code port} or {@code grpc-port}. */
    public String setting() {
        return setting;
    }
}
