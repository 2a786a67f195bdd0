package dev.squeeze.models.zoo;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;

/**
 * A named architecture in the zoo. To add a model, write one class implementing this and add one
 * line to {@link ModelZoo}.
 */
public interface ModelArchitecture {

    /** The name users type, e.g. {@code lenet-300-100}. */
    String name();

    /** One line for {@code --help} and listings. */
    String description();

    /**
     * The network for inputs of {@code settings.inputShape()} and {@code settings.numClasses()} classes,
     * a softmax output trained with cross-entropy. Inputs arrive flat ({@code [batch, prod(inputShape)]}).
     */
    MultiLayerConfiguration configuration(BuildSettings settings);
}
