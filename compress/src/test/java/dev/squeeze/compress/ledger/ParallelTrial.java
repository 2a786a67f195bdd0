package dev.squeeze.compress.ledger;

/**
 * A stand-in for one trial of a sweep running in its own JVM: records {@code runs} finished runs in the ledger
 * at {@code location}. {@link SqliteRunLedgerTest} starts several at once against one file.
 */
public final class ParallelTrial {

    private ParallelTrial() {
    }

    /** Arguments: ledger location, trial name, number of runs. */
    public static void main(String[] args) {
        String location = args[0];
        String trial = args[1];
        int runs = Integer.parseInt(args[2]);
        try (RunLedger ledger = RunLedger.open(location)) {
            for (int i = 0; i < runs; i++) {
                RunRecord run = ledger.start(NewRun.of("train", trial, "d", null).withSweep("processes"));
                ledger.addNote(run.id(), "trial " + trial + " run " + i);
                ledger.finish(run.id(), RunResult.of(0.5, 0.5, null));
            }
        }
    }
}
