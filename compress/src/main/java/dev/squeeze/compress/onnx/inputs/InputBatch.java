package dev.squeeze.compress.onnx.inputs;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One batch of input data, checked against a {@link ModelSignature}: a tensor per model input, in the model's input
 * order, and optionally one label (a class index) per row.
 *
 * @param source where the data came from, for messages ({@code calibration.npz}, {@code requests/3.json})
 * @param inputs input name to tensor
 * @param labels one class index per row, or null when the data has no labels
 */
public record InputBatch(String source, Map<String, InputTensor> inputs, long[] labels) {

    public InputBatch {
        Objects.requireNonNull(source, "source");
        inputs = Collections.unmodifiableMap(new LinkedHashMap<>(inputs));
        if (inputs.isEmpty()) throw new IllegalArgumentException(source + ": a batch needs at least one input");
        if (labels != null) {
            labels = labels.clone();
            long rows = inputs.values().iterator().next().rows();
            if (labels.length != rows) {
                throw new IllegalArgumentException(source + ": " + labels.length + " labels for " + rows + " rows");
            }
        }
    }

    @Override
    public long[] labels() {
        return labels == null ? null : labels.clone();
    }

    public boolean hasLabels() {
        return labels != null;
    }

    /** Rows along the first dimension of the first input: the batch's examples when the model is batched. */
    public long rows() {
        return inputs.values().iterator().next().rows();
    }

    /** Rows {@code [from, to)} of every input (and label); only for a batched model's data. */
    public InputBatch rows(long from, long to) {
        Map<String, InputTensor> part = new LinkedHashMap<>();
        inputs.forEach((name, t) -> part.put(name, t.rows(from, to)));
        long[] l = labels == null ? null : Arrays.copyOfRange(labels, (int) from, (int) to);
        return new InputBatch(source, part, l);
    }

    /** Batches of one source stacked along the first dimension (labels kept only when every part has them). */
    static InputBatch stack(List<InputBatch> parts) {
        if (parts.size() == 1) return parts.get(0);
        Map<String, InputTensor> stacked = new LinkedHashMap<>();
        for (String name : parts.get(0).inputs.keySet()) {
            stacked.put(name, InputTensor.stack(parts.stream().map(b -> b.inputs.get(name)).toList()));
        }
        long[] labels = null;
        if (parts.stream().allMatch(InputBatch::hasLabels)) {
            labels = parts.stream().flatMapToLong(b -> Arrays.stream(b.labels)).toArray();
        }
        return new InputBatch(parts.get(0).source, stacked, labels);
    }

    /** The batch as ONNX Runtime tensors for {@code OrtSession.run}; the caller closes them ({@link OnnxValue#close(Map)}). */
    public Map<String, OnnxTensor> toOnnx(OrtEnvironment env) throws OrtException {
        Map<String, OnnxTensor> out = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, InputTensor> e : inputs.entrySet()) out.put(e.getKey(), e.getValue().toOnnx(env));
        } catch (OrtException | RuntimeException e) {
            OnnxValue.close(out);
            throw e;
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InputBatch b && source.equals(b.source) && inputs.equals(b.inputs)
                && Arrays.equals(labels, b.labels);
    }

    @Override
    public int hashCode() {
        return Objects.hash(source, inputs, Arrays.hashCode(labels));
    }

    @Override
    public String toString() {
        return source + " " + inputs + (labels == null ? "" : " with " + labels.length + " labels");
    }
}
