package dev.squeeze.pipeline.bench;

import dev.squeeze.core.ExportProvenance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The ledger note a benchmark row gets from the export's provenance ("int8: quantize of train"). */
class BenchServiceKindTest {

    private static Optional<ExportProvenance> stored(String json) {
        return ExportProvenance.read(Map.of(ExportProvenance.METADATA_KEY, json));
    }

    @Test
    void kindComesFromModeAndParentStagesOfAnExportWrittenBeforeTheRecord() {
        assertEquals("int8: quantize of train", BenchService.kind(stored("{\"export_run\":\"8b749532\",\"source_run\":"
                + "\"4f9c32b3\",\"parent_runs\":[\"4f9c32b3 (quantize)\",\"5da9cfde (train)\"],\"mode\":\"int8\"}")));
        assertEquals("float: prune x2 of train", BenchService.kind(stored("{\"parent_runs\":[\"a (prune)\",\"b (prune)\","
                + "\"c (train)\"],\"mode\":\"float\"}")));
        assertEquals("float", BenchService.kind(stored("{\"parent_runs\":[],\"mode\":\"float\"}")));
    }

    @Test
    void otherOnnxFilesHaveNoKind(@TempDir Path dir) throws Exception {
        Path notOnnx = Files.writeString(dir.resolve("model.onnx"), "not a model");
        assertEquals(Optional.empty(), BenchService.provenance(notOnnx));
        assertEquals("", BenchService.kind(Optional.empty()));
    }
}
