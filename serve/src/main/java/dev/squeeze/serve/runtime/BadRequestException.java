package dev.squeeze.serve.runtime;

/** A request the server cannot serve as sent (HTTP 400 unless a subclass says otherwise); the message says why. */
public class BadRequestException extends RuntimeException {
    public BadRequestException(String message) {
        super(message);
    }
}
