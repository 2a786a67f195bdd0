package dev.squeeze.compress.onnx;

import dev.squeeze.compress.ledger.ConfigHash;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ExportParamsTest {
    /**
     * Export runs are recorded under these hashes: pinned as they were before the settings were annotated. Dense
     * exports ({@code --sparse never}, how every export was written before sparse storage) keep them.
     */
    @Test
    void hashesArePinned() {
        ConfigHash plain = ConfigHash.of(new ExportParams("run-1", 17, SparseStorage.NEVER), ExportParams.HASH_BASE);
        assertEquals("{\"source\":\"run-1\"}", plain.hashedJson());
        assertEquals("b70e6cb12e01", plain.value());
        ConfigHash opset13 = ConfigHash.of(new ExportParams("/tmp/model.zip", 13, SparseStorage.NEVER), ExportParams.HASH_BASE);
        assertEquals("{\"opset\":13,\"source\":\"/tmp/model.zip\"}", opset13.hashedJson());
        assertEquals("b67595d7fee0", opset13.value());
    }

    /** The default writes sparse initializers where smaller: another file than before, so another run folder. */
    @Test
    void theSparseDefaultIsHashed() {
        ExportParams byDefault = new ExportParams("run-1", 17);
        assertEquals(SparseStorage.AUTO, byDefault.sparse());
        assertEquals(ExportParams.DEFAULTS.withSource("run-1"), byDefault);
        ConfigHash hash = ConfigHash.of(byDefault, ExportParams.HASH_BASE);
        assertEquals("{\"source\":\"run-1\",\"sparse\":\"AUTO\"}", hash.hashedJson());
    }

    /**
     * Since {@code auto} stores large weights in parts, packs them, computes int8 scales and writes one bias scale for
     * one weight scale, its files differ from those written before: the writer's version is hashed, so an older auto
     * export is not reused. Dense and int64 hashes stay (their int8 files compute the same outputs as before).
     */
    @Test
    void theWriterVersionIsHashedWhereTheFileChanged() {
        ConfigHash auto = ConfigHash.of(new ExportParams("run-1", 17).withCurrentWriter(), ExportParams.HASH_BASE);
        assertEquals("{\"source\":\"run-1\",\"sparse\":\"AUTO\",\"writer\":8}", auto.hashedJson());
        ConfigHash never = ConfigHash.of(new ExportParams("run-1", 17, SparseStorage.NEVER).withCurrentWriter(),
                ExportParams.HASH_BASE);
        assertEquals("b70e6cb12e01", never.value(), "the pinned dense hash");
        ConfigHash int64 = ConfigHash.of(new ExportParams("run-1", 17, SparseStorage.INT64).withCurrentWriter(),
                ExportParams.HASH_BASE);
        assertEquals("{\"source\":\"run-1\",\"sparse\":\"INT64\"}", int64.hashedJson());
    }
}
