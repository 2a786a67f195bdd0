package dev.squeeze.serve.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A model's inputs and outputs as its ONNX file declares them (read from the ONNX Runtime session). */
public record ModelSpec(List<TensorSpec> inputs, List<TensorSpec> outputs) {

    public ModelSpec {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /**
     * @throws BadRequestException when an input or output is not a tensor (a sequence or map) or has an element type
     *                             the server cannot carry; the message names it
     */
    public static ModelSpec of(OrtSession session) throws OrtException {
        return new ModelSpec(specs(session.getInputInfo(), "input"), specs(session.getOutputInfo(), "output"));
    }

    private static List<TensorSpec> specs(Map<String, NodeInfo> nodes, String what) {
        List<TensorSpec> out = new ArrayList<>();
        for (NodeInfo node : nodes.values()) {
            if (!(node.getInfo() instanceof TensorInfo t)) {
                throw new BadRequestException(what + " '" + node.getName() + "' is a " + node.getInfo().getClass().getSimpleName()
                        + ", not a tensor; only tensor inputs and outputs are served");
            }
            TensorType type = TensorType.ofOnnx(t.onnxType).orElseThrow(() -> new BadRequestException(what + " '"
                    + node.getName() + "' has element type " + t.onnxType + ", which the server cannot carry"));
            if (!type.carried()) {
                throw new BadRequestException(what + " '" + node.getName() + "' is " + type + ", which ONNX Runtime's Java "
                        + "API cannot create; the server carries BOOL, (U)INT8, INT16/32/64, FP16, BF16, FP32, FP64 and BYTES");
            }
            out.add(new TensorSpec(node.getName(), type, t.getShape()));
        }
        return out;
    }

    public TensorSpec input(String name) {
        return inputs.stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
    }

    public TensorSpec output(String name) {
        return outputs.stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
    }
}
