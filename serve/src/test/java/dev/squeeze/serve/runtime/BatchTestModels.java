package dev.squeeze.serve.runtime;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Small real ONNX models for the batcher's tests, written with the ONNX protobuf classes. A dimension given as -1 is
 * symbolic (a {@code dim_param}); any other is fixed.
 */
final class BatchTestModels {
    static final int FEATURES = 784;
    static final int HIDDEN = 64;
    static final int CLASSES = 10;
    /** Rows of the {@link #gather} table: indices outside [-10, 9] make ONNX Runtime fail the run. */
    static final int TABLE_ROWS = 10;
    static final int TABLE_WIDTH = 4;
    static final int SUM_WIDTH = 7;

    private static final OnnxMl.TensorProto.DataType FLOAT = OnnxMl.TensorProto.DataType.FLOAT;
    private static final OnnxMl.TensorProto.DataType INT64 = OnnxMl.TensorProto.DataType.INT64;

    private BatchTestModels() {
    }

    /**
     * An MLP like the served classifiers: x FP32 [batch, 784] → MatMul+Add+Relu → MatMul+Add → "logits" [batch, 10],
     * Softmax → "probabilities" [batch, 10].
     */
    static Path mlp(Path dir) {
        return write(dir.resolve("mlp.onnx"), mlpGraph("mlp", -1));
    }

    /** The same MLP declared with a fixed first dimension: x [1, 784], so it cannot be batched. */
    static Path fixedBatchMlp(Path dir) {
        return write(dir.resolve("fixed.onnx"), mlpGraph("fixed", 1));
    }

    /** "index" INT64 [batch] → Gather from a [10, 4] table → "rows" FP32 [batch, 4]; a bad index fails the run. */
    static Path gather(Path dir) {
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("gather");
        g.addInput(valueInfo("index", INT64, -1));
        float[] table = new float[TABLE_ROWS * TABLE_WIDTH];
        for (int i = 0; i < table.length; i++) table[i] = i * 0.5f;
        g.addInitializer(floats("table", table, TABLE_ROWS, TABLE_WIDTH));
        g.addNode(node("Gather", List.of("table", "index"), "rows"));
        g.addOutput(valueInfo("rows", FLOAT, -1, TABLE_WIDTH));
        return write(dir.resolve("gather.onnx"), g);
    }

    /**
     * x FP32 [batch, 7] → ReduceSum over the rows → "sum" [7]. Declared with a symbolic first dimension, but ONNX
     * Runtime's shape inference reports the [7] it infers, so the batcher knows up front not to merge.
     */
    static Path columnSum(Path dir) {
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("column_sum");
        g.addInput(valueInfo("x", FLOAT, -1, SUM_WIDTH));
        g.addInitializer(int64s("axes", new long[]{0}, 1));
        OnnxMl.NodeProto.Builder n = node("ReduceSum", List.of("x", "axes"), "sum");
        n.addAttribute(OnnxMl.AttributeProto.newBuilder().setName("keepdims")
                .setType(OnnxMl.AttributeProto.AttributeType.INT).setI(0));
        g.addNode(n);
        g.addOutput(OnnxMl.ValueInfoProto.newBuilder().setName("sum").setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(FLOAT.getNumber())
                        .setShape(OnnxMl.TensorShapeProto.newBuilder()
                                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("n"))))).build());
        return write(dir.resolve("column_sum.onnx"), g);
    }

    /**
     * x FP32 [batch, 7] → NonZero → Transpose → "coords" INT64 [n, 2], the coordinates of x's non-zero elements: an
     * output whose first dimension is symbolic but not the batch (7 per row of non-zero data), which only running it
     * shows.
     */
    static Path nonZero(Path dir) {
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("non_zero");
        g.addInput(valueInfo("x", FLOAT, -1, SUM_WIDTH));
        g.addNode(node("NonZero", List.of("x"), "nz"));
        OnnxMl.NodeProto.Builder t = node("Transpose", List.of("nz"), "coords");
        t.addAttribute(OnnxMl.AttributeProto.newBuilder().setName("perm")
                .setType(OnnxMl.AttributeProto.AttributeType.INTS).addInts(1).addInts(0));
        g.addNode(t);
        g.addOutput(OnnxMl.ValueInfoProto.newBuilder().setName("coords").setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(INT64.getNumber())
                        .setShape(OnnxMl.TensorShapeProto.newBuilder()
                                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("n"))
                                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(2))))).build());
        return write(dir.resolve("non_zero.onnx"), g);
    }

    /** x FP32 [batch, width] → Relu → "y": requests of different widths cannot be stacked together. */
    static Path relu(Path dir) {
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("relu");
        g.addInput(valueInfo("x", FLOAT, -1, -1));
        g.addNode(node("Relu", List.of("x"), "y"));
        g.addOutput(valueInfo("y", FLOAT, -1, -1));
        return write(dir.resolve("relu.onnx"), g);
    }

    private static OnnxMl.GraphProto.Builder mlpGraph(String name, long batch) {
        Random random = new Random(42);
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName(name);
        g.addInput(valueInfo("x", FLOAT, batch, FEATURES));
        g.addInitializer(floats("w1", gaussian(random, FEATURES * HIDDEN, 0.05f), FEATURES, HIDDEN));
        g.addInitializer(floats("b1", gaussian(random, HIDDEN, 0.1f), HIDDEN));
        g.addInitializer(floats("w2", gaussian(random, HIDDEN * CLASSES, 0.2f), HIDDEN, CLASSES));
        g.addInitializer(floats("b2", gaussian(random, CLASSES, 0.1f), CLASSES));
        g.addNode(node("MatMul", List.of("x", "w1"), "h1"));
        g.addNode(node("Add", List.of("h1", "b1"), "h2"));
        g.addNode(node("Relu", List.of("h2"), "h3"));
        g.addNode(node("MatMul", List.of("h3", "w2"), "h4"));
        g.addNode(node("Add", List.of("h4", "b2"), "logits"));
        OnnxMl.NodeProto.Builder softmax = node("Softmax", List.of("logits"), "probabilities");
        softmax.addAttribute(OnnxMl.AttributeProto.newBuilder().setName("axis")
                .setType(OnnxMl.AttributeProto.AttributeType.INT).setI(-1));
        g.addNode(softmax);
        g.addOutput(valueInfo("logits", FLOAT, batch, CLASSES));
        g.addOutput(valueInfo("probabilities", FLOAT, batch, CLASSES));
        return g;
    }

    private static float[] gaussian(Random random, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) random.nextGaussian() * scale;
        return a;
    }

    private static Path write(Path file, OnnxMl.GraphProto.Builder graph) {
        OnnxMl.ModelProto model = OnnxMl.ModelProto.newBuilder()
                .setIrVersion(8)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setProducerName("squeeze-tests")
                .setGraph(graph)
                .build();
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, model.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    private static OnnxMl.NodeProto.Builder node(String op, List<String> inputs, String output) {
        return OnnxMl.NodeProto.newBuilder().setOpType(op).setName(output + "_node").addAllInput(inputs).addOutput(output);
    }

    private static OnnxMl.TensorProto floats(String name, float[] values, long... dims) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        return tensor(name, FLOAT, buf.array(), dims);
    }

    private static OnnxMl.TensorProto int64s(String name, long[] values, long... dims) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asLongBuffer().put(values);
        return tensor(name, INT64, buf.array(), dims);
    }

    private static OnnxMl.TensorProto tensor(String name, OnnxMl.TensorProto.DataType type, byte[] raw, long... dims) {
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(type.getNumber())
                .setRawData(ByteString.copyFrom(raw));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name, OnnxMl.TensorProto.DataType type, long... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        int symbolic = 0;
        for (long d : dims) {
            shape.addDim(d < 0
                    ? OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam(symbolic++ == 0 ? "batch" : "d" + symbolic)
                    : OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape))).build();
    }
}
