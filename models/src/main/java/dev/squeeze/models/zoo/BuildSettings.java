package dev.squeeze.models.zoo;

import org.deeplearning4j.nn.weights.WeightInit;

import java.util.Arrays;

/**
 * What a zoo architecture needs to build a configuration.
 *
 * @param seed         seeds the initial weights and dropout
 * @param learningRate Adam's learning rate
 * @param inputShape   one example's shape: {@code {features}} or {@code {channels, height, width}}
 * @param numClasses   width of the softmax output
 * @param weightInit   null for the init suited to each layer's activation ({@link Inits#forActivation}),
 *                     or one init for every layer (to reproduce a paper, or a bug on purpose)
 */
public record BuildSettings(long seed, double learningRate, long[] inputShape, int numClasses, WeightInit weightInit) {

    public BuildSettings {
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be a positive number, got " + learningRate);
        }
        if (inputShape.length != 1 && inputShape.length != 3) {
            throw new IllegalArgumentException("input shape must be {features} or {channels, height, width}, got "
                    + Arrays.toString(inputShape));
        }
        if (numClasses < 2) throw new IllegalArgumentException("need at least 2 classes, got " + numClasses);
    }

    public BuildSettings(long seed, double learningRate, long[] inputShape, int numClasses) {
        this(seed, learningRate, inputShape, numClasses, null);
    }

    /** Number of input features, the product of the shape. */
    public int inputSize() {
        long n = 1;
        for (long d : inputShape) n *= d;
        return Math.toIntExact(n);
    }

    /** {@code {channels, height, width}}, treating a flat square input as one channel. */
    public long[] imageShape() {
        if (inputShape.length == 3) return inputShape;
        long side = Math.round(Math.sqrt(inputShape[0]));
        if (side * side != inputShape[0]) {
            throw new IllegalArgumentException("a convolutional model needs image input, got " + inputShape[0] + " features");
        }
        return new long[]{1, side, side};
    }
}
