package dev.squeeze.serve.runtime;

import ai.onnxruntime.OrtException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Set;

/**
 * Small real ONNX models for the repository tests, built with {@link TestModels#graph}: {@code y = x + c}, so each
 * version answers differently.
 */
final class RepositoryTestModels {

    private RepositoryTestModels() {
    }

    /** A model with input {@code x} FP32 [N, 2], output {@code y = x + c} FP32 [N, 2]. */
    static byte[] addConstant(float c) {
        return model(c, "Add");
    }

    /** Like {@link #addConstant} but with the node's operator {@code opType} (an unknown one makes ORT refuse it). */
    static byte[] model(float c, String opType) {
        return TestModels.graph("add_constant")
                .inputDims("x", TensorType.FP32, "N", 2)
                .outputDims("y", TensorType.FP32, "N", 2)
                .floats("c", new float[]{c}, 1)
                .node(opType, List.of("x", "c"), List.of("y"))
                .build().toByteArray();
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
        return writeFile(repo.resolve(name).resolve(ModelRepository.CONFIG_FILE), json.getBytes(StandardCharsets.UTF_8));
    }

    /** Runs {@code model} on one row {@code [a, b]}; returns {@code y}. */
    static float[] run(LoadedModel model, float a, float b) throws OrtException {
        List<HostTensor> out = model.run(List.of(new HostTensor("x", TensorType.FP32, new long[]{1, 2}, new float[]{a, b})),
                Set.of());
        return (float[]) out.get(0).data();
    }
}
