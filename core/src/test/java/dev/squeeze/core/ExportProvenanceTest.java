package dev.squeeze.core;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExportProvenanceTest {
    /** The {@code squeeze} metadata of an int8 export written by the exporter before this record existed (verbatim). */
    private static final String EXPORTED_BEFORE = "{\"export_run\":\"8b749532\",\"source_run\":\"4f9c32b3\","
            + "\"source_config_hash\":\"f7ed6776e6ae\",\"parent_runs\":[\"4f9c32b3 (quantize)\",\"5da9cfde (train)\"],"
            + "\"mode\":\"int8\",\"code_commit\":\"unknown\",\"libraries\":{\"squeeze\":\"unknown\","
            + "\"deeplearning4j\":\"1.0.0-M2.1\",\"onnxruntime\":\"1.29.0\",\"onnx_opset\":\"17\"},"
            + "\"accuracy_at_export\":{\"test_accuracy\":0.76,\"examples\":500,\"dataset\":\"fashion-mnist\","
            + "\"measured_with\":\"onnxruntime 1.29.0 (CPU, optimization level ALL)\"},"
            + "\"exported_at\":\"2026-12-06T03:30:20.090534500Z\"}";

    private static final ExportProvenance SAMPLE = new ExportProvenance("8b749532", "4f9c32b3", "f7ed6776e6ae",
            List.of(new ExportProvenance.ParentRun("4f9c32b3", "quantize"), new ExportProvenance.ParentRun("5da9cfde", "train")),
            "int8", "unknown", new ExportProvenance.Libraries("unknown", "1.0.0-M2.1", "1.29.0", 17),
            new ExportProvenance.AccuracyAtExport(0.76, 500, "fashion-mnist", "onnxruntime 1.29.0 (CPU, optimization level ALL)"),
            "2026-12-06T03:30:20.090534500Z");

    @Test
    void readsWhatTheExporterWroteBeforeTheRecordExisted() {
        ExportProvenance p = ExportProvenance.read(Map.of(ExportProvenance.METADATA_KEY, EXPORTED_BEFORE)).orElseThrow();
        assertEquals(SAMPLE, p);
        assertEquals(List.of("quantize", "train"), p.parentStages());
        assertEquals(17, p.libraries().onnxOpset());
    }

    @Test
    void writesTheSameJsonAsBefore() throws Exception {
        ObjectMapper plain = new ObjectMapper();
        assertEquals(plain.readTree(EXPORTED_BEFORE), plain.readTree(SAMPLE.write()));
        assertEquals(EXPORTED_BEFORE, SAMPLE.write(), "same fields, same order, same value types");
    }

    @Test
    void roundTrips() {
        ExportProvenance fromPath = new ExportProvenance("e1", null, null, List.of(), "float", "abc123",
                new ExportProvenance.Libraries("abc123", "unknown", "1.29.0", 13),
                new ExportProvenance.AccuracyAtExport(Double.NaN, 0, "iris", "onnxruntime 1.29.0"), "2026-12-06T04:00:00Z");
        for (ExportProvenance p : List.of(SAMPLE, fromPath)) {
            assertEquals(Optional.of(p), ExportProvenance.read(Map.of(ExportProvenance.METADATA_KEY, p.write())));
        }
        assertTrue(fromPath.write().contains("\"source_run\":null"), fromPath.write());
    }

    @Test
    void otherOnnxFilesHaveNone() {
        assertEquals(Optional.empty(), ExportProvenance.read(Map.of()));
        assertEquals(Optional.empty(), ExportProvenance.read(Map.of("producer", "pytorch")));
        assertEquals(Optional.empty(), ExportProvenance.read(Map.of(ExportProvenance.METADATA_KEY, "not json")));
    }

    @Test
    void toleratesFieldsAddedLaterAndParentsWithoutStage() {
        ExportProvenance p = ExportProvenance.read(Map.of(ExportProvenance.METADATA_KEY,
                "{\"export_run\":\"e\",\"parent_runs\":[\"abc (prune)\",\"plain\"],\"mode\":\"float\",\"future\":{\"x\":1}}"))
                .orElseThrow();
        assertEquals(new ExportProvenance.ParentRun("plain", null), p.parentRuns().get(1));
        assertEquals(List.of("prune"), p.parentStages());
        assertNull(p.accuracyAtExport());
    }
}
