package dev.squeeze.models.zoo;

/**
 * A named architecture in the zoo. To add a model, write one class implementing this (or {@link LayerStack} for
 * layers in a row) and add one line to {@link ModelZoo}.
 */
public interface ModelArchitecture {

    /** The name users type, e.g. {@code lenet-300-100}. */
    String name();

    /** One line for {@code --help} and listings. */
    String description();

    /**
     * A freshly initialised network (seeded by {@code settings.seed()}) for inputs of {@code settings.inputShape()}
     * and {@code settings.numClasses()} classes, a softmax output trained with cross-entropy. Inputs arrive flat
     * ({@code [batch, prod(inputShape)]}).
     */
    Network build(BuildSettings settings);

    /** An architecture whose layers run in a row: a DL4J {@code MultiLayerNetwork}. */
    interface LayerStack extends ModelArchitecture {
        /** The configuration {@link #build} initialises. */
        org.deeplearning4j.nn.conf.MultiLayerConfiguration configuration(BuildSettings settings);

        @Override
        default Network build(BuildSettings settings) {
            var net = new org.deeplearning4j.nn.multilayer.MultiLayerNetwork(configuration(settings));
            net.init();
            return Network.of(net);
        }
    }
}
