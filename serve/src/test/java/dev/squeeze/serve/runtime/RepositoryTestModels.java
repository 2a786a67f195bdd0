package dev.squeeze.serve.runtime;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtException;
import com.google.protobuf.ByteString;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Set;

/** Small real ONNX models for the repository tests: {@code y = x + c}, so each version answers differently. */
final class RepositoryTestModels {

    private RepositoryTestModels() {
    }

    /** A model with input {@code x} FP32 [N, 2], output {@code y = x + c} FP32 [N, 2]. */
    static byte[] addConstant(float c) {
        return model(c, "Add");
    }

    /** Like {@link #addConstant} but with the node's operator {@code opType} (an unknown one makes ORT refuse it). */
    static byte[] model(float c, String opType) {
        ByteBuffer raw = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(c);
        OnnxMl.TensorProto constant = OnnxMl.TensorProto.newBuilder().setName("c")
                .setDataType(OnnxMl.TensorProto.DataType.FLOAT.getNumber()).addDims(1)
                .setRawData(ByteString.copyFrom(raw.array())).build();
        OnnxMl.NodeProto add = OnnxMl.NodeProto.newBuilder().setOpType(opType).setName("add")
                .addInput("x").addInput("c").addOutput("y").build();
        OnnxMl.GraphProto graph = OnnxMl.GraphProto.newBuilder().setName("add_constant")
                .addInput(valueInfo("x")).addOutput(valueInfo("y"))
                .addInitializer(constant).addNode(add).build();
        return OnnxMl.ModelProto.newBuilder().setIrVersion(8).setProducerName("squeeze-tests")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(graph).build().toByteArray();
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name) {
        OnnxMl.TensorShapeProto shape = OnnxMl.TensorShapeProto.newBuilder()
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("N"))
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(2)).build();
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder()
                        .setElemType(OnnxMl.TensorProto.DataType.FLOAT.getNumber()).setShape(shape))).build();
    }

    /** Writes {@code repo/name/model.onnx} computing {@code x + c} (replacing it by a rename, as deploy tools should). */
    static Path writeModel(Path repo, String name, float c) {
        return writeFile(repo.resolve(name).resolve(ModelRepository.MODEL_FILE), addConstant(c));
    }

    /** Writes {@code file} (creating its folder) by writing a temporary file beside it and renaming it into place. */
    static Path writeFile(Path file, byte[] bytes) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), ".tmp-", ".part");
            Files.write(tmp, bytes);
            return Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path writeConfig(Path repo, String name, String json) {
        return writeFile(repo.resolve(name).resolve(ModelRepository.CONFIG_FILE), json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Runs {@code model} on one row {@code [a, b]}; returns {@code y}. */
    static float[] run(LoadedModel model, float a, float b) throws OrtException {
        List<HostTensor> out = model.run(List.of(new HostTensor("x", TensorType.FP32, new long[]{1, 2}, new float[]{a, b})),
                Set.of());
        return (float[]) out.get(0).data();
    }
}
