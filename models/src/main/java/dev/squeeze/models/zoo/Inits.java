package dev.squeeze.models.zoo;

import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;

/** The initialisation that suits an activation: He for the ReLU family, Xavier/Glorot for tanh and sigmoid. */
public final class Inits {
    private Inits() {
    }

    public static WeightInit forActivation(Activation activation) {
        return switch (activation) {
            case RELU, RELU6, LEAKYRELU, RRELU, ELU, SELU, GELU, SWISH, MISH -> WeightInit.RELU;
            default -> WeightInit.XAVIER;
        };
    }

    /** {@code settings.weightInit()} when set, otherwise the init suited to {@code activation}. */
    public static WeightInit choose(BuildSettings settings, Activation activation) {
        return settings.weightInit() != null ? settings.weightInit() : forActivation(activation);
    }
}
