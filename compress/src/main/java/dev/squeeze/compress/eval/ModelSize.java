package dev.squeeze.compress.eval;

import dev.squeeze.models.zoo.Network;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** How big a model is: all parameters, the non-zero ones (fewer after pruning), and its file on disk. */
public record ModelSize(long params, long nonzeroParams, long fileBytes) {

    public static ModelSize of(Network net, Path file) {
        float[] values = net.params().toFloatVector();
        long nonzero = 0;
        for (float v : values) if (v != 0f) nonzero++;
        try {
            return new ModelSize(values.length, nonzero, Files.size(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the size of " + file, e);
        }
    }
}
