package dev.squeeze.compress.onnx.quantize;

import dev.squeeze.compress.onnx.inputs.QuantizationFigures;

/**
 * What quantizing one node alone costs: the figures of the model with only that node int8 and every other node float,
 * measured on the held-out inputs against the float model.
 *
 * @param node    the node's name (as in the candidates table)
 * @param op      its operator type
 * @param figures every output's figures with only this node int8
 * @param ranked  the figure the nodes are ranked by, on its output ({@code rel-l2 0.0123}; the budget's figure when
 *                there is a budget)
 */
public record OnnxSensitivity(String node, String op, QuantizationFigures figures, String ranked) {
}
