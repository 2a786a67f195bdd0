package dev.squeeze.compress.doctor;

import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.models.zoo.Network;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.weights.IWeightInit;
import org.deeplearning4j.nn.weights.WeightInitConstant;
import org.deeplearning4j.nn.weights.WeightInitRelu;
import org.deeplearning4j.nn.weights.WeightInitReluUniform;
import org.deeplearning4j.nn.weights.WeightInitXavier;
import org.deeplearning4j.nn.weights.WeightInitXavierUniform;
import org.nd4j.linalg.activations.IActivation;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Activation / init pairs: ReLU-family layers want He, tanh and sigmoid want Xavier/Glorot; a constant
 * (e.g. all-zero) init makes every unit of a layer compute the same thing. A mismatch is a warning, not a
 * failure: the lottery-ticket paper trains ReLU with Glorot on purpose.
 */
final class InitCheck {
    static final String NAME = "activation/init pairs";

    private InitCheck() {
    }

    /**
     * A layer with an identity activation followed (past a batch norm) by an activation layer is judged by that
     * activation: a graph's conv - batch norm - ReLU is a ReLU layer.
     */
    static CheckResult run(Network net) {
        List<Network.NamedLayer> layers = net.layers();
        List<String> reluXavier = new ArrayList<>();
        List<String> saturatingHe = new ArrayList<>();
        List<String> constant = new ArrayList<>();
        List<String> fine = new ArrayList<>();
        for (Network.NamedLayer named : layers) {
            if (!(named.config() instanceof BaseLayer layer) || layer.getWeightInitFn() == null
                    || layer instanceof BatchNormalization) continue;
            IActivation activation = effectiveActivation(layers, named.index(), layer.getActivationFn());
            IWeightInit init = layer.getWeightInitFn();
            String act = activationName(activation);
            String desc = String.format(Locale.ROOT, "%s (%s, %s)", named.name(), act, initName(init));
            if (init instanceof WeightInitConstant) {
                constant.add(desc);
            } else if (reluFamily(act) && (init instanceof WeightInitXavier || init instanceof WeightInitXavierUniform)) {
                reluXavier.add(desc);
            } else if (saturating(act) && (init instanceof WeightInitRelu || init instanceof WeightInitReluUniform)) {
                saturatingHe.add(desc);
            } else {
                fine.add(desc);
            }
        }
        if (!constant.isEmpty()) {
            return CheckResult.fail(NAME, "constant init in layers " + String.join(", ", constant)
                            + ": every unit of a layer computes the same thing and gets the same gradient",
                    "use he for ReLU layers and xavier for tanh/sigmoid (leave " + TrainParams.mention("init") + " unset for that)");
        }
        List<String> problems = new ArrayList<>();
        if (!reluXavier.isEmpty()) problems.add("ReLU with Xavier/Glorot in layers " + String.join(", ", reluXavier));
        if (!saturatingHe.isEmpty()) problems.add("tanh/sigmoid with He in layers " + String.join(", ", saturatingHe));
        if (!problems.isEmpty()) {
            return CheckResult.warn(NAME, String.join("; ", problems),
                    "ReLU wants He (" + TrainParams.mention("init") + " he, or leave it unset), tanh/sigmoid want Xavier; keep Glorot only to "
                            + "reproduce a paper that uses it (the lottery-ticket paper does)");
        }
        return CheckResult.pass(NAME, "layers " + String.join(", ", fine));
    }

    private static IActivation effectiveActivation(List<Network.NamedLayer> layers, int index, IActivation own) {
        if (!(own instanceof ActivationIdentity)) return own;
        for (int j = index + 1; j < layers.size(); j++) {
            var next = layers.get(j).config();
            if (next instanceof BatchNormalization) continue;
            if (next instanceof ActivationLayer a) return a.getActivationFn();
            break;
        }
        return own;
    }

    private static String activationName(IActivation activation) {
        return activation.getClass().getSimpleName().replace("Activation", "").toLowerCase(Locale.ROOT);
    }

    private static String initName(IWeightInit init) {
        if (init instanceof WeightInitRelu || init instanceof WeightInitReluUniform) return "he";
        if (init instanceof WeightInitXavier || init instanceof WeightInitXavierUniform) return "xavier";
        if (init instanceof WeightInitConstant) return init.equals(new WeightInitConstant(0.0)) ? "zero" : "constant";
        return init.getClass().getSimpleName().replace("WeightInit", "").toLowerCase(Locale.ROOT);
    }

    private static boolean reluFamily(String act) {
        return act.contains("relu") || act.equals("elu") || act.equals("selu") || act.equals("gelu")
                || act.equals("swish") || act.equals("mish");
    }

    private static boolean saturating(String act) {
        return act.equals("tanh") || act.equals("sigmoid") || act.equals("hardtanh") || act.equals("hardsigmoid");
    }
}
