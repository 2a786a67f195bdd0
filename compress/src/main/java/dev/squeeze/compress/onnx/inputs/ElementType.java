package dev.squeeze.compress.onnx.inputs;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxJavaType;

import java.util.Arrays;
import java.util.Optional;

/**
 * The element type of a model's input or output, named as the Open Inference Protocol names it ({@code FP32},
 * {@code INT64}, ...) so that messages use the words a client of {@code squeeze serve} knows, with numpy's name for
 * the same type. Input data of the {@link #readable()} types is held in a flat Java array: {@code boolean[]},
 * {@code byte[]} (INT8; UINT8 as unsigned bytes), {@code short[]}, {@code int[]}, {@code long[]}, {@code float[]},
 * {@code double[]}. The others are named (a model may declare them) but cannot be read as calibration inputs.
 */
public enum ElementType {
    BOOL(OnnxMl.TensorProto.DataType.BOOL, "bool", boolean[].class, OnnxJavaType.BOOL),
    UINT8(OnnxMl.TensorProto.DataType.UINT8, "uint8", byte[].class, OnnxJavaType.UINT8),
    INT8(OnnxMl.TensorProto.DataType.INT8, "int8", byte[].class, OnnxJavaType.INT8),
    INT16(OnnxMl.TensorProto.DataType.INT16, "int16", short[].class, OnnxJavaType.INT16),
    INT32(OnnxMl.TensorProto.DataType.INT32, "int32", int[].class, OnnxJavaType.INT32),
    INT64(OnnxMl.TensorProto.DataType.INT64, "int64", long[].class, OnnxJavaType.INT64),
    FP32(OnnxMl.TensorProto.DataType.FLOAT, "float32", float[].class, OnnxJavaType.FLOAT),
    FP64(OnnxMl.TensorProto.DataType.DOUBLE, "float64", double[].class, OnnxJavaType.DOUBLE),
    UINT16(OnnxMl.TensorProto.DataType.UINT16, "uint16", null, null),
    UINT32(OnnxMl.TensorProto.DataType.UINT32, "uint32", null, null),
    UINT64(OnnxMl.TensorProto.DataType.UINT64, "uint64", null, null),
    FP16(OnnxMl.TensorProto.DataType.FLOAT16, "float16", null, null),
    BF16(OnnxMl.TensorProto.DataType.BFLOAT16, "bfloat16", null, null),
    BYTES(OnnxMl.TensorProto.DataType.STRING, "str", null, null);

    private final OnnxMl.TensorProto.DataType onnx;
    private final String numpyName;
    private final Class<?> arrayClass;
    private final OnnxJavaType javaType;

    ElementType(OnnxMl.TensorProto.DataType onnx, String numpyName, Class<?> arrayClass, OnnxJavaType javaType) {
        this.onnx = onnx;
        this.numpyName = numpyName;
        this.arrayClass = arrayClass;
        this.javaType = javaType;
    }

    /** numpy's name for the type, e.g. {@code float32}. */
    public String numpyName() {
        return numpyName;
    }

    /** Whether input data of this type can be read and fed to ONNX Runtime. */
    public boolean readable() {
        return arrayClass != null;
    }

    /** The flat array class holding data of this type; null when not {@link #readable()}. */
    public Class<?> arrayClass() {
        return arrayClass;
    }

    /** ONNX Runtime's Java type; null when not {@link #readable()}. */
    OnnxJavaType javaType() {
        return javaType;
    }

    /** {@code FP32 (numpy float32)}: both names, for messages. */
    public String describe() {
        return name() + " (numpy " + numpyName + ")";
    }

    /** The type of an ONNX element type number ({@code TensorProto.DataType}); empty for complex and float8 types. */
    public static Optional<ElementType> ofOnnx(int elemType) {
        return Arrays.stream(values()).filter(t -> t.onnx.getNumber() == elemType).findFirst();
    }

    /** The type named as the Open Inference Protocol names it ({@code "FP32"}), case-sensitive as the protocol is. */
    public static Optional<ElementType> ofProtocolName(String name) {
        return Arrays.stream(values()).filter(t -> t.name().equals(name)).findFirst();
    }
}
