package dev.squeeze.compress.distill;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.models.data.LabeledData;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import dev.squeeze.models.zoo.Network;
import org.nd4j.linalg.activations.impl.ActivationIdentity;

import java.util.List;

/**
 * Teacher logits, computed once per example (in chunks, so memory stays bounded) and reused every epoch.
 * Logits come from a clone of the teacher whose output activation is the identity: taking the log of its
 * softmax instead would lose the small probabilities that a high temperature brings back.
 */
final class TeacherLogits {
    private static final int CHUNK = 1_000;

    private TeacherLogits() {
    }

    /** The mean of the teachers' logits, {@code [size, classes]} row-major; each teacher sees its own normalization. */
    static float[] average(List<ModelFile.Loaded> teachers, LabeledData raw) {
        return average(teachers, List.of(), raw);
    }

    /**
     * The mean of the logits of Squeeze teachers and of logits already computed for {@code raw} by ONNX teachers
     * ({@link OnnxTeacher#logits}, one array per teacher), {@code [size, classes]} row-major.
     */
    static float[] average(List<ModelFile.Loaded> teachers, List<float[]> onnxLogits, LabeledData raw) {
        int k = raw.numClasses();
        float[] sum = new float[raw.size() * k];
        for (ModelFile.Loaded teacher : teachers) {
            Network logits = logitsOf(teacher.network());
            LabeledData inputs = teacher.info().normalization().apply(raw);
            for (int from = 0; from < inputs.size(); from += CHUNK) {
                int to = Math.min(inputs.size(), from + CHUNK);
                float[] chunk = logits.output(inputs.toDataSet(null, from, to).getFeatures())
                        .dup('c').data().asFloat();
                for (int i = 0; i < chunk.length; i++) sum[from * k + i] += chunk[i];
            }
        }
        for (float[] logits : onnxLogits) for (int i = 0; i < sum.length; i++) sum[i] += logits[i];
        int count = teachers.size() + onnxLogits.size();
        for (int i = 0; i < sum.length; i++) sum[i] /= count;
        return sum;
    }

    /** The same weights with the output activation replaced by the identity. */
    static Network logitsOf(Network teacher) {
        return teacher.withOutputLayer(out -> out.setActivationFn(new ActivationIdentity()));
    }

    /** Row-wise softmax of {@code logits / temperature}: the soft targets. */
    static float[] softTargets(float[] logits, int k, double temperature) {
        float[] out = new float[logits.length];
        for (int row = 0; row < logits.length / k; row++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) max = Math.max(max, logits[row * k + j] / temperature);
            double total = 0;
            for (int j = 0; j < k; j++) total += Math.exp(logits[row * k + j] / temperature - max);
            for (int j = 0; j < k; j++) out[row * k + j] = (float) (Math.exp(logits[row * k + j] / temperature - max) / total);
        }
        return out;
    }

    /** Share of rows whose largest logit is the label: the (ensemble) teacher's accuracy. */
    static double accuracy(float[] logits, LabeledData data) {
        int k = data.numClasses();
        int right = 0;
        for (int row = 0; row < data.size(); row++) {
            if (Evaluator.argmax(logits, row * k, k) == data.labels()[row]) right++;
        }
        return (double) right / data.size();
    }
}
