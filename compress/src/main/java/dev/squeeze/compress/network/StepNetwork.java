package dev.squeeze.compress.network;

import dev.squeeze.compress.eval.Classifier;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.MirroringPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * A classifier as a sequence of {@link Step}s, each dense or convolutional layer a {@link Step.Linear}: a
 * {@link FloatLinear} or an int8 layer (quant's {@code Int8Linear}). All-float ({@link Dl4jLayers}), it computes what
 * the DL4J network it came from computes; that form is what calibration observes and what float ONNX export writes.
 *
 * @param inputShape one example's shape, e.g. [784] or [1, 28, 28]; inputs arrive as flat normalised rows
 */
public record StepNetwork(long[] inputShape, List<Step> steps) implements Classifier {

    public StepNetwork {
        steps = List.copyOf(steps);
    }

    @Override
    public INDArray probabilities(INDArray features) {
        return forward(features, (point, tensor) -> { });
    }

    /**
     * Runs the network, showing {@code observer} each calibration point: point 0 is the input, point k + 1 the
     * output of the k-th dense or convolutional layer.
     */
    public INDArray forward(INDArray features, BiConsumer<Integer, Tensor> observer) {
        // Intermediate arrays live in a workspace reused from batch to batch (the observer must read them before it
        // returns); only the result leaves it. Without it, off-heap memory grows until the garbage collector runs.
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WORKSPACE, "squeeze-int8-forward")) {
            Tensor t = Tensor.real(features.castTo(DataType.FLOAT));
            observer.accept(0, t);
            int point = 0;
            for (Step step : steps) {
                t = step.apply(t);
                if (step instanceof Step.Linear) observer.accept(++point, t);
            }
            return t.real().detach();
        }
    }

    private static final WorkspaceConfiguration WORKSPACE = WorkspaceConfiguration.builder()
            .policyAllocation(AllocationPolicy.OVERALLOCATE).policyLearning(LearningPolicy.FIRST_LOOP)
            .policyMirroring(MirroringPolicy.FULL).policySpill(SpillPolicy.EXTERNAL).build();

    /** The dense and convolutional layers, in order. */
    public List<Step> linearSteps() {
        List<Step> out = new ArrayList<>();
        for (Step s : steps) if (s instanceof Step.Linear) out.add(s);
        return out;
    }

    /** DL4J layer index of a dense or convolutional step. */
    public static int layerOf(Step linear) {
        if (linear instanceof Step.Linear l) return l.layer();
        throw new IllegalArgumentException("not a dense or convolutional step: " + linear.describe());
    }

    public static String labelOf(Step linear) {
        if (linear instanceof Step.Linear l) return l.label();
        throw new IllegalArgumentException("not a dense or convolutional step: " + linear.describe());
    }

    /** Weights and biases of every layer. */
    public long parameterCount() {
        long n = 0;
        for (Step s : steps) if (s instanceof Step.Linear l) n += l.parameterCount();
        return n;
    }

    /** Weights and biases that are not zero (fewer after pruning). */
    public long nonzeroParameterCount() {
        long n = 0;
        for (Step s : steps) if (s instanceof Step.Linear l) n += l.nonzeroParameterCount();
        return n;
    }

    /** Whether every dense and convolutional layer is a {@link FloatLinear}. */
    public boolean isFullyFloat() {
        return steps.stream().allMatch(s -> !(s instanceof Step.Linear) || s instanceof FloatLinear);
    }
}
