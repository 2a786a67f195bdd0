package dev.squeeze.models.data;

import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Asserts the error contract: a {@link BadInputException} whose message is one line holding given fragments. */
final class BadInputs {

    private BadInputs() {
    }

    static String expectBadInput(Executable action, String... fragments) {
        String message = assertThrows(BadInputException.class, action).getMessage();
        assertFalse(message.contains("\n") || message.contains("\r"), () -> "not one line: " + message);
        for (String fragment : fragments) {
            assertTrue(message.contains(fragment), () -> "expected '" + fragment + "' in: " + message);
        }
        return message;
    }
}
