package dev.squeeze.models.zoo;

import dev.squeeze.core.BadInputException;
import org.nd4j.linalg.activations.Activation;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The named architectures. Adding a model: one class (or one {@link Mlp} instance) and one line here. */
public final class ModelZoo {
    private static final Map<String, ModelArchitecture> MODELS = new LinkedHashMap<>();

    static {
        register(new Mlp("mlp-tiny", "784-32-10 ReLU MLP; trains in seconds, for tests",
                new int[]{32}, Activation.RELU));
        register(new Mlp("lenet-300-100", "784-300-100-10 ReLU MLP, the lottery-ticket paper's LeNet-300-100",
                new int[]{300, 100}, Activation.RELU));
        register(new Mlp("mlp-1200", "784-1200-1200-10 ReLU MLP with dropout (Hinton's distillation teacher)",
                new int[]{1200, 1200}, Activation.RELU, 0.8, 0.5));
        register(new Mlp("mlp-100", "784-100-10 ReLU MLP, a small distillation student", new int[]{100}, Activation.RELU));
        register(new LeNet5());
        register(new ResNet("resnet-8", "ResNet-8: 3x3 stem, residual blocks of 16-32-64 channels with batch norm, "
                + "global average pooling", new int[]{16, 32, 64}));
        register(new ResNet("resnet-tiny", "ResNet-8 of 4-8-8 channels; trains in seconds, for tests",
                new int[]{4, 8, 8}));
        register(new Mlp("mlp-tabular", "N-32-16-K ReLU MLP for tables (CSV datasets)", new int[]{32, 16}, Activation.RELU));
    }

    private ModelZoo() {
    }

    private static void register(ModelArchitecture model) {
        MODELS.put(model.name(), model);
    }

    /** The architecture called {@code name}; a {@link BadInputException} listing the known names otherwise. */
    public static ModelArchitecture get(String name) {
        ModelArchitecture model = MODELS.get(name);
        if (model == null) {
            throw new BadInputException("unknown model '" + name + "'; known models: " + String.join(", ", MODELS.keySet())
                    + " (squeeze models lists them)");
        }
        return model;
    }

    public static Map<String, ModelArchitecture> all() {
        return Collections.unmodifiableMap(MODELS);
    }
}
