package dev.squeeze.serve.http;

/** The server could not start: something else already listens on its address. The message names host and port. */
public class PortInUseException extends RuntimeException {
    private final String host;
    private final int port;

    public PortInUseException(String host, int port, Throwable cause) {
        super("port " + port + " on " + host + " is already in use", cause);
        this.host = host;
        this.port = port;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }
}
