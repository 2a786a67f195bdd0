package dev.squeeze.compress.ledger;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RunTableTest {

    static final RunRecord TRAINED = new RunRecord("3fa9c2d1", null, Instant.parse("2024-05-01T10:00:07.123Z"),
            Instant.parse("2024-05-01T10:03:00Z"), RunStatus.DONE, "0123456789abcdef+dirty", "ad87d3baea3e",
            "{\"model\":\"lenet-300-100\"}", "lenet-300-100", "fashion-mnist", "train", 0.95123, 0.8931, 0.8876,
            266_610L, 266_610L, 1_070_000L, "runs/train-ad87d3baea3e", "baseline\nsecond \"note\"", null, null, "alice", null);

    static final RunRecord PRUNED = new RunRecord("b07e11aa", "3fa9c2d1", Instant.parse("2024-05-02T08:30:00Z"),
            null, RunStatus.RUNNING, null, null, null, "lenet-300-100", "fashion-mnist", "prune", null, null, null,
            266_610L, 55_424L, 512L, null,
            "round 3 of 8: rewind to iteration 0, prune 20% per layer, output layer 10%", "s1", "{\"level\":3}",
            null, null);

    @Test
    void textIsAnAlignedExperimentSheet() {
        assertEquals("""
                ID        STARTED (UTC)     COMMIT   BY     STAGE  MODEL          DATASET         TRAIN     VAL    TEST   PARAMS           NONZERO     SIZE  STATUS   NOTES
                3fa9c2d1  2024-05-01 10:00  0123456  alice  train  lenet-300-100  fashion-mnist  95.12%  89.31%  88.76%  266,610  266,610 (100.0%)  1.07 MB  done     baseline / second "note"
                b07e11aa  2024-05-02 08:30  -        -      prune  lenet-300-100  fashion-mnist       -       -       -  266,610    55,424 (20.8%)    512 B  running  round 3 of 8: rewind to iteration 0,...
                """, RunTable.text(List.of(TRAINED, PRUNED)));
    }

    @Test
    void anEmptyTableSaysSo() {
        assertEquals("""
                ID  STARTED (UTC)  COMMIT  BY  STAGE  MODEL  DATASET  TRAIN  VAL  TEST  PARAMS  NONZERO  SIZE  STATUS  NOTES
                (no runs)
                """, RunTable.text(List.of()));
    }

    @Test
    void jsonHoldsEveryColumnUncut() {
        assertEquals("[\n"
                + "  {\"id\":\"3fa9c2d1\",\"parent_id\":null,\"started_at\":\"2024-05-01T10:00:07.123Z\","
                + "\"ended_at\":\"2024-05-01T10:03:00.000Z\",\"status\":\"done\",\"code_commit\":\"0123456789abcdef+dirty\","
                + "\"config_hash\":\"ad87d3baea3e\",\"config_json\":\"{\\\"model\\\":\\\"lenet-300-100\\\"}\","
                + "\"model\":\"lenet-300-100\",\"dataset\":\"fashion-mnist\",\"stage\":\"train\",\"train_acc\":0.95123,"
                + "\"val_acc\":0.8931,\"test_acc\":0.8876,\"params\":266610,\"nonzero_params\":266610,"
                + "\"file_bytes\":1070000,\"artifact_dir\":\"runs/train-ad87d3baea3e\","
                + "\"notes\":\"baseline\\nsecond \\\"note\\\"\",\"sweep_id\":null,\"details\":null,"
                + "\"run_by\":\"alice\",\"resumes\":null}\n"
                + "]\n", RunTable.json(List.of(TRAINED)));
        assertEquals("[]\n", RunTable.json(List.of()));
    }

    @Test
    void jsonKeysAreTheTableColumns() {
        assertEquals(RunRecord.COLUMNS, List.copyOf(PRUNED.columns().keySet()));
    }

    @Test
    void sizesUseDecimalUnits() {
        assertEquals("999 B", size(999L));
        assertEquals("270.4 kB", size(270_400L));
        assertEquals("2.50 GB", size(2_500_000_000L));
    }

    private static String size(long bytes) {
        RunRecord r = new RunRecord("x", null, null, null, null, null, null, null, null, null, "s", null, null, null,
                null, null, bytes, null, null, null, null, null, null);
        return RunTable.text(List.of(r)).lines().skip(1).findFirst().orElseThrow().replaceAll(".*?(\\S+ \\S?B).*", "$1");
    }
}
