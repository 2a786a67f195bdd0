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
 * {@link FloatLinear} or an int8 layer (quant's {@code Int8Linear}); a residual network's blocks are
 * {@link Step.Residual} steps holding the steps of their two paths. All-float ({@link Dl4jLayers}), it computes what
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
     * Runs the network, showing {@code observer} each calibration point in the order they compute: point 0 is the
     * input, then the output of each dense or convolutional layer and of each residual add (a block's main path,
     * then its shortcut, then the add). For a layer stack, point k + 1 is the output of the k-th layer.
     */
    public INDArray forward(INDArray features, BiConsumer<Integer, Tensor> observer) {
        // Intermediate arrays live in a workspace reused from batch to batch (the observer must read them before it
        // returns); only the result leaves it. Without it, off-heap memory grows until the garbage collector runs.
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WORKSPACE, "squeeze-int8-forward")) {
            Tensor t = Tensor.real(features.castTo(DataType.FLOAT));
            observer.accept(0, t);
            return run(steps, t, new int[]{0}, observer).real().detach();
        }
    }

    private static Tensor run(List<Step> steps, Tensor t, int[] point, BiConsumer<Integer, Tensor> observer) {
        for (Step step : steps) {
            if (step instanceof Step.Residual r) {
                Tensor main = run(r.main(), t, point, observer);
                Tensor shortcut = run(r.shortcut(), t, point, observer);
                t = r.add(main, shortcut);
                observer.accept(++point[0], t);
            } else {
                t = step.apply(t);
                if (step instanceof Step.Linear) observer.accept(++point[0], t);
            }
        }
        return t;
    }

    /**
     * The calibration points an int8 form needs ({@link #forward}'s points 0 to n - 1): the input and every layer and
     * residual add output, but not the last layer's (its output stays real). For a layer stack, one per layer.
     */
    public int calibrationPointCount() {
        return (int) flattened().stream().filter(s -> s instanceof Step.Linear || s instanceof Step.Residual).count();
    }

    /** Every step, residual blocks' own steps included, in the order they compute (a block after its paths). */
    public List<Step> flattened() {
        List<Step> out = new ArrayList<>();
        flatten(steps, out);
        return out;
    }

    private static void flatten(List<Step> steps, List<Step> out) {
        for (Step s : steps) {
            if (s instanceof Step.Residual r) {
                flatten(r.main(), out);
                flatten(r.shortcut(), out);
            }
            out.add(s);
        }
    }

    private static final WorkspaceConfiguration WORKSPACE = WorkspaceConfiguration.builder()
            .policyAllocation(AllocationPolicy.OVERALLOCATE).policyLearning(LearningPolicy.FIRST_LOOP)
            .policyMirroring(MirroringPolicy.FULL).policySpill(SpillPolicy.EXTERNAL).build();

    /** The dense and convolutional layers, in the order they compute (inside residual blocks too). */
    public List<Step> linearSteps() {
        List<Step> out = new ArrayList<>();
        for (Step s : flattened()) if (s instanceof Step.Linear) out.add(s);
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
        for (Step s : linearSteps()) n += ((Step.Linear) s).parameterCount();
        return n;
    }

    /** Weights and biases that are not zero (fewer after pruning). */
    public long nonzeroParameterCount() {
        long n = 0;
        for (Step s : linearSteps()) n += ((Step.Linear) s).nonzeroParameterCount();
        return n;
    }

    /** Whether every dense and convolutional layer is a {@link FloatLinear} and every residual add real. */
    public boolean isFullyFloat() {
        return flattened().stream().allMatch(s -> s instanceof Step.Linear ? s instanceof FloatLinear
                : !(s instanceof Step.Residual r) || r.output() == null);
    }
}
