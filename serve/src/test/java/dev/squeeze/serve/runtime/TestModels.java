package dev.squeeze.serve.runtime;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Small real ONNX models for tests (IR version 8, opset 17), written with the ONNX protobuf classes. Dimensions given
 * as -1 are symbolic: the first is named {@code batch}, any other {@code d<index>}, so ONNX Runtime reports them as -1;
 * {@link Graph#inputDims} and {@link Graph#outputDims} name them.
 *
 * <p>The ready-made models write {@code dir/model.onnx} (creating {@code dir}), the layout of a model folder in a
 * repository, and return that file; {@link #graph} builds anything else.
 *
 * <p>ONNX Runtime 1.29's CPU Identity runs every type the server carries: BOOL, UINT8, INT8, INT16, INT32, INT64, FP16,
 * BF16, FP32, FP64 and BYTES (strings); {@code InferenceProtocolTest} loads and runs each.
 */
public final class TestModels {
    public static final String FILE = "model.onnx";
    public static final long IR_VERSION = 8;
    public static final long OPSET = 17;

    private TestModels() {
    }

    /** {@code y = Identity(x)}, x and y of {@code type} and {@code shape}. */
    public static Path identity(Path dir, TensorType type, long... shape) {
        return graph("identity_" + type)
                .input("x", type, shape)
                .node("Identity", List.of("x"), List.of("y"))
                .output("y", type, shape)
                .writeTo(dir);
    }

    /**
     * Two inputs of different types and two outputs: x FP32 [batch, 3] and k INT64 [batch, 1];
     * {@code y = x * float(k)} FP32 [batch, 3] and {@code z = k + k} INT64 [batch, 1].
     */
    public static Path twoInputs(Path dir) {
        return graph("two_inputs")
                .input("x", TensorType.FP32, -1, 3)
                .input("k", TensorType.INT64, -1, 1)
                .node("Cast", List.of("k"), List.of("kf"), "to", (long) onnxType(TensorType.FP32).getNumber())
                .node("Mul", List.of("x", "kf"), List.of("y"))
                .node("Add", List.of("k", "k"), List.of("z"))
                .output("y", TensorType.FP32, -1, 3)
                .output("z", TensorType.INT64, -1, 1)
                .writeTo(dir);
    }

    /** {@code y = Cast(x to type to)}, both of {@code shape}. */
    public static Path cast(Path dir, TensorType from, TensorType to, long... shape) {
        return graph("cast_" + from + "_" + to)
                .input("x", from, shape)
                .node("Cast", List.of("x"), List.of("y"), "to", (long) onnxType(to).getNumber())
                .output("y", to, shape)
                .writeTo(dir);
    }

    /** {@code y = x * factor}, FP32 of {@code shape}; a stand-in for a real model in serving tests. */
    public static Path scale(Path dir, float factor, long... shape) {
        return graph("scale")
                .input("x", TensorType.FP32, shape)
                .floats("factor", new float[]{factor})
                .node("Mul", List.of("x", "factor"), List.of("y"))
                .output("y", TensorType.FP32, shape)
                .writeTo(dir);
    }

    public static Graph graph(String name) {
        return new Graph(name);
    }

    public static OnnxMl.TensorProto.DataType onnxType(TensorType type) {
        return switch (type) {
            case BOOL -> OnnxMl.TensorProto.DataType.BOOL;
            case UINT8 -> OnnxMl.TensorProto.DataType.UINT8;
            case INT8 -> OnnxMl.TensorProto.DataType.INT8;
            case UINT16 -> OnnxMl.TensorProto.DataType.UINT16;
            case INT16 -> OnnxMl.TensorProto.DataType.INT16;
            case UINT32 -> OnnxMl.TensorProto.DataType.UINT32;
            case INT32 -> OnnxMl.TensorProto.DataType.INT32;
            case UINT64 -> OnnxMl.TensorProto.DataType.UINT64;
            case INT64 -> OnnxMl.TensorProto.DataType.INT64;
            case FP16 -> OnnxMl.TensorProto.DataType.FLOAT16;
            case BF16 -> OnnxMl.TensorProto.DataType.BFLOAT16;
            case FP32 -> OnnxMl.TensorProto.DataType.FLOAT;
            case FP64 -> OnnxMl.TensorProto.DataType.DOUBLE;
            case BYTES -> OnnxMl.TensorProto.DataType.STRING;
        };
    }

    /** An ONNX graph built a node at a time (operators of the default domain, opset {@link #OPSET}). */
    public static final class Graph {
        private final OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder();
        private final Map<String, String> metadata = new LinkedHashMap<>();
        private long opset = OPSET;

        private Graph(String name) {
            graph.setName(name);
        }

        public Graph input(String name, TensorType type, long... shape) {
            return inputDims(name, type, symbolic(shape));
        }

        public Graph output(String name, TensorType type, long... shape) {
            return outputDims(name, type, symbolic(shape));
        }

        /**
         * An input whose dimensions are each a size (an Integer or Long) or a symbolic dimension's name (a String):
         * {@code inputDims("x", FP32, "N", 2)}.
         */
        public Graph inputDims(String name, TensorType type, Object... dims) {
            graph.addInput(valueInfo(name, type, dims));
            return this;
        }

        /** An output whose dimensions are each a size or a symbolic dimension's name, as {@link #inputDims}. */
        public Graph outputDims(String name, TensorType type, Object... dims) {
            graph.addOutput(valueInfo(name, type, dims));
            return this;
        }

        /**
         * @param attributes name, value pairs; values are Long, Float, String, long[] or float[]
         */
        public Graph node(String op, List<String> inputs, List<String> outputs, Object... attributes) {
            OnnxMl.NodeProto.Builder n = OnnxMl.NodeProto.newBuilder().setOpType(op)
                    .setName(outputs.get(0) + "_" + op).addAllInput(inputs).addAllOutput(outputs);
            for (int i = 0; i < attributes.length; i += 2) n.addAttribute(attribute((String) attributes[i], attributes[i + 1]));
            graph.addNode(n);
            return this;
        }

        /** A constant FP32 tensor (dims empty: a scalar). */
        public Graph floats(String name, float[] values, long... dims) {
            ByteBuffer buf = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(values);
            return initializer(name, OnnxMl.TensorProto.DataType.FLOAT, buf.array(), dims);
        }

        /** A constant INT64 tensor (dims empty: a scalar). */
        public Graph int64s(String name, long[] values, long... dims) {
            ByteBuffer buf = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buf.asLongBuffer().put(values);
            return initializer(name, OnnxMl.TensorProto.DataType.INT64, buf.array(), dims);
        }

        /** A metadata_props entry (what {@link LoadedModel#metadata()} reads back). */
        public Graph metadata(String key, String value) {
            metadata.put(key, value);
            return this;
        }

        public Graph opset(long version) {
            this.opset = version;
            return this;
        }

        public OnnxMl.ModelProto build() {
            OnnxMl.ModelProto.Builder m = OnnxMl.ModelProto.newBuilder()
                    .setIrVersion(IR_VERSION)
                    .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                    .setProducerName("squeeze-tests")
                    .setGraph(graph.build());
            metadata.forEach((k, v) -> m.addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
            return m.build();
        }

        /** Writes the model to {@code file} (creating its folder) and returns it. */
        public Path write(Path file) {
            try {
                if (file.getParent() != null) Files.createDirectories(file.getParent());
                Files.write(file, build().toByteArray());
                return file;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Writes {@code dir/model.onnx}. */
        public Path writeTo(Path dir) {
            return write(dir.resolve(FILE));
        }

        private Graph initializer(String name, OnnxMl.TensorProto.DataType type, byte[] raw, long... dims) {
            OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(type.getNumber())
                    .setRawData(ByteString.copyFrom(raw));
            for (long d : dims) t.addDims(d);
            graph.addInitializer(t);
            return this;
        }

        /** The shape's dimensions, each -1 replaced by its name: {@code batch} first, {@code d<index>} after. */
        private static Object[] symbolic(long... shape) {
            Object[] dims = new Object[shape.length];
            for (int i = 0; i < shape.length; i++) dims[i] = shape[i] < 0 ? (i == 0 ? "batch" : "d" + i) : (Object) shape[i];
            return dims;
        }

        private static OnnxMl.ValueInfoProto valueInfo(String name, TensorType type, Object... dims) {
            OnnxMl.TensorShapeProto.Builder s = OnnxMl.TensorShapeProto.newBuilder();
            for (Object d : dims) {
                if (d instanceof String param) {
                    s.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam(param));
                } else if (d instanceof Long || d instanceof Integer) {
                    s.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
                } else {
                    throw new IllegalArgumentException(name + ": a dimension is a size or a name, not " + d);
                }
            }
            return OnnxMl.ValueInfoProto.newBuilder().setName(name)
                    .setType(OnnxMl.TypeProto.newBuilder().setTensorType(OnnxMl.TypeProto.Tensor.newBuilder()
                            .setElemType(onnxType(type).getNumber()).setShape(s)))
                    .build();
        }

        private static OnnxMl.AttributeProto attribute(String name, Object value) {
            OnnxMl.AttributeProto.Builder a = OnnxMl.AttributeProto.newBuilder().setName(name);
            if (value instanceof Long l) {
                a.setType(OnnxMl.AttributeProto.AttributeType.INT).setI(l);
            } else if (value instanceof Integer i) {
                a.setType(OnnxMl.AttributeProto.AttributeType.INT).setI(i);
            } else if (value instanceof Float f) {
                a.setType(OnnxMl.AttributeProto.AttributeType.FLOAT).setF(f);
            } else if (value instanceof String s) {
                a.setType(OnnxMl.AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(s));
            } else if (value instanceof long[] ls) {
                a.setType(OnnxMl.AttributeProto.AttributeType.INTS);
                for (long l : ls) a.addInts(l);
            } else if (value instanceof float[] fs) {
                a.setType(OnnxMl.AttributeProto.AttributeType.FLOATS);
                for (float f : fs) a.addFloats(f);
            } else {
                throw new IllegalArgumentException("attribute " + name + ": unsupported value " + value);
            }
            return a.build();
        }
    }
}
