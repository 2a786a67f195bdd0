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

    /**
     * The init called {@code name} (case-insensitive): {@code he} (= {@code relu}), {@code xavier}, {@code zero},
     * or any other DL4J {@link WeightInit} name.
     */
    public static WeightInit parse(String name) {
        String key = name.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_');
        if (key.equals("HE")) return WeightInit.RELU;
        if (key.equals("GLOROT")) return WeightInit.XAVIER;
        try {
            WeightInit init = WeightInit.valueOf(key);
            // DISTRIBUTION needs a distribution object that a name cannot carry.
            if (init == WeightInit.DISTRIBUTION) throw new IllegalArgumentException(name);
            return init;
        } catch (IllegalArgumentException e) {
            throw new dev.squeeze.core.BadInputException("unknown init '" + name + "'; use he, xavier, zero, lecun_normal, "
                    + "uniform, or another DL4J WeightInit name");
        }
    }

    /** {@code settings.weightInit()} when set, otherwise the init suited to {@code activation}. */
    public static WeightInit choose(BuildSettings settings, Activation activation) {
        return settings.weightInit() != null ? settings.weightInit() : forActivation(activation);
    }
}
