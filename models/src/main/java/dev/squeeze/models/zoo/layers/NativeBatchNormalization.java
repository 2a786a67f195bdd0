package dev.squeeze.models.zoo.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

import java.util.Collection;
import java.util.Map;

/**
 * A batch normalization layer configuration: DL4J's {@link BatchNormalization} in every respect (parameters
 * {@code gamma}, {@code beta}, {@code mean} and {@code var} or {@code log10stdev}, same initialisation, shapes, JSON
 * fields, decay of the running statistics; {@code instanceof BatchNormalization} holds, so batch-norm folding and
 * export treat it as one) except that the layer it instantiates, {@link NativeBatchNormalizationLayer}, normalises
 * with libnd4j's native {@code moments}, {@code batchnorm} and {@code batchnorm_bp} ops (oneDNN in the {@code -onednn}
 * build) instead of DL4J's chain of broadcast and reduction ops: resnet-8 trains about 2x faster on CPU with it
 * (see BENCHMARKS.md). Results equal DL4J's layer's up to float rounding.
 *
 * <p>Serialises through Jackson like any DL4J layer ({@code @class} property); the no-argument constructor is for
 * that. DL4J's configuration has no constructor a subclass can hand a builder to, so {@link #of} copies a built
 * {@code BatchNormalization} through the same JSON form a saved model holds.
 *
 * <p>Code that rebuilds a network from its layer configurations (pruning, for one) keeps this layer native by
 * cloning the configuration ({@link #clone()}, then {@code setNIn}/{@code setNOut}); a new
 * {@code BatchNormalization.Builder()} would give DL4J's slow layer, and {@link #of} turns one back.
 */
public class NativeBatchNormalization extends BatchNormalization {

    /** For Jackson. */
    public NativeBatchNormalization() {
        super();
    }

    /**
     * The native form of a stock configuration: every setting of {@code conf} (layer name, nIn/nOut, decay, eps,
     * gamma/beta locking, log-std parameterisation, data format, updater, constraints) carried over.
     */
    public static NativeBatchNormalization of(BatchNormalization conf) {
        ObjectMapper json = NeuralNetConfiguration.mapper();
        ObjectNode tree = json.valueToTree(conf);
        tree.put("@class", NativeBatchNormalization.class.getName());
        try {
            return json.treeToValue(tree, NativeBatchNormalization.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not copy batch normalization configuration " + conf, e);
        }
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> trainingListeners,
                             int layerIndex, INDArray layerParamsView, boolean initializeParams,
                             DataType networkDataType) {
        LayerValidation.assertNOutSet("NativeBatchNormalization", getLayerName(), layerIndex, getNOut());
        NativeBatchNormalizationLayer ret = new NativeBatchNormalizationLayer(conf, networkDataType);
        ret.setListeners(trainingListeners);
        ret.setIndex(layerIndex);
        ret.setParamsViewArray(layerParamsView);
        Map<String, INDArray> paramTable = initializer().init(conf, layerParamsView, initializeParams);
        ret.setParamTable(paramTable);
        ret.setConf(conf);
        return ret;
    }

    @Override
    public NativeBatchNormalization clone() {
        return (NativeBatchNormalization) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && super.equals(o);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + NativeBatchNormalization.class.getName().hashCode();
    }

    /**
     * Same options as {@link BatchNormalization.Builder}; builds a {@link NativeBatchNormalization}. One default
     * differs: {@code helperAllowFallback} is false, so an error in the native op is raised instead of being logged
     * and silently replaced by DL4J's slower path for the rest of the run.
     */
    public static class Builder extends BatchNormalization.Builder {

        public Builder() {
            super();
            helperAllowFallback(false);
        }

        @Override
        public NativeBatchNormalization build() {
            return of(super.build());
        }
    }
}
