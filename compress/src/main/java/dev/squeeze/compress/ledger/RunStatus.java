package dev.squeeze.compress.ledger;

import dev.squeeze.core.BadInputException;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Where a run stands. Stored as the lowercase {@link #text()}. */
public enum RunStatus {
    /** Started and not yet ended: a process is working on it now. */
    RUNNING,
    /** Ended normally; its results are filled in. */
    DONE,
    /** Ended by an error; the reason is in its notes. */
    FAILED,
    /** Stopped on purpose (Ctrl-C, a guard that stopped a diverging run); the reason is in its notes. */
    INTERRUPTED,
    /**
     * Its process died without a word (SIGKILL, power loss): the next command that opened the ledger found it
     * {@code running} with no process holding it, and says when in its notes. The same command resumes it.
     */
    KILLED;

    /** The stored and printed form: {@code running}, {@code done}, {@code failed}, {@code interrupted}, {@code killed}. */
    public String text() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The status written as {@code text} (any case); a {@link BadInputException} listing the valid ones otherwise. */
    public static RunStatus parse(String text) {
        for (RunStatus status : values()) {
            if (status.text().equalsIgnoreCase(text == null ? "" : text.trim())) return status;
        }
        throw new BadInputException("unknown run status '" + text + "'; valid: "
                + Arrays.stream(values()).map(RunStatus::text).collect(Collectors.joining(", ")));
    }
}
