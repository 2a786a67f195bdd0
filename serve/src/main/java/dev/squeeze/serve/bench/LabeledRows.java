package dev.squeeze.serve.bench;

import dev.squeeze.serve.runtime.HostTensor;

/**
 * Labeled examples in the form a served model takes them: raw feature rows (what a client sends; Squeeze exports
 * normalize inside the graph), one example's shape, and the class label of each row. What benchmarks measure accuracy
 * on.
 */
public record LabeledRows(float[] features, long[] exampleShape, int[] labels) {

    public LabeledRows {
        long perRow = HostTensor.elementCount(exampleShape);
        if (features.length != perRow * labels.length) {
            throw new IllegalArgumentException(features.length + " values for " + labels.length + " rows of " + perRow);
        }
    }

    public int size() {
        return labels.length;
    }
}
