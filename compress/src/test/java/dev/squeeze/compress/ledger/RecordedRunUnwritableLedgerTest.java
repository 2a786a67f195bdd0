package dev.squeeze.compress.ledger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * When the work fails and the ledger cannot record it (it sits on the disk that just filled up), the user must
 * still be told what went wrong with the work, not that the ledger could not mark the run failed.
 */
class RecordedRunUnwritableLedgerTest {
    @TempDir
    Path dir;

    @Test
    void theWorksErrorIsReportedWhenTheLedgerCannotRecordIt() {
        RunLedger ledger = RunLedger.open(dir.resolve("ledger.db").toString());
        UncheckedIOException full = new UncheckedIOException("could not write model.zip: the disk is full",
                new java.io.IOException("No space left on device"));
        UncheckedIOException thrown = assertThrows(UncheckedIOException.class, () -> RecordedRun.record(ledger,
                NewRun.of("train", "mlp-tiny", "fashion-mnist", null), "interrupted", run -> {
                    ledger.close(); // from here on the ledger cannot be written, as on a full disk
                    throw full;
                }));
        assertSame(full, thrown);
        assertEquals(1, thrown.getSuppressed().length, "the ledger's own failure rides along for --verbose");
    }

    @Test
    void aFailedRunIsMarkedFailedWithTheErrorWhenTheLedgerCanBeWritten() {
        try (RunLedger ledger = RunLedger.open(dir.resolve("ledger.db").toString())) {
            assertThrows(IllegalStateException.class, () -> RecordedRun.record(ledger,
                    NewRun.of("train", "mlp-tiny", "fashion-mnist", null), "interrupted", run -> {
                        throw new IllegalStateException("could not write last.zip: the disk is full");
                    }));
            RunRecord row = ledger.query(RunQuery.all()).get(0);
            assertEquals(RunStatus.FAILED, row.status());
            assertEquals("could not write last.zip: the disk is full", row.notes());
        }
    }
}
