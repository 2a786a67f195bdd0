package dev.squeeze.compress.onnx;

import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunQuery;
import dev.squeeze.compress.quant.Granularity;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.quant.QuantizeOutcome;
import dev.squeeze.compress.quant.QuantizeService;
import dev.squeeze.compress.quant.QuantizedModelFile;
import dev.squeeze.compress.network.Step;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.saved.EvaluationService;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.DatasetLocator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A residual graph (zoo resnet-tiny) through the stages as the commands run them: trained by the training service,
 * quantized, exported float and int8 and measured in ONNX Runtime, with a real SQLite ledger and the fixture data.
 */
class GraphStagesTest {
    @TempDir
    static Path home;
    private static TrainOutcome trained;

    private static Workspace workspace() {
        return new Workspace(home, home.resolve("ledger.db").toString());
    }

    private static final DatasetLocator LOCATOR = new DatasetLocator(null, null, null);

    @BeforeAll
    static void train() {
        trained = new TrainingService(workspace(), LOCATOR, TrainingMonitor.SILENT).train(
                TrainParams.of("resnet-tiny", "fashion-mnist", 2, 50, 1e-2, 5, 3, 0.1, 0.8), Fixtures.fashionMnistDir(), false);
    }

    private static QuantParams params(int qatEpochs) {
        return new QuantParams(null, "auto", QuantParams.DEFAULT_PERCENTILE, 500, Granularity.CHANNEL, new ArrayList<>(),
                qatEpochs, null, QuantParams.AUTO);
    }

    private static ExportOutcome export(String from, Path output) {
        return new ExportService(workspace(), LOCATOR, TrainingMonitor.SILENT).export(from, output, 17, Fixtures.fashionMnistDir());
    }

    @Test
    void quantizeAndExportTakeAResidualGraph() {
        QuantizeOutcome q = new QuantizeService(workspace(), LOCATOR, TrainingMonitor.SILENT)
                .quantize(trained.run().id(), params(0), Fixtures.fashionMnistDir());
        assertEquals(10, q.sensitivity().size(), "one row per convolution and the output layer: " + q.format());
        assertTrue(q.sensitivity().stream().anyMatch(s -> s.label().contains("s2_proj")), q.format());
        assertTrue(Math.abs(q.floatTestAcc() - q.int8TestAcc()) <= 0.03, q.format());
        var int8 = QuantizedModelFile.load(Path.of(q.model())).network();
        assertEquals(3, int8.flattened().stream().filter(s -> s instanceof Step.Residual r && r.output() != null).count());
        double reloaded = new EvaluationService(LOCATOR).evaluateTestSet(Path.of(q.model()), null, Fixtures.fashionMnistDir())
                .accuracy();
        assertEquals(q.int8TestAcc(), reloaded, 0.0, "eval reads the int8 graph file");

        ExportOutcome f = export(trained.run().id(), home.resolve("resnet.onnx"));
        assertEquals("float", f.mode());
        assertTrue(f.maxAbsDifference() <= 1e-4, f.format());
        assertEquals(1.0, f.top1Agreement(), f.format());

        ExportOutcome i = export(q.model(), home.resolve("resnet-int8.onnx"));
        assertEquals("int8", i.mode());
        assertTrue(i.top1Agreement() >= 0.995, i.format());
        assertTrue(i.fusedOperators().contains("QLinearAdd") && i.fusedOperators().contains("QLinearConv"), i.format());
        assertEquals(q.int8TestAcc(), i.sourceTestAccuracy(), 0.0, i.format());
    }

    @Test
    void quantizationAwareTrainingOfAGraphIsRefusedBeforeAnyWork() {
        long before = quantizeRuns();
        var e = assertThrows(BadInputException.class, () -> new QuantizeService(workspace(), LOCATOR, TrainingMonitor.SILENT)
                .quantize(trained.run().id(), params(2), Fixtures.fashionMnistDir()));
        assertTrue(e.getMessage().contains("--qat-epochs") && e.getMessage().contains("graph"), e.getMessage());
        assertEquals(before, quantizeRuns(), "refused before a run was recorded");
    }

    private static long quantizeRuns() {
        try (RunLedger ledger = RunLedger.open(workspace().ledgerLocation())) {
            return ledger.query(RunQuery.all()).stream().filter(r -> r.stage().equals(QuantizeService.STAGE)).count();
        }
    }
}
