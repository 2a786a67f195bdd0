package dev.squeeze.compress.network;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An activation flowing between the steps of a {@link StepNetwork}: real values, or uint8 codes (integers
 * 0..255 held in a float array) with the quantization that gives them meaning.
 */
public record Tensor(INDArray values, ActivationQuant quant) {

    public static Tensor real(INDArray values) {
        return new Tensor(values, null);
    }

    public boolean isQuantized() {
        return quant != null;
    }

    /** Real values: dequantized when this holds codes. */
    public INDArray real() {
        if (quant == null) return values;
        return values.sub(quant.zeroPoint()).muli(quant.scale());
    }

    /** Codes under {@code target}: as they are when already quantized that way, else quantized from real values. */
    public INDArray codes(ActivationQuant target) {
        if (target.equals(quant)) return values;
        return target.quantize(real());
    }

    public Tensor withValues(INDArray newValues) {
        return new Tensor(newValues, quant);
    }
}
