package dev.squeeze.compress.quant;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.network.Dl4jLayers;
import dev.squeeze.compress.network.FloatLinear;
import dev.squeeze.compress.network.StepNetwork;
import dev.squeeze.compress.network.WrappedActivation;
import dev.squeeze.compress.train.Refit;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.Trainer;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.compress.train.TrainingHooks;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.models.data.LabeledData;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import dev.squeeze.models.zoo.Network;

import java.util.ArrayList;
import java.util.List;

/**
 * Quantization-aware training: the float model fine-tuned through the guarded training loop with fake quantization
 * where the int8 model quantizes (its input, every activation next to an int8 layer, the int8 layers' weights) and a
 * straight-through estimator behind it; activation ranges stay those of calibration. The result is quantized with
 * the same ranges. At 4 bits the 4-bit dense layers' weights are fake-quantized block-wise and the activations around
 * them stay float, unless an 8-bit layer next to them quantizes them.
 */
public final class QuantizationAwareTraining {
    /** A tenth of training's default rate: fine-tuning, not retraining. */
    public static final double LEARNING_RATE = TrainParams.DEFAULT_LEARNING_RATE / 10;
    /** The per-epoch learning-rate decay it has always used (the training default before issue 17). */
    static final double LR_DECAY = 0.8;

    private final TrainingMonitor monitor;

    public QuantizationAwareTraining(TrainingMonitor monitor) {
        this.monitor = monitor;
    }

    /**
     * @param points the calibrated quantization of every calibration point ({@link StepNetwork#forward})
     * @param scheme how each layer is quantized, as {@link NetworkQuantizer} takes it
     * @param sharedValues the int8 layers' weights trained shared among this many values a layer (0: not shared)
     * @param data   normalised splits; validation picks the best epoch
     * @param paths  where the fine-tuned float checkpoints go (an interrupted run resumes from them)
     */
    public StepNetwork fineTune(Network network, ModelInfo info, StepNetwork floatNetwork,
                                     List<ActivationQuant> points, NetworkQuantizer.Scheme scheme,
                                     int sharedValues, int epochs,
                                     QuantizeService.Splits data,
                                     RunPaths paths) {
        MultiLayerNetwork net = network.asStack();   // QuantizeService refuses QAT of a graph before any run
        List<Integer> layers = floatNetwork.linearSteps().stream().map(StepNetwork::layerOf).toList();
        int count = layers.size();
        List<dev.squeeze.compress.network.Step> steps = floatNetwork.linearSteps();
        boolean[] int8 = new boolean[count];   // 8-bit: weights and the activations around them quantized
        List<Integer> int8Layers = new ArrayList<>();   // int8 weights (with int8 or float activations)
        List<Integer> int4Layers = new ArrayList<>();   // 4-bit weights, float activations
        for (int k = 0; k < count; k++) {
            NetworkQuantizer.Form form = scheme.form((FloatLinear) steps.get(k));
            int8[k] = form == NetworkQuantizer.Form.INT8;
            if (form.int8Weights()) int8Layers.add(layers.get(k));
            if (form == NetworkQuantizer.Form.FOUR_BIT) int4Layers.add(layers.get(k));
        }
        NetworkQuantizer.FourBit fourBit = scheme.fourBit();

        MultiLayerConfiguration conf = net.getLayerWiseConfigurations().clone();
        for (int k = 0; k < count - 1; k++) {
            if (!int8[k] && !int8[k + 1]) continue;   // both float: nothing quantizes this activation
            BaseLayer layer = (BaseLayer) conf.getConf(layers.get(k)).getLayer();
            layer.setActivationFn(new FakeQuantActivation(WrappedActivation.unwrap(layer.getActivationFn()), points.get(k + 1)));
        }
        ActivationQuant input = int8[0] ? points.get(0) : null;
        TrainingData fakeQuantData = new TrainingData(info.dataset(), info.classNames(), info.inputShape(), null,
                fakeQuantize(data.train(), input), fakeQuantize(data.validation(), input), fakeQuantize(data.test(), input),
                info.normalization());

        FakeQuantizedWeights weights = new FakeQuantizedWeights(int8Layers.stream().mapToInt(Integer::intValue).toArray(),
                scheme.granularity(), int4Layers.stream().mapToInt(Integer::intValue).toArray(),
                fourBit == null ? 0 : fourBit.blockSize(), sharedValues);
        // Its own schedule and rule, pinned: the quantize hash does not hold them, so a change of the training
        // defaults must not change what the same quantize settings produce.
        TrainParams params = TrainParams.of(info.model(), info.dataset(), epochs, TrainParams.DEFAULT_BATCH, LEARNING_RATE,
                TrainParams.DEFAULT_SEED, epochs, TrainParams.DEFAULT_VALIDATION_FRACTION, LR_DECAY, null, null, null, null,
                0, Refit.NEVER, 1);
        monitor.message("quantization-aware training: " + epochs + " epochs at learning rate " + LEARNING_RATE
                + ", fake-quantized layers " + (int4Layers.isEmpty() ? int8Layers
                : int4Layers + " (4-bit)" + (int8Layers.isEmpty() ? "" : ", " + int8Layers + " (8-bit)")));
        new Trainer(monitor).train(params, fakeQuantData, paths, info, new TrainingHooks(() -> {
            MultiLayerNetwork start = new MultiLayerNetwork(conf.clone());
            start.init(net.params().dup(), false);
            weights.accept(start);
            return Network.of(start);
        }, n -> weights.accept(n.asStack()), false));
        Network tuned = ModelFile.load(paths.model(), false).network();
        StepNetwork tunedFloat = Dl4jLayers.toFloatNetwork(tuned, info.inputShape());
        return NetworkQuantizer.quantize(tunedFloat, points, scheme);
    }

    /** The examples as the int8 model's first layer sees them: rounded to its input quantization's grid. */
    private static LabeledData fakeQuantize(LabeledData data, ActivationQuant q) {
        if (q == null) return data;
        float[] x = data.features().clone();
        for (int i = 0; i < x.length; i++) x[i] = q.dequantize(q.quantize(x[i]));
        return new LabeledData(x, data.labels(), data.featureSize(), data.numClasses());
    }
}
