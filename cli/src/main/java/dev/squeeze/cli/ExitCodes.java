package dev.squeeze.cli;

/** Exit codes of every command. */
public final class ExitCodes {
    public static final int OK = 0;
    /** The work failed (diverged training, an I/O error, a bug). */
    public static final int FAILURE = 1;
    /** The user's input was wrong: an unknown name, a bad number, a missing or corrupt file. */
    public static final int BAD_INPUT = 2;

    private ExitCodes() {
    }
}
