package dev.squeeze.models.zoo;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * A fully connected network: hidden layers of the given widths with one activation, a softmax output.
 * Each zoo MLP is one instance of this with its own name and widths.
 *
 * @param inputRetain  probability of keeping an input unit (1 = no dropout on inputs)
 * @param hiddenRetain probability of keeping a hidden unit (1 = no dropout); DL4J's dropOut(p) keeps p
 */
public record Mlp(String name, String description, int[] hidden, Activation activation,
                  double inputRetain, double hiddenRetain) implements ModelArchitecture.LayerStack {

    public Mlp(String name, String description, int[] hidden, Activation activation) {
        this(name, description, hidden, activation, 1.0, 1.0);
    }

    @Override
    public MultiLayerConfiguration configuration(BuildSettings settings) {
        var list = new NeuralNetConfiguration.Builder()
                .seed(settings.seed())
                .updater(new Adam(settings.learningRate()))
                .list();
        int in = settings.inputSize();
        for (int i = 0; i < hidden.length; i++) {
            var layer = new DenseLayer.Builder().nIn(in).nOut(hidden[i])
                    .activation(activation).weightInit(Inits.choose(settings, activation));
            double retain = i == 0 ? inputRetain : hiddenRetain;
            if (retain < 1.0) layer.dropOut(retain);
            list.layer(layer.build());
            in = hidden[i];
        }
        var output = new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nIn(in).nOut(settings.numClasses())
                .activation(Activation.SOFTMAX).weightInit(Inits.choose(settings, Activation.SOFTMAX));
        if (hidden.length > 0 && hiddenRetain < 1.0) output.dropOut(hiddenRetain);
        list.layer(output.build());
        return list.build();
    }

    /** Layer widths from input to output, e.g. {@code 784-300-100-10}. */
    public static String widths(int inputs, int[] hidden, int classes) {
        return inputs + "-" + Arrays.stream(hidden).mapToObj(Integer::toString).collect(Collectors.joining("-"))
                + "-" + classes;
    }
}
