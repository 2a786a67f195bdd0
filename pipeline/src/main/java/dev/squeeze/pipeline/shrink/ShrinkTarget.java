package dev.squeeze.pipeline.shrink;

/**
 * What {@code squeeze shrink} makes as small as it can within the accuracy budget. Users write the lower-case names;
 * the setting parses them ({@link ShrinkParams#SETTINGS}).
 */
public enum ShrinkTarget {
    /** The raw exported ONNX file, in bytes: what is stored, downloaded and loaded. */
    SIZE,
    /** The p50 latency of one image (batch 1, one caller) in ONNX Runtime, in process: what one request waits. */
    LATENCY
}
