package dev.squeeze.compress.ledger;

import java.util.function.Function;

/**
 * Runs a piece of work as one ledger row: started before the work, marked {@code interrupted} when the JVM
 * shuts down mid-way (Ctrl-C, SIGTERM), marked {@code failed} with the error's message when the work throws,
 * finished with the work's results otherwise. Every stage records its runs through this.
 */
public final class RecordedRun {
    private RecordedRun() {
    }

    /** What finished work hands back: the row's results, and whatever the caller wants besides. */
    public record Finished<T>(RunResult result, T value) {
    }

    /** The finished row, and the work's value. */
    public record Recorded<T>(RunRecord run, T value) {
    }

    /**
     * @param onInterrupt the note an interrupted row gets (say how to resume)
     * @param work        the work, given its started row
     */
    public static <T> Recorded<T> record(RunLedger ledger, NewRun newRun, String onInterrupt,
                                         Function<RunRecord, Finished<T>> work) {
        RunRecord run = ledger.start(newRun);
        Thread hook = new Thread(() -> ledger.fail(run.id(), RunStatus.INTERRUPTED, onInterrupt));
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Finished<T> finished = work.apply(run);
            ledger.finish(run.id(), finished.result());
            return new Recorded<>(ledger.get(run.id()).orElseThrow(), finished.value());
        } catch (RuntimeException | Error e) {
            try {
                ledger.fail(run.id(), RunStatus.FAILED, String.valueOf(e.getMessage()));
            } catch (RuntimeException unrecorded) {
                // The ledger may sit on the same full disk: the work's error is still the one to report.
                e.addSuppressed(unrecorded);
            }
            throw e;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run: it records the interruption
            }
        }
    }
}
