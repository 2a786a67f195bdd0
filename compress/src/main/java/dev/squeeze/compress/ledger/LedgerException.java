package dev.squeeze.compress.ledger;

/**
 * The ledger's database failed underneath an operation (connection lost, disk full, a lock held past the busy
 * timeout). Not the user's input: those are {@link dev.squeeze.core.BadInputException}s.
 */
public class LedgerException extends RuntimeException {
    public LedgerException(String message, Throwable cause) {
        super(message, cause);
    }

    public LedgerException(String message) {
        super(message);
    }
}
