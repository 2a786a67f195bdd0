package dev.squeeze.compress.onnx.inputs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * One input or output as the model's file declares it.
 *
 * @param name     the graph's name for it
 * @param type     its element type
 * @param shape    its dimensions, -1 for a symbolic one (any size, such as the batch); null when the file declares no
 *                 shape at all, so that any shape fits
 * @param dimNames per dimension, the symbolic name ({@code "batch"}), {@code "?"} for an unnamed symbolic dimension,
 *                 or null for a fixed one; empty when {@code shape} is null
 */
public record TensorSignature(String name, ElementType type, long[] shape, List<String> dimNames) {

    public TensorSignature {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        if (shape != null) {
            shape = shape.clone();
            if (dimNames.size() != shape.length) throw new IllegalArgumentException(name + ": one name per dimension");
            dimNames = Collections.unmodifiableList(new ArrayList<>(dimNames));
        } else {
            dimNames = List.of();
        }
    }

    @Override
    public long[] shape() {
        return shape == null ? null : shape.clone();
    }

    /** Whether the first dimension is symbolic, so that examples are rows along it. */
    public boolean batched() {
        return shape != null && shape.length > 0 && shape[0] < 0;
    }

    /** {@code [batch, 3, 28, 28]}, or {@code [any shape]}. */
    public String shapeText() {
        if (shape == null) return "[any shape]";
        List<String> dims = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) dims.add(shape[d] < 0 ? dimNames.get(d) : Long.toString(shape[d]));
        return "[" + String.join(", ", dims) + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSignature t && name.equals(t.name) && type == t.type && Arrays.equals(shape, t.shape)
                && dimNames.equals(t.dimNames);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(shape), dimNames);
    }

    /** {@code x FP32 [batch, 4]}. */
    @Override
    public String toString() {
        return name + " " + type + " " + shapeText();
    }
}
