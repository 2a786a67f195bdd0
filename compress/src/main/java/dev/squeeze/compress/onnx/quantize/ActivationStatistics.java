package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.onnx.OnnxRuntimeModel;
import dev.squeeze.compress.onnx.inputs.InputBatch;
import dev.squeeze.compress.onnx.inputs.InputTensor;
import dev.squeeze.compress.quant.Calibration;
import dev.squeeze.compress.quant.TensorStatistics;

import java.nio.FloatBuffer;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The distribution of the activation tensors static mode quantizes, over calibration batches, observed in ONNX
 * Runtime: a copy of the model with those tensors added as graph outputs runs over the batches twice, first for each
 * tensor's extremes, then for its histograms ({@link TensorStatistics}, the same statistics the Squeeze-model path's
 * {@link dev.squeeze.compress.quant.CalibrationStatistics} gathers), so that every calibration method's ranges come
 * from one collection. A tensor that is a graph input is read from the batches themselves.
 */
final class ActivationStatistics {
    private final Map<String, TensorStatistics> tensors;

    private ActivationStatistics(Map<String, TensorStatistics> tensors) {
        this.tensors = tensors;
    }

    /**
     * @param tensors float tensors of {@code model} (node outputs or graph inputs)
     * @param batches calibration batches, none of them held out for measuring
     * @param threads ONNX Runtime intra-op threads
     */
    static ActivationStatistics collect(OnnxMl.ModelProto model, Collection<String> tensors, List<InputBatch> batches,
                                        int threads) {
        if (batches.isEmpty()) throw new IllegalArgumentException("no calibration batches");
        OnnxMl.GraphProto g = model.getGraph();
        Set<String> inputs = new HashSet<>();
        g.getInputList().forEach(v -> inputs.add(v.getName()));
        Set<String> outputs = new HashSet<>();
        g.getOutputList().forEach(v -> outputs.add(v.getName()));
        OnnxMl.GraphProto.Builder observed = g.toBuilder();
        Map<String, TensorStatistics> stats = new LinkedHashMap<>();
        for (String t : tensors) {
            stats.put(t, new TensorStatistics());
            if (inputs.contains(t) || outputs.contains(t)) continue;
            observed.addOutput(OnnxMl.ValueInfoProto.newBuilder().setName(t).setType(OnnxMl.TypeProto.newBuilder()
                    .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder()
                            .setElemType(OnnxMl.TensorProto.DataType.FLOAT.getNumber()))));
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxRuntimeModel ort = new OnnxRuntimeModel(model.toBuilder().setGraph(observed).build().toByteArray(),
                threads)) {
            for (int pass = 0; pass < 2; pass++) {
                boolean ranges = pass == 0;
                for (InputBatch batch : batches) {
                    Map<String, OnnxTensor> in = batch.toOnnx(env);
                    try (OrtSession.Result r = ort.run(in)) {
                        for (Map.Entry<String, TensorStatistics> e : stats.entrySet()) {
                            float[] values = inputs.contains(e.getKey()) ? floats(batch.inputs().get(e.getKey()))
                                    : floats(r, e.getKey());
                            if (ranges) e.getValue().observeRange(values);
                            else e.getValue().observeHistogram(values);
                        }
                    } finally {
                        OnnxValue.close(in);
                    }
                }
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed to run the model on the calibration inputs: "
                    + e.getMessage(), e);
        }
        return new ActivationStatistics(stats);
    }

    /** Each tensor's uint8 quantization under {@code method} ({@code percentile} is used by PERCENTILE only). */
    Map<String, ActivationQuant> quantizations(Calibration method, double percentile) {
        Map<String, ActivationQuant> out = new LinkedHashMap<>();
        tensors.forEach((name, s) -> {
            TensorStatistics.Range r = s.range(method, percentile);
            out.put(name, ActivationQuant.fromRange(r.lo(), r.hi()));
        });
        return out;
    }

    /** The clipping range {@code method} picks for {@code tensor}. */
    TensorStatistics.Range range(String tensor, Calibration method, double percentile) {
        TensorStatistics s = tensors.get(tensor);
        if (s == null) throw new IllegalArgumentException("tensor '" + tensor + "' was not observed");
        return s.range(method, percentile);
    }

    private static float[] floats(OrtSession.Result r, String name) throws OrtException {
        OnnxValue v = r.get(name).orElseThrow(() -> new IllegalStateException("ONNX Runtime gave no tensor " + name));
        FloatBuffer b = ((OnnxTensor) v).getFloatBuffer();
        if (b == null) throw new IllegalStateException("tensor '" + name + "' is not float32");
        float[] out = new float[b.remaining()];
        b.get(out);
        return out;
    }

    private static float[] floats(InputTensor t) {
        double[] d = t.toDoubles();
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) out[i] = (float) d[i];
        return out;
    }
}
