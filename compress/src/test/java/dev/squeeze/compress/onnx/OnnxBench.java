package dev.squeeze.compress.onnx;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.LabeledData;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * ONNX Runtime speed and accuracy of exported files, for BENCHMARKS.md: file size, test accuracy through ORT, median
 * latency at batch 1 (2,000 runs) and samples/s at batch 256 (median of 100 runs), after 200 warm-up runs, at 1 and 2
 * intra-op threads. Prints one Markdown row per file and thread count. Run as StructuredBench is (see there):
 * <pre>
 * java -cp "$(cat /tmp/cp.txt):compress/target/classes:compress/target/test-classes" \
 *   dev.squeeze.compress.onnx.OnnxBench /usr/share/datasets/fashion-mnist a.onnx b.onnx ...
 * </pre>
 */
public final class OnnxBench {
    private OnnxBench() {
    }

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        LabeledData test = DatasetLoader.load("fashion-mnist", data).test();
        System.out.println("| file | bytes | test acc (ORT) | threads | batch 1 p50 | batch 256 samples/s |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        for (String file : Arrays.copyOfRange(args, 1, args.length)) {
            byte[] bytes = Files.readAllBytes(Path.of(file));
            var dims = OnnxMl.ModelProto.parseFrom(bytes).getGraph().getInput(0).getType().getTensorType().getShape().getDimList();
            long[] shape = dims.subList(1, dims.size()).stream().mapToLong(OnnxMl.TensorShapeProto.Dimension::getDimValue).toArray();
            for (int threads : new int[]{1, 2}) {
                try (OnnxRuntimeModel ort = new OnnxRuntimeModel(bytes, shape, threads, null)) {
                    float[][] probs = ort.runAll(OnnxExporter.PROBABILITIES, test);
                    int correct = 0;
                    for (int i = 0; i < probs.length; i++) if (Evaluator.argmax(probs[i]) == test.labels()[i]) correct++;
                    int f = test.featureSize();
                    float[] one = Arrays.copyOf(test.features(), f);
                    float[] batch = Arrays.copyOf(test.features(), 256 * f);
                    for (int i = 0; i < 200; i++) ort.run(OnnxExporter.PROBABILITIES, one, 1);
                    long[] single = new long[2000];
                    for (int i = 0; i < single.length; i++) {
                        long t = System.nanoTime();
                        ort.run(OnnxExporter.PROBABILITIES, one, 1);
                        single[i] = System.nanoTime() - t;
                    }
                    for (int i = 0; i < 20; i++) ort.run(OnnxExporter.PROBABILITIES, batch, 256);
                    long[] big = new long[100];
                    for (int i = 0; i < big.length; i++) {
                        long t = System.nanoTime();
                        ort.run(OnnxExporter.PROBABILITIES, batch, 256);
                        big[i] = System.nanoTime() - t;
                    }
                    System.out.printf(Locale.ROOT, "| %s | %,d | %.2f%% | %d | %.1f µs | %,.0f |%n", Path.of(file).getFileName(),
                            bytes.length, 100.0 * correct / probs.length, threads, median(single) / 1e3,
                            256 / (median(big) / 1e9));
                }
            }
        }
    }

    private static double median(long[] values) {
        long[] s = values.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
