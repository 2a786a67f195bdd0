package dev.squeeze.serve.runtime;

import java.util.Arrays;

/**
 * A model input or output as the model declares it: name, element type, shape with -1 for a dimension of any size
 * (symbolic, like the batch dimension).
 */
public record TensorSpec(String name, TensorType type, long[] shape) {

    /** Whether the first dimension is free, so requests can be stacked along it. */
    public boolean batchable() {
        return shape.length > 0 && shape[0] == -1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && name.equals(t.name) && type == t.type && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape);
    }
}
