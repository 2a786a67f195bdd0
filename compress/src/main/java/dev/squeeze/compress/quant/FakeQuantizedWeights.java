package dev.squeeze.compress.quant;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Deconvolution2D;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * The straight-through estimator for weights in quantization-aware training, as the training loop's
 * {@code afterStep} hook. For each chosen layer it keeps a float "shadow" of {@code W}: the network itself holds the
 * fake-quantized weights, the optimizer updates those, and the update is carried over to the shadow, which is
 * quantized again:
 * <pre>
 *   first call:  shadow = W
 *   later calls: shadow += W - lastFakeQuant        (the optimizer's step, applied to the shadow)
 *   then:        lastFakeQuant = fakeQuantize(shadow);  W.assign(lastFakeQuant)
 * </pre>
 * Steps smaller than half a quantization step therefore accumulate in the shadow instead of being rounded away.
 * Biases stay in float. Layers named as 4-bit are fake-quantized block-wise ({@link Int4Weights#fakeQuantize}), the
 * others to int8, and with {@code sharedValues} their int8 codes shared among that many values a layer as
 * {@link WeightSharing} shares them (re-clustered at every step, so training moves the shared values: Deep
 * Compression's retraining of the codebook). A weight that is zero at the first call (pruned) stays zero: its
 * shadow is held at zero, so quantization-aware training of a lottery ticket keeps its sparsity.
 *
 * <p>The shadows belong to one network: a call with a different network object (e.g. one just loaded from a resume
 * checkpoint) starts afresh from that network's weights. Not thread-safe.
 */
public final class FakeQuantizedWeights implements Consumer<MultiLayerNetwork> {
    private static final String WEIGHTS = DefaultParamInitializer.WEIGHT_KEY;

    private final int[] layers;
    private final Granularity granularity;
    private final Set<Integer> fourBitLayers;
    private final int blockSize;
    private final int sharedValues;
    private final Map<Integer, INDArray> shadows = new HashMap<>();
    private final Map<Integer, INDArray> survivors = new HashMap<>();
    private final Map<Integer, INDArray> lastFakeQuant = new HashMap<>();
    private MultiLayerNetwork owner;

    /**
     * @param layers      indices of the layers whose {@code W} is fake-quantized (dense, output or convolution layers)
     * @param granularity one scale per output channel, or one per tensor
     */
    public FakeQuantizedWeights(int[] layers, Granularity granularity) {
        this(layers, granularity, new int[0], 0);
    }

    /**
     * @param int8Layers    indices of the layers fake-quantized to int8 at {@code granularity}
     * @param int4Layers    indices of the dense layers fake-quantized to block-wise int4
     * @param blockSize     the int4 blocks' size (ignored without int4 layers)
     */
    public FakeQuantizedWeights(int[] int8Layers, Granularity granularity, int[] int4Layers, int blockSize) {
        this(int8Layers, granularity, int4Layers, blockSize, 0);
    }

    /**
     * @param sharedValues  the int8 layers' codes shared among at most this many values ({@link WeightSharing}); 0 for
     *                      none
     */
    public FakeQuantizedWeights(int[] int8Layers, Granularity granularity, int[] int4Layers, int blockSize,
                                int sharedValues) {
        this.sharedValues = sharedValues;
        this.layers = IntStream.concat(IntStream.of(int8Layers), IntStream.of(int4Layers)).toArray();
        this.granularity = granularity;
        this.fourBitLayers = IntStream.of(int4Layers).boxed().collect(java.util.stream.Collectors.toUnmodifiableSet());
        this.blockSize = blockSize;
        if (IntStream.of(this.layers).distinct().count() != this.layers.length) {
            throw new IllegalArgumentException("layer indices repeat: " + Arrays.toString(this.layers));
        }
        if (int4Layers.length > 0 && blockSize < 1) throw new IllegalArgumentException("block size " + blockSize);
    }

    /** Every layer of {@code net} that has a {@link #channelAxis(Layer) channel axis}, fake-quantized. */
    public static FakeQuantizedWeights allLayers(MultiLayerNetwork net, Granularity granularity) {
        return new FakeQuantizedWeights(quantizableLayers(net), granularity);
    }

    /** Indices of the layers of {@code net} whose weights can be quantized: dense, output and convolution layers. */
    public static int[] quantizableLayers(MultiLayerNetwork net) {
        List<Integer> found = new ArrayList<>();
        for (int i = 0; i < net.getnLayers(); i++) {
            if (axisOrNegative(net.getLayer(i).conf().getLayer()) >= 0) found.add(i);
        }
        return found.stream().mapToInt(Integer::intValue).toArray();
    }

    public int[] layers() {
        return layers.clone();
    }

    public Granularity granularity() {
        return granularity;
    }

    /** A copy of layer {@code layer}'s float shadow weights, or null before the first {@link #accept} of that layer. */
    public INDArray shadow(int layer) {
        INDArray s = shadows.get(layer);
        return s == null ? null : s.dup();
    }

    @Override
    public void accept(MultiLayerNetwork net) {
        if (net != owner) {
            shadows.clear();
            survivors.clear();
            lastFakeQuant.clear();
            owner = net;
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            for (int i : layers) {
                Layer layer = net.getLayer(i);
                int axis = channelAxis(layer);
                INDArray w = layer.getParam(WEIGHTS);
                INDArray shadow = shadows.get(i);
                if (shadow == null) {
                    shadow = w.dup('c');
                    shadows.put(i, shadow);
                    survivors.put(i, w.neq(0).castTo(w.dataType()));
                } else {
                    shadow.addi(w.sub(lastFakeQuant.get(i))).muli(survivors.get(i));
                }
                INDArray fq = (fourBitLayers.contains(i) ? Int4Weights.fakeQuantize(shadow, blockSize)
                        : sharedValues > 0 ? WeightSharing.shared(QuantizedWeights.quantize(shadow, axis, granularity),
                        sharedValues).dequantized()
                        : fakeQuantize(shadow, axis, granularity)).castTo(w.dataType());
                lastFakeQuant.put(i, fq);
                w.assign(fq);   // into the parameter view, not a replacement of it
            }
        }
    }

    /**
     * Symmetric int8 fake quantization, one scale per output channel or per tensor: {@code scale = max|w| / 127}
     * (1 where that maximum is 0), {@code q = clamp(rint(w / scale), -127, 127)}, result {@code q * scale}: a new
     * 'c'-ordered float array of {@code w}'s shape, equal bit for bit to
     * {@code QuantizedWeights.quantize(w, channelAxis, granularity).dequantized()}.
     *
     * @param channelAxis the output-channel axis: 1 for a dense layer's [nIn, nOut], 0 for a convolution's
     *                    [outC, inC, kh, kw]
     */
    public static INDArray fakeQuantize(INDArray w, int channelAxis, Granularity granularity) {
        return QuantizedWeights.codes(w, channelAxis, granularity).dequantizeInPlace();
    }

    /**
     * The output-channel axis of a layer's {@code W}: 1 for a dense or output layer ([nIn, nOut]), 0 for a convolution
     * ([outC, inC, kh, kw]).
     *
     * @throws IllegalArgumentException for any other layer type
     */
    public static int channelAxis(Layer layer) {
        return channelAxis(layer.conf().getLayer());
    }

    /** As {@link #channelAxis(Layer)}, from the layer's configuration. */
    public static int channelAxis(org.deeplearning4j.nn.conf.layers.Layer conf) {
        int axis = axisOrNegative(conf);
        if (axis < 0) {
            throw new IllegalArgumentException("cannot fake-quantize the weights of a " + conf.getClass().getSimpleName()
                    + (conf.getLayerName() == null ? "" : " ('" + conf.getLayerName() + "')")
                    + ": only DenseLayer, OutputLayer and ConvolutionLayer are supported");
        }
        return axis;
    }

    private static int axisOrNegative(org.deeplearning4j.nn.conf.layers.Layer conf) {
        if (conf instanceof DenseLayer || conf instanceof OutputLayer) return 1;
        // These subclasses lay their kernels out differently ([inC, outC, ...], depthwise, separable).
        if (conf instanceof Deconvolution2D || conf instanceof DepthwiseConvolution2D
                || conf instanceof SeparableConvolution2D) {
            return -1;
        }
        if (conf instanceof ConvolutionLayer) return 0;
        return -1;
    }
}
