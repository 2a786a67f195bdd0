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

    /** The shape of what {@code squeeze quantize --from model.onnx --inputs FILE} writes (values made up). */
    private static final String QUANTIZED_WITH_FIGURES = "{\"export_run\":\"q1\",\"stage\":\"quantize\","
            + "\"mode\":\"int8 dynamic\",\"source_file\":\"bge.onnx\",\"source_sha256\":\"ab12\","
            + "\"config_hash\":\"c0ffee\",\"settings\":{\"mode\":\"dynamic\",\"granularity\":\"channel\","
            + "\"keep_float\":[]},\"quantized_nodes\":[\"mm1\"],\"integer_kernels\":[\"MatMulInteger\"],"
            + "\"figures\":{\"examples\":12,\"outputs\":[{\"output\":\"embedding\",\"examples\":12,"
            + "\"cosineMean\":0.9975,\"cosineWorst\":0.991,\"maxAbsError\":0.03,\"relativeL2\":Infinity},"
            + "{\"output\":\"scores\",\"examples\":12,\"cosineMean\":0.99,\"cosineWorst\":0.98,"
            + "\"maxAbsError\":0.1,\"relativeL2\":0.05,\"top1AgreementPct\":91.66}],\"skippedOutputs\":[]},"
            + "\"code_commit\":\"unknown\",\"libraries\":{\"squeeze\":\"dev\",\"onnxruntime\":\"1.29.0\","
            + "\"onnx_opset\":\"17\"},\"exported_at\":\"2026-12-07T10:00:00Z\"}";

    @Test
    void readsTheSourceHashAndFiguresThatQuantizeWrites() {
        ExportProvenance p = ExportProvenance.read(Map.of(ExportProvenance.METADATA_KEY, QUANTIZED_WITH_FIGURES))
                .orElseThrow();
        assertEquals("ab12", p.sourceSha256());
        assertEquals(12, p.figures().examples());
        assertEquals(List.of("embedding", "scores"), p.figures().outputs().stream()
                .map(ExportProvenance.OutputFigures::output).toList());
        ExportProvenance.OutputFigures embedding = p.figures().outputs().get(0);
        assertEquals(0.9975, embedding.cosineMean());
        assertEquals(Double.POSITIVE_INFINITY, embedding.relativeL2());
        assertNull(embedding.top1AgreementPct());
        assertEquals(91.66, p.figures().outputs().get(1).top1AgreementPct());
        assertEquals("int8 dynamic", p.mode());
        assertNull(p.accuracyAtExport());
        // An export has neither, and writes neither.
        assertNull(SAMPLE.sourceSha256());
        assertNull(ExportProvenance.read(Map.of(ExportProvenance.METADATA_KEY, EXPORTED_BEFORE)).orElseThrow().figures());
        assertEquals(Optional.of(p), ExportProvenance.read(Map.of(ExportProvenance.METADATA_KEY, p.write())));
    }

    @Test
    void readTreeKeepsEveryFieldModelledOrNot() {
        var tree = ExportProvenance.readTree(Map.of(ExportProvenance.METADATA_KEY, QUANTIZED_WITH_FIGURES)).orElseThrow();
        assertEquals("channel", tree.path("settings").path("granularity").asText());
        assertEquals("mm1", tree.path("quantized_nodes").path(0).asText());
        assertEquals(0.9975, tree.path("figures").path("outputs").path(0).path("cosineMean").asDouble());
        assertEquals(Optional.empty(), ExportProvenance.readTree(Map.of(ExportProvenance.METADATA_KEY, "[1]")));
        assertEquals(Optional.empty(), ExportProvenance.readTree(Map.of(ExportProvenance.METADATA_KEY, "not json")));
        assertEquals(Optional.empty(), ExportProvenance.readTree(Map.of()));
    }
}
