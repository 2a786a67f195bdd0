package dev.squeeze.serve.runtime;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Small real ONNX models for the batcher's tests, built with {@link TestModels#graph} (opset 13). A dimension given as
 * -1 is symbolic (a {@code dim_param}); any other is fixed. Public for the benchmark's and load generator's tests,
 * which serve the same MLP.
 */
public final class BatchTestModels {
    public static final int FEATURES = 784;
    public static final int HIDDEN = 64;
    public static final int CLASSES = 10;
    /** Rows of the {@link #gather} table: indices outside [-10, 9] make ONNX Runtime fail the run. */
    static final int TABLE_ROWS = 10;
    static final int TABLE_WIDTH = 4;
    static final int SUM_WIDTH = 7;

    private static final long OPSET = 13;
    private static final TensorType FP32 = TensorType.FP32;
    private static final TensorType INT64 = TensorType.INT64;

    private BatchTestModels() {
    }

    /**
     * An MLP like the served classifiers: x FP32 [batch, 784] → MatMul+Add+Relu → MatMul+Add → "logits" [batch, 10],
     * Softmax → "probabilities" [batch, 10].
     */
    public static Path mlp(Path dir) {
        return mlpGraph("mlp", -1).write(dir.resolve("mlp.onnx"));
    }

    /** The same MLP declared with a fixed first dimension: x [1, 784], so it cannot be batched. */
    public static Path fixedBatchMlp(Path dir) {
        return mlpGraph("fixed", 1).write(dir.resolve("fixed.onnx"));
    }

    /** "index" INT64 [batch] → Gather from a [10, 4] table → "rows" FP32 [batch, 4]; a bad index fails the run. */
    static Path gather(Path dir) {
        float[] table = new float[TABLE_ROWS * TABLE_WIDTH];
        for (int i = 0; i < table.length; i++) table[i] = i * 0.5f;
        return graph("gather")
                .input("index", INT64, -1)
                .floats("table", table, TABLE_ROWS, TABLE_WIDTH)
                .node("Gather", List.of("table", "index"), List.of("rows"))
                .output("rows", FP32, -1, TABLE_WIDTH)
                .write(dir.resolve("gather.onnx"));
    }

    /**
     * x FP32 [batch, 7] → ReduceSum over the rows → "sum" [7]. Declared with a symbolic first dimension, but ONNX
     * Runtime's shape inference reports the [7] it infers, so the batcher knows up front not to merge.
     */
    static Path columnSum(Path dir) {
        return graph("column_sum")
                .input("x", FP32, -1, SUM_WIDTH)
                .int64s("axes", new long[]{0}, 1)
                .node("ReduceSum", List.of("x", "axes"), List.of("sum"), "keepdims", 0L)
                .outputDims("sum", FP32, "n")
                .write(dir.resolve("column_sum.onnx"));
    }

    /**
     * x FP32 [batch, 7] → NonZero → Transpose → "coords" INT64 [n, 2], the coordinates of x's non-zero elements: an
     * output whose first dimension is symbolic but not the batch (7 per row of non-zero data), which only running it
     * shows.
     */
    static Path nonZero(Path dir) {
        return graph("non_zero")
                .input("x", FP32, -1, SUM_WIDTH)
                .node("NonZero", List.of("x"), List.of("nz"))
                .node("Transpose", List.of("nz"), List.of("coords"), "perm", new long[]{1, 0})
                .outputDims("coords", INT64, "n", 2)
                .write(dir.resolve("non_zero.onnx"));
    }

    /** x FP32 [batch, width] → Relu → "y": requests of different widths cannot be stacked together. */
    static Path relu(Path dir) {
        return graph("relu")
                .input("x", FP32, -1, -1)
                .node("Relu", List.of("x"), List.of("y"))
                .output("y", FP32, -1, -1)
                .write(dir.resolve("relu.onnx"));
    }

    private static TestModels.Graph mlpGraph(String name, long batch) {
        Random random = new Random(42);
        return graph(name)
                .input("x", FP32, batch, FEATURES)
                .floats("w1", gaussian(random, FEATURES * HIDDEN, 0.05f), FEATURES, HIDDEN)
                .floats("b1", gaussian(random, HIDDEN, 0.1f), HIDDEN)
                .floats("w2", gaussian(random, HIDDEN * CLASSES, 0.2f), HIDDEN, CLASSES)
                .floats("b2", gaussian(random, CLASSES, 0.1f), CLASSES)
                .node("MatMul", List.of("x", "w1"), List.of("h1"))
                .node("Add", List.of("h1", "b1"), List.of("h2"))
                .node("Relu", List.of("h2"), List.of("h3"))
                .node("MatMul", List.of("h3", "w2"), List.of("h4"))
                .node("Add", List.of("h4", "b2"), List.of("logits"))
                .node("Softmax", List.of("logits"), List.of("probabilities"), "axis", -1L)
                .output("logits", FP32, batch, CLASSES)
                .output("probabilities", FP32, batch, CLASSES);
    }

    private static TestModels.Graph graph(String name) {
        return TestModels.graph(name).opset(OPSET);
    }

    private static float[] gaussian(Random random, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) random.nextGaussian() * scale;
        return a;
    }
}
