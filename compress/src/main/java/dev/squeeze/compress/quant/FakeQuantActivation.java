package dev.squeeze.compress.quant;

import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.network.WrappedActivation;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Locale;
import java.util.Objects;

/**
 * An activation followed by uint8 fake quantization, for quantization-aware training: the forward pass computes
 * {@code a = base(in)} and returns {@code (clamp(rint(a / scale) + zp, 0, 255) - zp) * scale}, exactly what
 * {@link ActivationQuant#dequantize}{@code (}{@link ActivationQuant#quantize}{@code (a))} gives element by element
 * (rounding half to even, like ONNX). The backward pass is the clipped straight-through estimator: the gradient
 * passes unchanged where {@code a} lies in {@code [quant.min(), quant.max()]} and is zero outside, composed with the
 * base activation's own gradient.
 *
 * <p>Everything runs as ND4J ops (no per-element Java, no CPU-only classes), so it works on any backend. The
 * quantization itself is computed in double and rounded to float once, because {@link ActivationQuant#quantize}
 * divides in double: a float division could round a quotient onto a half-integer and flip the rounding.
 *
 * <p>DL4J stores activations by class name; the fields below round-trip through {@code MultiLayerConfiguration}'s
 * JSON and so through {@code ModelSerializer}.
 */
public final class FakeQuantActivation extends BaseActivationFunction implements WrappedActivation {
    private static final long serialVersionUID = 1L;

    @JsonProperty("base")
    private final IActivation base;
    @JsonProperty("scale")
    private final float scale;
    @JsonProperty("zeroPoint")
    private final int zeroPoint;

    /** Identity with scale 1 and zero point 0; for frameworks that need a no-argument constructor. */
    public FakeQuantActivation() {
        this(new ActivationIdentity(), new ActivationQuant(1f, 0));
    }

    public FakeQuantActivation(Activation base, ActivationQuant quant) {
        this(base.getActivationFunction(), quant);
    }

    public FakeQuantActivation(IActivation base, ActivationQuant quant) {
        this(base, quant.scale(), quant.zeroPoint());
    }

    @JsonCreator
    private FakeQuantActivation(@JsonProperty("base") IActivation base, @JsonProperty("scale") float scale,
                                @JsonProperty("zeroPoint") int zeroPoint) {
        Objects.requireNonNull(base, "base activation");
        if (base instanceof FakeQuantActivation) {
            throw new IllegalArgumentException("the base of a fake-quantized activation is already fake-quantized: " + base);
        }
        new ActivationQuant(scale, zeroPoint);   // validates
        this.base = base;
        this.scale = scale;
        this.zeroPoint = zeroPoint;
    }

    @Override
    public IActivation base() {
        return base;
    }

    public ActivationQuant quant() {
        return new ActivationQuant(scale, zeroPoint);
    }

    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        INDArray a = base.getActivation(in, training);
        INDArray fq = fakeQuantize(a);
        return in.assign(fq);
    }

    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        assertShape(in, epsilon);
        // training=false: a stochastic base (RReLU) must not resample the state its own backprop uses.
        INDArray a = base.getActivation(in.dup(), false);
        DataType type = epsilon.dataType();
        ActivationQuant q = quant();
        INDArray inside = a.gte(q.min()).castTo(type).muli(a.lte(q.max()).castTo(type));
        // Masking dL/da before the base's backprop is the chain rule for any base, element-wise or not.
        INDArray dLda = epsilon.mul(inside);
        return new Pair<>(base.backprop(in, dLda).getFirst(), null);
    }

    /**
     * {@code (clamp(rint(a / scale) + zp, 0, 255) - zp) * scale}, a new float array; {@code a} is left alone. The codes
     * are the int8 network's ({@link ActivationQuant#quantize(INDArray)}), so training sees exactly what inference will.
     */
    private INDArray fakeQuantize(INDArray a) {
        ActivationQuant q = quant();
        return q.quantize(a).subi(q.zeroPoint()).muli(q.scale());
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof FakeQuantActivation other)) return false;
        return Float.compare(scale, other.scale) == 0 && zeroPoint == other.zeroPoint && base.equals(other.base);
    }

    @Override
    public int hashCode() {
        return Objects.hash(base, scale, zeroPoint);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "fakequant(%s, scale=%s, zp=%d)", base, scale, zeroPoint);
    }
}
