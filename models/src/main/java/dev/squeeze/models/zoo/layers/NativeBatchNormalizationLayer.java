package dev.squeeze.models.zoo.layers;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.nd4j.linalg.api.buffer.DataType;

import java.lang.reflect.Field;

/**
 * DL4J's batch normalization layer with {@link NativeBatchNormHelper} installed as its helper: DL4J keeps doing the
 * bookkeeping (input checks, the decayed update of the running mean and variance, the log-std parameterisation,
 * gradient views, workspaces) and hands the normalisation and its backward pass to libnd4j's
 * {@code batchnorm}/{@code batchnorm_bp} ops, which the {@code -onednn} build runs on oneDNN.
 *
 * <p>DL4J has such a helper, {@code MKLDNNBatchNormHelper}, but 1.0.0-M2.1 never installs it on CPU: helper creation
 * is off unless the system property {@code org.eclipse.deeplearning4j.helpers.disable} is false, and even then the
 * layer drops the helper because its {@code checkSupported} asks {@code BaseMKLDNNHelper.mklDnnEnabled()}, which
 * reflects on a class that has moved (see {@link NativeConvHelper}). The layer's {@code helper} field is
 * package-private and has no setter, so it is set here by reflection once per layer.
 *
 * <p>The helper handles float activations of rank 4 (NCHW or NHWC) and rank 2 (dense, as [N, C, 1, 1]); for any other
 * data type (double, half) it declines and the layer computes with DL4J's built-in path, as a stock layer would.
 * A layer with {@code lockGammaBeta} (fixed gamma and beta, no parameters for them) gets no helper at all: DL4J's
 * helper does not support it, so such a layer is a stock one.
 */
public class NativeBatchNormalizationLayer extends BatchNormalization {

    private static final Field HELPER = helperField();

    public NativeBatchNormalizationLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        if (layerConf().isLockGammaBeta()) return;   // not handled by the helper (its checkSupported says so too)
        try {
            HELPER.set(this, new NativeBatchNormHelper());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot install the native batch normalization helper", e);
        }
    }

    private static Field helperField() {
        try {
            Field f = BatchNormalization.class.getDeclaredField("helper");
            if (f.getType() != BatchNormalizationHelper.class) {
                throw new IllegalStateException("DL4J's BatchNormalization.helper has type " + f.getType()
                        + ", not " + BatchNormalizationHelper.class.getName() + ": check the DL4J version");
            }
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException("DL4J's BatchNormalization layer has no 'helper' field: this class is "
                    + "written for DL4J 1.0.0-M2.1", e);
        }
    }
}
