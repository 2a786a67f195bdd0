package dev.squeeze.models.zoo.layers;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Runs a DL4J {@code BatchNormalization} layer's normalisation and its backward pass as libnd4j's native
 * {@code batchnorm} and {@code batchnorm_bp} ops, which the {@code -onednn} build of nd4j-native executes with oneDNN.
 * The layer itself keeps the rest: it passes this helper the running mean and variance for inference, and after the
 * backward pass reads the batch statistics from {@link #getMeanCache}/{@link #getVarCache} to decay the running ones
 * exactly as it does without a helper.
 *
 * <p>This is DL4J's own {@code MKLDNNBatchNormHelper} (same ops, arguments and caches; DL4J 1.0.0-M2.1 never installs
 * it on CPU, see {@link NativeBatchNormalizationLayer}) with one change: the batch mean and variance come from one
 * libnd4j {@code moments} op instead of a {@code mean} and a {@code Variance} op. The results are the same bits in
 * float; {@code Variance} over the NCHW axes (0, 2, 3) is 3x slower than {@code moments} and was ~15% of a resnet-8
 * training step (BENCHMARKS.md).
 *
 * <p>Float only, like DL4J's helper: for other types it returns null and the layer uses its built-in path.
 */
final class NativeBatchNormHelper implements BatchNormalizationHelper {
    private INDArray meanCache;
    private INDArray varCache;

    @Override
    public boolean checkSupported(double eps, boolean fixedGammaBeta) {
        return !fixedGammaBeta;
    }

    @Override
    public boolean checkSupported() {
        return true;
    }

    @Override
    public INDArray preOutput(INDArray x, boolean training, long[] shape, INDArray gamma, INDArray beta, INDArray mean,
                              INDArray var, double decay, double eps, CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        if (x.dataType() != DataType.FLOAT) return null;   // the layer falls back to its built-in path
        int axis = channelAxis(x, format);
        INDArray m;
        INDArray v;
        if (training) {
            if (meanCache == null) {
                try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                    meanCache = Nd4j.createUninitialized(x.dataType(), x.size(axis));
                    varCache = Nd4j.createUninitialized(x.dataType(), x.size(axis));
                }
            }
            Nd4j.exec(DynamicCustomOp.builder("moments").addInputs(x).addOutputs(meanCache, varCache)
                    .addIntegerArguments(reductionAxes(x.rank(), axis)).build());
            m = meanCache;
            v = varCache;
        } else {
            m = mean.reshape(mean.length());
            v = var.reshape(var.length());
        }
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, x.dataType(), x.shape());
        List<INDArray> in = new ArrayList<>(List.of(x, m, v));
        if (gamma != null && beta != null) in.addAll(List.of(vector(gamma), vector(beta)));
        Nd4j.exec(DynamicCustomOp.builder("batchnorm").addInputs(in.toArray(INDArray[]::new)).addOutputs(out)
                .addIntegerArguments(gamma != null ? 1 : 0, beta != null ? 1 : 0, axis).addFloatingPointArguments(eps)
                .build());
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray epsilon, long[] shape, INDArray gamma,
                                                     INDArray beta, INDArray dGammaView, INDArray dBetaView, double eps,
                                                     CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        if (!Shape.hasDefaultStridesForShape(epsilon)) epsilon = epsilon.dup('c');
        if (input.dataType() != DataType.FLOAT) return null;
        int axis = channelAxis(input, format);

        List<INDArray> in = new ArrayList<>(List.of(input, meanCache, varCache));
        if (gamma != null) in.add(vector(gamma));
        if (beta != null) in.add(vector(beta));
        in.add(epsilon);
        INDArray epsNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, input.dataType(), input.shape());
        INDArray dMean = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, meanCache.dataType(), meanCache.shape());
        INDArray dVar = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, meanCache.dataType(), meanCache.shape());
        List<INDArray> out = new ArrayList<>(List.of(epsNext, dMean, dVar));
        if (gamma != null) out.addAll(List.of(vector(dGammaView), vector(dBetaView)));
        Nd4j.exec(DynamicCustomOp.builder("batchnorm_bp").addInputs(in.toArray(INDArray[]::new))
                .addOutputs(out.toArray(INDArray[]::new)).addIntegerArguments(gamma != null ? 1 : 0, beta != null ? 1 : 0, axis)
                .addFloatingPointArguments(eps).build());

        Gradient g = new DefaultGradient();
        g.setGradientFor(BatchNormalizationParamInitializer.GAMMA, dGammaView);
        g.setGradientFor(BatchNormalizationParamInitializer.BETA, dBetaView);
        return new Pair<>(g, epsNext);
    }

    @Override
    public INDArray getMeanCache(DataType dataType) {
        return meanCache;
    }

    @Override
    public INDArray getVarCache(DataType dataType) {
        return varCache;
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return Collections.emptyMap();
    }

    /** 1 for dense activations (which the layer hands over as [N, C, 1, 1]) and NCHW, 3 for NHWC. */
    private static int channelAxis(INDArray x, CNN2DFormat format) {
        return x.rank() != 4 || format == CNN2DFormat.NCHW ? 1 : 3;
    }

    /** Every axis but the channel one: the batch statistics are per channel. */
    private static int[] reductionAxes(int rank, int channelAxis) {
        int[] axes = new int[rank - 1];
        for (int d = 0, i = 0; d < rank; d++) if (d != channelAxis) axes[i++] = d;
        return axes;
    }

    /** libnd4j's batchnorm wants rank-1 gamma/beta (and their gradients); DL4J keeps them as [1, C]. */
    private static INDArray vector(INDArray a) {
        return a.rank() == 1 ? a : a.reshape(a.length());
    }
}
