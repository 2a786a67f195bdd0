package dev.squeeze.compress.onnx.quantize;

import java.util.List;

/**
 * A node that could be quantized (MatMul, Gemm, Conv, or Gather of a constant table) and what was decided for it.
 *
 * @param node        its name in the graph (its first output's name when the node has none)
 * @param op          its operator type
 * @param weight      the name of its constant weight (a Gather's table), or null when it has none (activation ×
 *                    activation)
 * @param weightShape the weight's shape, empty when it has no constant weight
 * @param quantized   whether it was rewritten to an integer kernel (a Gather: to a lookup in int8 codes)
 * @param reason      why it was left float; null when quantized
 */
public record OnnxCandidate(String node, String op, String weight, List<Long> weightShape, boolean quantized,
                            String reason) {
    public OnnxCandidate {
        weightShape = List.copyOf(weightShape);
    }

    /** This candidate left float, for {@code why}. */
    OnnxCandidate leftFloat(String why) {
        return new OnnxCandidate(node, op, weight, weightShape, false, why);
    }

    long weights() {
        return weightShape.isEmpty() ? 0 : OnnxModelFile.elements(weightShape);
    }
}
