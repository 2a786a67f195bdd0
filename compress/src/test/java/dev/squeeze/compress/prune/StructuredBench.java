package dev.squeeze.compress.prune;

import dev.squeeze.models.zoo.Network;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.saved.EvaluationService;
import dev.squeeze.compress.eval.ModelSize;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.DatasetLocator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Size and speed of a trained model against its structurally pruned versions (no retraining): parameters,
 * model file size, test accuracy right after cutting (when the dataset can be found), and the median
 * inference latency at batch 1 and batch 256 after warm-up. For BENCHMARKS.md; run single-threaded:
 *
 * <pre>
 * ./mvnw -B -q install -DskipTests
 * ./mvnw -B -q dependency:build-classpath -pl compress -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * OMP_NUM_THREADS=1 java -Xmx2g -Dorg.bytedeco.javacpp.maxphysicalbytes=6G \
 *   -cp compress/target/test-classes:compress/target/classes:$(cat /tmp/cp.txt) \
 *   dev.squeeze.compress.prune.StructuredBench squeeze-runs/train-ad87d3baea3e/model.zip 0.2,0.5,0.8 neurons
 * </pre>
 *
 * Arguments: model file; fractions to drop, comma-separated (default 0.5); structure (default neurons); then
 * any number of further model files measured as they are (e.g. a retrained structured ticket.zip from
 * {@code squeeze prune --structure neurons}), so a cut-but-untrained net and a retrained one sit side by side.
 * Latency samples alternate between the models in rounds, so a slow spell on a shared machine hits all alike.
 */
public final class StructuredBench {
    private static final int ROUNDS = 5;

    private StructuredBench() {
    }

    private record Batch(int size, int warmup, int runsPerRound) {
    }

    private static final List<Batch> BATCHES = List.of(new Batch(1, 500, 400), new Batch(256, 40, 40));

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: StructuredBench MODEL_FILE [FRACTIONS, e.g. 0.2,0.5] [neurons|channels]");
            System.exit(2);
        }
        Path modelFile = Path.of(args[0]);
        double[] fractions = Arrays.stream((args.length > 1 ? args[1] : "0.5").split(",")).mapToDouble(Double::parseDouble).toArray();
        Structure structure = (Structure) PruneParams.SETTINGS.setting("structure").orElseThrow()
                .parse(args.length > 2 ? args[2] : "neurons", "structure");
        ModelFile.Loaded loaded = ModelFile.load(modelFile, false);
        Path dir = Files.createTempDirectory("structured-bench");

        Map<String, MultiLayerNetwork> models = new LinkedHashMap<>();
        Map<String, String> shapes = new LinkedHashMap<>();
        models.put("dense", loaded.network().asStack());
        shapes.put("dense", StructuredPruning.select(loaded.network().asStack(), 0, structure).describe());
        for (double f : fractions) {
            StructuredSelection keep = StructuredPruning.select(loaded.network().asStack(), f, structure);
            String name = String.format(Locale.ROOT, "%s %.0f%%", structure.cliName(), 100 * f);
            models.put(name, StructuredPruning.apply(loaded.network().asStack(), keep));
            shapes.put(name, keep.describe());
        }

        for (int i = 3; i < args.length; i++) {
            MultiLayerNetwork extra = ModelFile.load(Path.of(args[i]), false).network().asStack();
            String name = "retrained " + (i - 2);
            models.put(name, extra);
            shapes.put(name, StructuredPruning.select(extra, 0, structure).describe());
        }

        long features = Arrays.stream(loaded.info().inputShape()).reduce(1, (a, b) -> a * b);
        Map<String, double[]> medians = latencies(models, features);

        System.out.printf(Locale.ROOT, "model file %s; OMP_NUM_THREADS=%s; median of %d runs (batch 1) and %d runs "
                        + "(batch 256) after warm-up%n", modelFile, System.getenv("OMP_NUM_THREADS"),
                ROUNDS * BATCHES.get(0).runsPerRound(), ROUNDS * BATCHES.get(1).runsPerRound());
        System.out.printf(Locale.ROOT, "%-12s %-18s %9s %11s %9s %12s %14s %12s%n", "model", "widths", "params", "file bytes",
                "test acc", "batch 1 ms", "batch 256 ms", "examples/s");
        var evaluation = new EvaluationService(DatasetLocator.fromEnvironment());
        int n = 0;
        for (var e : models.entrySet()) {
            Path file = dir.resolve("model-" + n++ + ".zip");
            ModelFile.save(file, Network.of(e.getValue()), loaded.info());
            ModelSize size = ModelSize.of(Network.of(e.getValue()), file);
            String accuracy;
            try {
                accuracy = String.format(Locale.ROOT, "%.2f%%", 100 * evaluation.evaluateTestSet(file, null, null).accuracy());
            } catch (BadInputException noData) {
                accuracy = "n/a";
            }
            double[] ms = medians.get(e.getKey());
            System.out.printf(Locale.ROOT, "%-12s %-18s %,9d %,11d %9s %12.4f %14.3f %,12.0f%n", e.getKey(),
                    shapes.get(e.getKey()), size.params(), size.fileBytes(), accuracy, ms[0], ms[1], 256 / (ms[1] / 1000));
            Files.delete(file);
        }
        Files.delete(dir);
    }

    /** Median milliseconds per {@code output()} call, per model, for each of {@link #BATCHES}. */
    private static Map<String, double[]> latencies(Map<String, MultiLayerNetwork> models, long features) {
        Map<String, double[]> medians = new LinkedHashMap<>();
        models.keySet().forEach(k -> medians.put(k, new double[BATCHES.size()]));
        for (int b = 0; b < BATCHES.size(); b++) {
            Batch batch = BATCHES.get(b);
            INDArray x = Nd4j.randn(DataType.FLOAT, batch.size(), features);   // normalised inputs are about N(0, 1)
            Map<String, List<Long>> samples = new LinkedHashMap<>();
            for (var e : models.entrySet()) {
                for (int i = 0; i < batch.warmup(); i++) e.getValue().output(x, false);
                samples.put(e.getKey(), new ArrayList<>());
            }
            for (int round = 0; round < ROUNDS; round++) {
                for (var e : models.entrySet()) {
                    for (int i = 0; i < batch.runsPerRound(); i++) {
                        long start = System.nanoTime();
                        e.getValue().output(x, false);
                        samples.get(e.getKey()).add(System.nanoTime() - start);
                    }
                }
            }
            for (var e : samples.entrySet()) {
                long[] sorted = e.getValue().stream().mapToLong(Long::longValue).sorted().toArray();
                medians.get(e.getKey())[b] = sorted[sorted.length / 2] / 1e6;
            }
        }
        return medians;
    }
}
