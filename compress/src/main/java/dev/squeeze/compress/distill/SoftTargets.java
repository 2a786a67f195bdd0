package dev.squeeze.compress.distill;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.zoo.Network;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

import java.nio.file.Path;
import java.util.List;

/**
 * Training on a teacher's soft targets as well as the labels, for any stage that trains: {@code distill}'s students,
 * and the pruning levels that learn from the dense model ({@code prune --teacher dense}). The targets are computed
 * once; the network's output layer takes the distillation loss while it trains and a plain cross-entropy once its
 * file is written, so later stages see an ordinary classifier.
 */
public final class SoftTargets {
    private SoftTargets() {
    }

    /**
     * The teacher's probabilities at {@code temperature} for every example of the training split that {@link
     * TrainingData#prepare} makes of {@code dataset} with {@code validationFraction}, row for row in its order: what
     * {@link dev.squeeze.compress.train.TrainingHooks#softTargets()} takes.
     */
    public static float[] of(ModelFile.Loaded teacher, Dataset dataset, double validationFraction, double temperature) {
        var raw = TrainingData.carve(dataset, validationFraction).train();
        return TeacherLogits.softTargets(TeacherLogits.average(List.of(teacher), raw), raw.numClasses(), temperature);
    }

    /**
     * Sets {@code net}'s output layer to learn from soft targets and labels ({@link DistillationLoss}), in place, so
     * what the network holds besides (a rewound optimizer state) is kept; the softmax stays, so its output is still
     * probabilities.
     */
    public static Network learning(Network net, double alpha, double temperature) {
        net.outputLayer().setLossFn(new DistillationLoss(alpha, temperature));
        return net;
    }

    /** Writes the model file again with a plain cross-entropy output layer, and returns it so loaded. */
    public static ModelFile.Loaded asPlainClassifier(Path modelFile) {
        ModelFile.Loaded model = ModelFile.load(modelFile, false);
        model.network().outputLayer().setLossFn(new LossMCXENT());
        ModelFile.save(modelFile, model.network(), model.info());
        return model;
    }
}
