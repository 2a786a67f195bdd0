package dev.squeeze.compress.quant;

import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.network.FloatLinear;
import dev.squeeze.compress.network.Geometry;
import dev.squeeze.compress.network.StepNetwork;
import dev.squeeze.compress.network.Step;
import dev.squeeze.core.BadInputException;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Post-training static quantization of an all-float {@link StepNetwork}: every dense and convolutional layer
 * not kept in float becomes an {@link Int8Linear} whose input and output quantizations are the calibrated ones of
 * the tensors around it (pooling and reshapes keep the quantization of their input, so consecutive int8 layers
 * pass codes without requantizing). The last layer's output stays real.
 */
public final class NetworkQuantizer {
    private NetworkQuantizer() {
    }

    /**
     * @param points    the quantization of each calibration point ({@link StepNetwork#forward}): the input,
     *                  then each dense or convolutional layer's output except the last
     * @param keepFloat DL4J layer indices to leave in float
     */
    public static StepNetwork quantize(StepNetwork floatNetwork, List<ActivationQuant> points,
                                            Granularity granularity, Set<Integer> keepFloat) {
        int linearCount = floatNetwork.linearSteps().size();
        if (points.size() < linearCount) {
            throw new IllegalArgumentException(points.size() + " calibration points for " + linearCount + " layers");
        }
        List<Step> steps = new ArrayList<>();
        int k = 0;
        for (Step step : floatNetwork.steps()) {
            if (!(step instanceof FloatLinear f)) {
                if (step instanceof Int8Linear) throw new IllegalArgumentException("already quantized: " + step.describe());
                steps.add(step);
                continue;
            }
            boolean last = k == linearCount - 1;
            if (keepFloat.contains(f.layer())) {
                steps.add(f);
            } else {
                boolean relu = !last && hiddenActivationIsRelu(f);
                steps.add(Int8Linear.quantize(f, f.geometry().outputChannelAxis(), granularity, points.get(k),
                        last ? null : points.get(k + 1), relu));
            }
            k++;
        }
        return new StepNetwork(floatNetwork.inputShape(), steps);
    }

    private static boolean hiddenActivationIsRelu(FloatLinear f) {
        IActivation a = f.activation();
        if (a instanceof ActivationReLU r && isPlainRelu(r)) return true;
        if (a instanceof ActivationIdentity) return false;
        throw new BadInputException("layer " + f.label() + " uses the activation " + a + "; between int8 layers only "
                + "ReLU and identity are supported; keep this layer in float with --keep-float " + f.layer());
    }

    private static boolean isPlainRelu(ActivationReLU r) {
        return r.toString().equals("relu");
    }
}
