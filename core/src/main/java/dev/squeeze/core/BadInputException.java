package dev.squeeze.core;

/**
 * Something the user gave us is wrong: an unknown name, a bad number, a missing or corrupt file.
 * The message is one line that says what was wrong and what to do; the CLI maps it to exit code 2.
 */
public class BadInputException extends RuntimeException {
    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
