package dev.squeeze.compress.onnx.inputs;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.squeeze.core.BadInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A model's inputs and outputs as its ONNX file declares them (read from the {@code ModelProto}, so that symbolic
 * dimensions keep their names), and the check every reader of input data runs before any work: names, element
 * types and shapes, with symbolic dimensions of any size but the same size wherever one name appears.
 *
 * @param inputs         the graph's inputs, initializers excluded (older files list them as inputs too)
 * @param outputs        the graph's tensor outputs
 * @param skippedOutputs outputs that are not tensors of a known element type (a scikit-learn ZipMap's sequence of
 *                       maps, say): they cannot be compared, so figures leave them out
 */
public record ModelSignature(List<TensorSignature> inputs, List<TensorSignature> outputs, List<String> skippedOutputs) {

    public ModelSignature {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        skippedOutputs = List.copyOf(skippedOutputs);
    }

    /**
     * @throws BadInputException when the file cannot be read, is not an ONNX model, or has an input that is not a
     *                           tensor
     */
    public static ModelSignature of(Path onnxFile) {
        try {
            return of(Files.readAllBytes(onnxFile), onnxFile.getFileName().toString());
        } catch (IOException e) {
            throw new BadInputException("cannot read the ONNX model " + onnxFile + ": " + e.getMessage()
                    + "; give the path of a readable .onnx file");
        }
    }

    /** @param what how messages name the model, e.g. its file name */
    public static ModelSignature of(byte[] model, String what) {
        OnnxMl.ModelProto proto;
        try {
            proto = OnnxMl.ModelProto.parseFrom(model);
        } catch (InvalidProtocolBufferException e) {
            throw new BadInputException(what + " is not an ONNX model (" + e.getMessage() + "); give a .onnx file");
        }
        if (!proto.hasGraph()) throw new BadInputException(what + " is not an ONNX model (it has no graph); give a .onnx file");
        return of(proto);
    }

    public static ModelSignature of(OnnxMl.ModelProto model) {
        OnnxMl.GraphProto graph = model.getGraph();
        Set<String> initializers = graph.getInitializerList().stream().map(OnnxMl.TensorProto::getName)
                .collect(Collectors.toSet());
        List<TensorSignature> inputs = new ArrayList<>();
        for (OnnxMl.ValueInfoProto v : graph.getInputList()) {
            if (initializers.contains(v.getName())) continue;
            TensorSignature t = tensor(v);
            if (t == null) {
                throw new BadInputException("the model's input '" + v.getName() + "' is not a tensor of a known element "
                        + "type (" + v.getType().getValueCase() + "); only models whose inputs are tensors can be fed");
            }
            inputs.add(t);
        }
        List<TensorSignature> outputs = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (OnnxMl.ValueInfoProto v : graph.getOutputList()) {
            TensorSignature t = tensor(v);
            if (t == null) skipped.add(v.getName());
            else outputs.add(t);
        }
        return new ModelSignature(inputs, outputs, skipped);
    }

    private static TensorSignature tensor(OnnxMl.ValueInfoProto v) {
        if (!v.getType().hasTensorType()) return null;
        OnnxMl.TypeProto.Tensor t = v.getType().getTensorType();
        ElementType type = ElementType.ofOnnx(t.getElemType()).orElse(null);
        if (type == null) return null;
        if (!t.hasShape()) return new TensorSignature(v.getName(), type, null, List.of());
        List<OnnxMl.TensorShapeProto.Dimension> dims = t.getShape().getDimList();
        long[] shape = new long[dims.size()];
        List<String> names = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) {
            OnnxMl.TensorShapeProto.Dimension dim = dims.get(d);
            boolean fixed = dim.hasDimValue() && dim.getDimValue() >= 0;
            shape[d] = fixed ? dim.getDimValue() : -1;
            names.add(fixed ? null : dim.hasDimParam() && !dim.getDimParam().isEmpty() ? dim.getDimParam() : "?");
        }
        return new TensorSignature(v.getName(), type, shape, names);
    }

    /** The input named {@code name}, or null. */
    public TensorSignature input(String name) {
        return inputs.stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
    }

    /** The tensor output named {@code name}, or null. */
    public TensorSignature output(String name) {
        return outputs.stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
    }

    /** Whether every input's first dimension is symbolic, so that examples are rows and can be split and regrouped. */
    public boolean batched() {
        return !inputs.isEmpty() && inputs.stream().allMatch(TensorSignature::batched);
    }

    /** {@code x FP32 [batch, 4], mask INT64 [batch, seq]}. */
    public String describeInputs() {
        return inputs.stream().map(TensorSignature::toString).collect(Collectors.joining(", "));
    }

    /**
     * Checks one batch of data against the inputs: every input given once, nothing else, each of the input's
     * element type and shape, each symbolic dimension name of one size across the batch, and one row count across
     * batched inputs.
     *
     * @param source how messages name where the data came from, e.g. {@code calibration.npz} or {@code requests/3.json}
     * @throws BadInputException naming the input, what was expected, what was found and what to do
     */
    public void check(String source, Map<String, InputTensor> data) {
        for (String name : data.keySet()) {
            if (input(name) == null) {
                throw new BadInputException(source + ": '" + name + "' is not an input of the model (its inputs are "
                        + describeInputs() + "); name the data after the model's inputs");
            }
        }
        Map<String, String> sizeSeen = new HashMap<>();
        Map<String, Long> sizes = new HashMap<>();
        for (TensorSignature in : inputs) {
            InputTensor t = data.get(in.name());
            if (t == null) {
                throw new BadInputException(source + ": no data for the model's input " + in + (data.isEmpty() ? ""
                        : " (found only " + data.keySet().stream().map(n -> "'" + n + "'").collect(Collectors.joining(", "))
                        + ")") + "; give data named '" + in.name() + "'");
            }
            checkInput(source, in, t.type(), t.shape());
            long[] want = in.shape();
            if (want == null) continue;
            long[] got = t.shape();
            for (int d = 0; d < want.length; d++) {
                String dim = in.dimNames().get(d);
                if (want[d] >= 0 || dim.equals("?")) continue;
                Long size = sizes.putIfAbsent(dim, got[d]);
                if (size != null && size != got[d]) {
                    throw new BadInputException(source + ": input '" + in.name() + "' has " + dim + " = " + got[d]
                            + " (dimension " + d + ") but input '" + sizeSeen.get(dim) + "' has " + dim + " = " + size
                            + "; inputs sharing a dimension name must agree on its size");
                }
                sizeSeen.putIfAbsent(dim, in.name());
            }
        }
        Set<Long> rows = new HashSet<>();
        for (TensorSignature in : inputs) if (in.batched()) rows.add(data.get(in.name()).rows());
        if (rows.size() > 1) {
            throw new BadInputException(source + ": the inputs have different numbers of rows ("
                    + inputs.stream().filter(TensorSignature::batched).map(in -> in.name() + ": "
                    + data.get(in.name()).rows()).collect(Collectors.joining(", "))
                    + "); give every input one row per example");
        }
    }

    /** One input's element type and shape (fixed dimensions equal, symbolic ones any size). */
    static void checkInput(String source, TensorSignature in, ElementType type, long[] got) {
        if (!in.type().readable()) {
            throw new BadInputException(source + ": the model's input " + in + " is " + in.type().describe()
                    + ", which Squeeze cannot feed; it reads data for BOOL, UINT8, INT8, INT16, INT32, INT64, FP32 "
                    + "and FP64 inputs");
        }
        if (type != in.type()) {
            throw new BadInputException(source + ": input '" + in.name() + "' must be " + in.type().describe()
                    + ", found " + type.describe() + "; convert the data to " + in.type() + " (numpy: a.astype(np."
                    + in.type().numpyName() + "))");
        }
        long[] want = in.shape();
        if (want == null) return;
        String problem = null;
        if (got.length != want.length) {
            problem = "rank " + got.length + ", not " + want.length;
        } else {
            for (int d = 0; d < want.length && problem == null; d++) {
                if (want[d] >= 0 && got[d] != want[d]) problem = "dimension " + d + " is " + got[d] + ", not " + want[d];
            }
        }
        if (problem != null) {
            List<String> free = new ArrayList<>();
            for (int d = 0; d < want.length; d++) if (want[d] < 0) free.add(in.dimNames().get(d));
            throw new BadInputException(source + ": input '" + in.name() + "' must have shape " + in.shapeText()
                    + (free.isEmpty() ? "" : " (" + String.join(", ", free) + ": any size)") + ", found "
                    + Arrays.toString(got) + " (" + problem + "); reshape the data to " + in.shapeText());
        }
    }
}
