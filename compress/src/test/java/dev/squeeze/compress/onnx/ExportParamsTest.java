package dev.squeeze.compress.onnx;

import dev.squeeze.compress.ledger.ConfigHash;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ExportParamsTest {
    /** Export runs are recorded under these hashes: pinned as they were before the settings were annotated. */
    @Test
    void hashesArePinned() {
        ConfigHash plain = ConfigHash.of(new ExportParams("run-1", 17), ExportParams.DEFAULTS);
        assertEquals("{\"source\":\"run-1\"}", plain.hashedJson());
        assertEquals("b70e6cb12e01", plain.value());
        ConfigHash opset13 = ConfigHash.of(new ExportParams("/tmp/model.zip", 13), ExportParams.DEFAULTS);
        assertEquals("{\"opset\":13,\"source\":\"/tmp/model.zip\"}", opset13.hashedJson());
        assertEquals("b67595d7fee0", opset13.value());
    }
}
