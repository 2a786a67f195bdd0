package dev.squeeze.compress.distill;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Arrays;
import java.util.Locale;

/**
 * Hinton knowledge-distillation loss (Hinton, Vinyals, Dean 2015) as a DL4J {@link ILossFunction}.
 * Per example, with {@code K} classes, student logits {@code z} (the output layer's pre-activation),
 * temperature {@code T} and weight {@code alpha}:
 * <pre>
 *   L = alpha * T^2 * KL(p_T || softmax(z/T)) + (1 - alpha) * CE(y, softmax(z))
 * </pre>
 * where {@code p_T} is the teacher's softmax at temperature {@code T} and {@code y} the one-hot hard label.
 *
 * <p><b>Label layout.</b> The labels array is {@code [batch, 2K]}: columns {@code 0..K-1} hold {@code p_T}
 * (precomputed teacher soft targets, rows summing to 1), columns {@code K..2K-1} the one-hot {@code y}. The
 * output layer keeps {@code nOut = K}; DL4J does not check the labels' width against nOut.
 *
 * <p><b>Activation.</b> The loss works on the pre-activation {@code z} and ignores the layer's activation
 * function: keep {@code Activation.SOFTMAX} on the output layer so that {@code net.output()} still returns
 * probabilities. The gradient returned is {@code dL/dz} itself:
 * {@code alpha*T*(softmax(z/T) - p_T) + (1 - alpha)*(softmax(z) - y)} (exactly, the derivative of the score:
 * {@code softmax(z/T)*sum(p_T)}, which is the same when the rows sum to 1). The {@code T^2} factor keeps the
 * soft term's gradient on the same scale whatever the temperature.
 *
 * <p>Log-probabilities come from a max-shifted log-softmax, so they never overflow or underflow to
 * {@code -inf}; the teacher's entropy term uses {@code p*log(max(p, floor))}, so {@code 0*log 0 = 0}.
 * Masks: per example ({@code [batch, 1]}) only.
 */
public final class DistillationLoss implements ILossFunction {
    private static final long serialVersionUID = 1L;

    /** Weight of the soft (teacher) term when none is given. */
    public static final double DEFAULT_ALPHA = 0.5;
    /** Temperature when none is given. */
    public static final double DEFAULT_TEMPERATURE = 4.0;
    /** Floor under the teacher probabilities inside {@code log}, so that {@code 0*log 0} is 0. */
    static final double PROBABILITY_FLOOR = 1e-30;

    @JsonProperty("alpha")
    private final double alpha;
    @JsonProperty("temperature")
    private final double temperature;

    /** Defaults: {@link #DEFAULT_ALPHA}, {@link #DEFAULT_TEMPERATURE}. */
    public DistillationLoss() {
        this(DEFAULT_ALPHA, DEFAULT_TEMPERATURE);
    }

    /**
     * @param alpha       weight of the soft term, in [0, 1] (0 = plain cross-entropy on the hard labels)
     * @param temperature softmax temperature T, finite and &gt; 0
     */
    @JsonCreator
    public DistillationLoss(@JsonProperty("alpha") double alpha, @JsonProperty("temperature") double temperature) {
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1]; got " + alpha);
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and > 0; got " + temperature);
        }
        this.alpha = alpha;
        this.temperature = temperature;
    }

    public double getAlpha() {
        return alpha;
    }

    public double getTemperature() {
        return temperature;
    }

    /**
     * Builds the {@code [batch, 2K]} labels this loss expects from the teacher's soft targets and the one-hot
     * hard labels, both {@code [batch, K]}.
     */
    public static INDArray labels(INDArray softTargets, INDArray hardLabels) {
        if (softTargets.rank() != 2 || !softTargets.equalShapes(hardLabels)) {
            throw new IllegalArgumentException("soft targets and hard labels must both be [batch, K]; got "
                    + Arrays.toString(softTargets.shape()) + " and " + Arrays.toString(hardLabels.shape()));
        }
        return Nd4j.hstack(softTargets, hardLabels.castTo(softTargets.dataType()));
    }

    // ---------------------------------------------------------------------------------------------------

    /** Per-example loss, {@code [batch, 1]}, masked. */
    private INDArray scoreColumn(INDArray labels, INDArray preOutput, INDArray mask) {
        Parts parts = split(labels, preOutput);
        INDArray total = Nd4j.zeros(preOutput.dataType(), preOutput.size(0), 1);
        if (alpha > 0) {
            INDArray logQt = logSoftmax(preOutput.div(temperature));
            INDArray p = parts.soft;
            INDArray logP = Transforms.log(Transforms.max(p, PROBABILITY_FLOOR, true), false);
            INDArray kl = p.mul(logP.subi(logQt)).sum(true, 1);
            total.addi(kl.muli(alpha * temperature * temperature));
        }
        if (alpha < 1) {
            INDArray logQ = logSoftmax(preOutput);
            INDArray ce = parts.hard.mul(logQ).sum(true, 1).negi();
            total.addi(ce.muli(1 - alpha));
        }
        INDArray m = exampleMask(mask, preOutput.size(0));
        if (m != null) total.muliColumnVector(m.castTo(total.dataType()));
        return total;
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        INDArray scores = scoreColumn(labels, preOutput, mask);
        double score = scores.sumNumber().doubleValue();
        if (average) score /= scores.size(0);
        return score;
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        return scoreColumn(labels, preOutput, mask);
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Parts parts = split(labels, preOutput);
        INDArray grad = Nd4j.zeros(preOutput.dataType(), preOutput.shape());
        if (alpha > 0) {
            // d/dz [T^2 * sum p (log p - log softmax(z/T))] = T * (softmax(z/T) * sum(p) - p)
            INDArray qT = Transforms.exp(logSoftmax(preOutput.div(temperature)), false);
            INDArray soft = qT.muliColumnVector(parts.soft.sum(true, 1)).subi(parts.soft);
            grad.addi(soft.muli(alpha * temperature));
        }
        if (alpha < 1) {
            INDArray q = Transforms.exp(logSoftmax(preOutput), false);
            INDArray hard = q.muliColumnVector(parts.hard.sum(true, 1)).subi(parts.hard);
            grad.addi(hard.muli(1 - alpha));
        }
        INDArray m = exampleMask(mask, preOutput.size(0));
        if (m != null) grad.muliColumnVector(m.castTo(grad.dataType()));
        return grad;
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                         INDArray mask, boolean average) {
        return new Pair<>(computeScore(labels, preOutput, activationFn, mask, average),
                computeGradient(labels, preOutput, activationFn, mask));
    }

    @Override
    public String name() {
        return toString();
    }

    // ---------------------------------------------------------------------------------------------------

    private record Parts(INDArray soft, INDArray hard) {
    }

    private static Parts split(INDArray labels, INDArray preOutput) {
        if (preOutput.rank() != 2) {
            throw new IllegalArgumentException("DistillationLoss expects 2d pre-output [batch, K]; got shape "
                    + Arrays.toString(preOutput.shape()));
        }
        long k = preOutput.size(1);
        if (labels.rank() != 2 || labels.size(0) != preOutput.size(0) || labels.size(1) != 2 * k) {
            throw new IllegalArgumentException("DistillationLoss expects labels [batch, 2K] = [teacher soft targets | "
                    + "one-hot hard labels] for an output of K = " + k + " classes; got labels "
                    + Arrays.toString(labels.shape()) + " for pre-output " + Arrays.toString(preOutput.shape()));
        }
        INDArray l = labels.castTo(preOutput.dataType());
        return new Parts(l.get(NDArrayIndex.all(), NDArrayIndex.interval(0, k)),
                l.get(NDArrayIndex.all(), NDArrayIndex.interval(k, 2 * k)));
    }

    /** Max-shifted log-softmax along dimension 1; a new array. */
    static INDArray logSoftmax(INDArray x) {
        INDArray shifted = x.subColumnVector(x.max(true, 1));
        INDArray logSum = Transforms.log(Transforms.exp(shifted, true).sum(true, 1), false);
        return shifted.subiColumnVector(logSum);
    }

    /** The mask as a {@code [batch, 1]} column, or null; per-output masks are not supported. */
    private static INDArray exampleMask(INDArray mask, long batch) {
        if (mask == null) return null;
        if (mask.length() == batch && (mask.rank() == 1 || mask.size(mask.rank() - 1) == 1 || batch == 1)) {
            return mask.reshape(batch, 1);
        }
        throw new UnsupportedOperationException("DistillationLoss supports per-example masks [batch, 1] only; got mask "
                + Arrays.toString(mask.shape()));
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof DistillationLoss other)) return false;
        return Double.compare(alpha, other.alpha) == 0 && Double.compare(temperature, other.temperature) == 0;
    }

    @Override
    public int hashCode() {
        return 31 * Double.hashCode(alpha) + Double.hashCode(temperature);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "DistillationLoss(alpha=%s, temperature=%s)", alpha, temperature);
    }
}
