package dev.squeeze.serve.bench;

import dev.squeeze.compress.onnx.inputs.OutputFigures;
import dev.squeeze.core.ExportProvenance;
import dev.squeeze.core.Sha256;
import dev.squeeze.serve.report.ParetoPoint;
import dev.squeeze.serve.report.ParetoReport;
import dev.squeeze.serve.runtime.TensorType;
import dev.squeeze.serve.runtime.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model with no labelled dataset, quantized by the real ONNX quantizer with inputs, is benchmarked with its
 * fidelity to the float model as its quality axis, and the float model benchmarked beside it is the reference at 1.
 */
class FidelityTest {
    private static final BenchmarkOptions TINY = new BenchmarkOptions(5, 0, 3, 1, 10.0, 1, List.of(1));

    @TempDir
    static Path dir;
    private static QuantizedOnnx models;

    @BeforeAll
    static void quantize() {
        models = QuantizedOnnx.write(dir);
    }

    private static Map<String, Fidelity> references(Path... files) throws Exception {
        List<ExportProvenance> provenances = new ArrayList<>();
        for (Path f : files) {
            Map<String, String> metadata = new java.util.HashMap<>();
            ai.onnx.proto.OnnxMl.ModelProto.parseFrom(Files.readAllBytes(f)).getMetadataPropsList()
                    .forEach(e -> metadata.put(e.getKey(), e.getValue()));
            ExportProvenance.read(metadata).ifPresent(provenances::add);
        }
        return Fidelity.references(provenances);
    }

    @Test
    void theQuantizedModelsFiguresAreItsAxisAndTheFloatModelIsTheReference() throws Exception {
        Map<String, Fidelity> references = references(models.floatFile(), models.quantizedFile());
        String floatSha = Sha256.hex(Files.readAllBytes(models.floatFile()));
        assertEquals(java.util.Set.of(floatSha), references.keySet(), "the quantized file names its float source");

        BenchmarkResult int8 = ModelBenchmark.measure("embedder-int8", models.quantizedFile(), TINY, null, references);
        BenchmarkResult fp32 = ModelBenchmark.measure("embedder", models.floatFile(), TINY, null, references);
        OutputFigures figures = models.outcome().figures().output("embedding");

        assertNull(int8.accuracy(), "no labelled dataset: no accuracy");
        Fidelity f = int8.fidelity();
        assertEquals(Fidelity.COSINE, f.figure(), "no labels: the cosine, not the top-1 of an embedding");
        assertEquals(figures.cosineMean(), f.value());
        assertTrue(f.value() > 0.9 && f.value() < 1, f.describe());
        assertEquals("embedding", f.output());
        assertEquals(figures.examples(), f.examples());
        assertEquals(floatSha, f.floatSha256());
        assertFalse(f.reference());
        assertTrue(f.describe().startsWith("cosine mean 0.9") && f.describe().contains("(embedding, 12 examples)"),
                f.describe());

        assertNull(fp32.accuracy());
        assertEquals(floatSha, fp32.sha256());
        assertEquals(new Fidelity(Fidelity.COSINE, 1, "embedding", null, floatSha, true), fp32.fidelity());
        assertEquals("float reference (cosine mean 1)", fp32.fidelity().describe());

        // Alone, the float model is nobody's reference; a model with neither labels nor figures has no axis at all.
        assertNull(ModelBenchmark.measure("embedder", models.floatFile(), TINY, null).fidelity());
        BenchmarkResult plain = ModelBenchmark.measure("identity", TestModels.identity(dir.resolve("plain"), TensorType.FP32, -1, 4),
                TINY, null, references);
        assertNull(plain.accuracy());
        assertNull(plain.fidelity());

        // The Pareto report plots fidelity when no point has accuracy, and says so.
        List<ParetoPoint> points = List.of(ParetoPoint.of(fp32, ""), ParetoPoint.of(int8, "int8 dynamic"),
                ParetoPoint.of(plain, ""));
        assertEquals(ParetoReport.Quality.FIDELITY, ParetoReport.Quality.of(points));
        assertEquals(List.of("embedder-int8", "embedder"), ParetoReport.frontier(points, ParetoReport.FILE_KB).stream()
                .map(ParetoPoint::name).toList(), "smaller and less faithful, then the float reference");
        String html = ParetoReport.html("t", points, "test");
        assertTrue(html.contains("<th>fidelity to float</th>") && html.contains(f.describe())
                && html.contains("float reference (cosine mean 1)") && html.contains("It is not accuracy"), html);
        String svg = ParetoReport.scatterSvg("Fidelity to float vs file size", "KB", points, ParetoReport.FILE_KB, false);
        assertTrue(svg.contains(ParetoReport.Quality.FIDELITY.axisLabel) && svg.contains("fidelity to float unknown"), svg);

        // Beside a model with accuracy, the axis stays accuracy: fidelity is never plotted as if it were one.
        List<ParetoPoint> mixed = new ArrayList<>(points);
        mixed.add(new ParetoPoint("classifier", "", 10_000, 5_000, 100, 100, 50, 60, 1000, 0.9, "x", null, null));
        assertEquals(ParetoReport.Quality.ACCURACY, ParetoReport.Quality.of(mixed));
        assertEquals(List.of("classifier"), ParetoReport.frontier(mixed, ParetoReport.FILE_KB).stream()
                .map(ParetoPoint::name).toList());
        assertTrue(ParetoReport.html("t", mixed, "test").contains("the variants that only have fidelity lie on the x axis"));
    }

    @Test
    void labelledFiguresGiveTopOneAgreementAndOtherwiseTheFirstOutputsCosine() {
        String labelled = "{\"source_sha256\":\"ab\",\"figures\":{\"examples\":8,\"outputs\":["
                + "{\"output\":\"embedding\",\"examples\":8,\"cosineMean\":0.98,\"cosineWorst\":0.9,\"maxAbsError\":0.1,"
                + "\"relativeL2\":0.1,\"top1AgreementPct\":50.0},"
                + "{\"output\":\"logits\",\"examples\":8,\"cosineMean\":0.99,\"cosineWorst\":0.9,\"maxAbsError\":0.1,"
                + "\"relativeL2\":0.1,\"top1AgreementPct\":87.5,\"floatAccuracyPct\":75.0,\"quantizedAccuracyPct\":62.5}]}}";
        Fidelity top1 = Fidelity.of(ExportProvenance.read(Map.of(ExportProvenance.METADATA_KEY, labelled)).orElseThrow());
        assertEquals(new Fidelity(Fidelity.TOP1, 0.875, "logits", 8L, "ab", false), top1);
        assertEquals("top-1 agreement 87.50% (logits, 8 examples)", top1.describe());

        Fidelity cosine = Fidelity.of(ExportProvenance.read(Map.of(ExportProvenance.METADATA_KEY,
                labelled.replace(",\"floatAccuracyPct\":75.0,\"quantizedAccuracyPct\":62.5", ""))).orElseThrow());
        assertEquals(new Fidelity(Fidelity.COSINE, 0.98, "embedding", 8L, "ab", false), cosine);

        assertNull(Fidelity.of(ExportProvenance.read(Map.of(ExportProvenance.METADATA_KEY,
                labelled.replace("\"source_sha256\":\"ab\",", ""))).orElseThrow()), "no source named: no reference");
        assertNull(Fidelity.of(ExportProvenance.read(Map.of(ExportProvenance.METADATA_KEY, "{\"mode\":\"int8\"}"))
                .orElseThrow()), "an export without figures");
    }
}
