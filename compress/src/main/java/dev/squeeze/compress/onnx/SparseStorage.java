package dev.squeeze.compress.onnx;

/**
 * Whether an export stores pruned weights as ONNX sparse initializers ({@link SparseInitializers}), and with which
 * index type. ONNX Runtime turns sparse initializers dense when it loads the file, so the graph it runs is the same
 * either way: only the file's size differs.
 */
public enum SparseStorage {
    /**
     * Sparse where smaller, indices in the smallest signed integer type that holds the largest one (int8, int16,
     * int32 or int64): ONNX Runtime reads all four, but {@code onnx.checker} accepts only int64.
     */
    AUTO,
    /** Sparse where smaller, int64 indices: the index type the ONNX standard names, which {@code onnx.checker} checks. */
    INT64,
    /** Every initializer dense, as exports were written before sparse storage. */
    NEVER
}
