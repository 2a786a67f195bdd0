package dev.squeeze.serve.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo.OnnxTensorType;

import java.util.Arrays;
import java.util.Optional;

/**
 * Tensor element types with their Open Inference Protocol names and ONNX types. Data travels as a flat row-major Java
 * array: {@code boolean[]}, {@code byte[]} (INT8; UINT8 holding 0..255 as unsigned bytes), {@code short[]} (INT16;
 * FP16 and BF16 as raw bits), {@code int[]}, {@code long[]}, {@code float[]}, {@code double[]}, or {@code String[]}
 * (BYTES, ONNX strings). UINT16, UINT32 and UINT64 are named (a model may declare them) but not carried: ONNX
 * Runtime's Java API cannot create such tensors.
 */
public enum TensorType {
    BOOL(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL, OnnxJavaType.BOOL, boolean[].class),
    UINT8(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8, OnnxJavaType.UINT8, byte[].class),
    INT8(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8, OnnxJavaType.INT8, byte[].class),
    UINT16(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16, null, null),
    INT16(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16, OnnxJavaType.INT16, short[].class),
    UINT32(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32, null, null),
    INT32(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32, OnnxJavaType.INT32, int[].class),
    UINT64(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64, null, null),
    INT64(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, OnnxJavaType.INT64, long[].class),
    FP16(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16, OnnxJavaType.FLOAT16, short[].class),
    BF16(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16, OnnxJavaType.BFLOAT16, short[].class),
    FP32(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, OnnxJavaType.FLOAT, float[].class),
    FP64(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE, OnnxJavaType.DOUBLE, double[].class),
    BYTES(OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING, OnnxJavaType.STRING, String[].class);

    private final OnnxTensorType onnx;
    private final OnnxJavaType java;
    private final Class<?> arrayClass;

    TensorType(OnnxTensorType onnx, OnnxJavaType java, Class<?> arrayClass) {
        this.onnx = onnx;
        this.java = java;
        this.arrayClass = arrayClass;
    }

    /** The Open Inference Protocol name, e.g. {@code FP32}. */
    public String protocolName() {
        return name();
    }

    /** Whether tensors of this type can be sent and received (ONNX Runtime's Java API can create them). */
    public boolean carried() {
        return java != null;
    }

    /** ONNX Runtime's Java type, for creating tensors; null when not {@link #carried()}. */
    public OnnxJavaType javaType() {
        return java;
    }

    /** The flat Java array type holding this type's data; null when not {@link #carried()}. */
    public Class<?> arrayClass() {
        return arrayClass;
    }

    public static Optional<TensorType> ofProtocolName(String name) {
        return Arrays.stream(values()).filter(t -> t.name().equals(name)).findFirst();
    }

    /** The type of a model's input or output; empty for element types with no protocol name (complex, float8). */
    public static Optional<TensorType> ofOnnx(OnnxTensorType type) {
        return Arrays.stream(values()).filter(t -> t.onnx == type).findFirst();
    }
}
