package dev.squeeze.serve.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.onnx.ExportService;
import dev.squeeze.compress.prune.PruneControl;
import dev.squeeze.compress.prune.PruneOutcome;
import dev.squeeze.compress.prune.PruneParams;
import dev.squeeze.compress.prune.PruneScope;
import dev.squeeze.compress.prune.PruneService;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.quant.QuantizeOutcome;
import dev.squeeze.compress.quant.QuantizeService;
import dev.squeeze.compress.quant.QuantizedModelFile;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.LabeledData;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.annotation.Client;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tiny residual ComputationGraph (zoo resnet-tiny) through every stage to a real server: trained on the Fashion-MNIST
 * fixture, pruned (a lottery-ticket level), quantized to int8 (residual Adds included), exported, served on a loopback
 * port; the server's answers on the 500 fixture test images agree with the ND4J int8 network's top-1.
 */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResidualGraphServingTest implements TestPropertyProvider {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK = 100;
    private Path int8Model;

    @Inject
    @Client("/")
    HttpClient http;

    @Override
    public Map<String, String> getProperties() {
        try {
            Path home = Files.createTempDirectory("squeeze-graph-serving");
            Workspace ws = new Workspace(home.resolve("runs"), home.resolve("runs/ledger.db").toString());
            DatasetLocator locator = new DatasetLocator(null, null, null);
            TrainOutcome train = new TrainingService(ws, locator, TrainingMonitor.SILENT).train(
                    TrainParams.of("resnet-tiny", "fashion-mnist", 2, 60, 3e-3, 5, 3, 0.1, 0.8), ServedModels.fixtures(), false);
            PruneOutcome ticket = new PruneService(ws, locator, TrainingMonitor.SILENT).prune(
                    new PruneParams(null, 1, 0.3, "0", PruneScope.LAYER, PruneControl.NONE), train.run().id(),
                    ServedModels.fixtures());
            QuantizeOutcome int8 = new QuantizeService(ws, locator, TrainingMonitor.SILENT).quantize(
                    ticket.ticket().toString(), QuantParams.DEFAULTS, ServedModels.fixtures());
            int8Model = Path.of(int8.model());
            Path models = Files.createDirectories(home.resolve("models").resolve("resnet-int8"));
            new ExportService(ws, locator, TrainingMonitor.SILENT).export(int8.model(),
                    models.resolve("model.onnx"), 17, ServedModels.fixtures());
            return Map.of("squeeze.serve.models", home.resolve("models").toString(), "squeeze.serve.poll", "200ms",
                    "squeeze.serve.max-elements", "100000");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void theServedInt8GraphAgreesWithTheNd4jInt8Network() throws IOException {
        LabeledData test = ServedModels.testImages();
        var loaded = QuantizedModelFile.load(int8Model);
        float[][] nd4j = Evaluator.probabilities(loaded.network(), loaded.info().normalization().apply(test));
        int agree = 0;
        for (int from = 0; from < test.size(); from += CHUNK) {
            int n = Math.min(CHUNK, test.size() - from);
            StringBuilder data = new StringBuilder();
            for (int i = from * 784; i < (from + n) * 784; i++) {
                data.append(i == from * 784 ? "" : ",").append((int) test.features()[i]);
            }
            String body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[" + n + ",1,28,28],\"datatype\":\"FP32\",\"data\":["
                    + data + "]}],\"outputs\":[{\"name\":\"probabilities\"}]}";
            byte[] answer = http.toBlocking().retrieve(HttpRequest.POST("/v2/models/resnet-int8/infer", body)
                    .contentType(MediaType.APPLICATION_JSON_TYPE), byte[].class);
            JsonNode out = JSON.readTree(answer).path("outputs").get(0);
            assertEquals("[" + n + ",10]", out.path("shape").toString());
            JsonNode values = out.path("data");
            for (int r = 0; r < n; r++) {
                float[] row = new float[10];
                for (int c = 0; c < 10; c++) row[c] = (float) values.get(r * 10 + c).asDouble();
                if (Evaluator.argmax(row) == Evaluator.argmax(nd4j[from + r])) agree++;
            }
        }
        assertTrue(agree >= 0.995 * test.size(), "top-1 agreement of the served int8 graph with ND4J's: " + agree + "/"
                + test.size());
    }
}
