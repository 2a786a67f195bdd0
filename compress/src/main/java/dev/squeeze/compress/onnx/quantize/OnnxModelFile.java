package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.onnx.SparseInitializers;
import dev.squeeze.compress.onnx.SparseStorage;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.Sha256;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * An ONNX file as given by the user: its bytes' SHA-256 (its identity wherever it lies), the parsed model, and the
 * checks that it is ONNX at all and that ONNX Runtime loads it, so that what cannot be quantized is refused before any
 * work with a message naming the file.
 *
 * @param file   where it was read from
 * @param sha256 the file's SHA-256, hex
 * @param bytes  its size
 * @param model   the parsed model, its sparse initializers made dense (as ONNX Runtime loads them), so that every
 *                weight is an initializer
 * @param storage how the file stores its weights: {@link SparseStorage#NEVER} when it has no sparse initializer
 */
public record OnnxModelFile(Path file, String sha256, long bytes, OnnxMl.ModelProto model, SparseStorage storage) {
    private static final byte[] ZIP = {'P', 'K', 3, 4};

    /**
     * Whether {@code from} names an existing file that is not a zip: Squeeze's own model files are zips, so any other
     * file is taken for ONNX (and refused with a clear message, by {@link #read}, when it is not).
     */
    public static boolean isOnnxCandidate(String from) {
        Path file = Path.of(from);
        if (!Files.isRegularFile(file)) return false;
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, 4);
            if (n < 4) return true; // too short for a zip: read() says it is not ONNX either
        } catch (IOException e) {
            return false; // ModelSource reports the unreadable file
        }
        return !java.util.Arrays.equals(head, ZIP);
    }

    /**
     * Reads and parses {@code file}, then has ONNX Runtime load it.
     *
     * @throws BadInputException when it is not ONNX, keeps its weights in external files, or ONNX Runtime refuses it
     */
    public static OnnxModelFile read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        OnnxMl.ModelProto model;
        try {
            model = OnnxMl.ModelProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw notOnnx(file, "it does not parse as an ONNX model");
        }
        if (!model.hasGraph() || model.getGraph().getNodeCount() == 0 || model.getOpsetImportCount() == 0) {
            throw notOnnx(file, "it holds no ONNX graph");
        }
        SparseStorage storage = SparseInitializers.storageOf(model);
        try {
            model = SparseInitializers.densify(model);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(file + ": " + e.getMessage());
        }
        for (OnnxMl.TensorProto t : model.getGraph().getInitializerList()) {
            if (t.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL) {
                throw new BadInputException(file + " keeps its weights in external data files (initializer '" + t.getName()
                        + "'), which quantize does not read; save the model with its weights inside the .onnx file");
            }
        }
        checkLoads(file, bytes);
        return new OnnxModelFile(file, Sha256.hex(bytes), bytes.length, model, storage);
    }

    /** The ONNX Runtime version this code measures with. */
    public static String onnxRuntimeVersion() {
        return OrtEnvironment.getEnvironment().getVersion();
    }

    /**
     * Loads {@code model} in ONNX Runtime at optimization level ALL (as {@code squeeze serve} does) and returns the
     * operator types of the graph after ONNX Runtime's optimizations.
     *
     * @param scratchDir where ONNX Runtime writes its optimized graph for reading back (deleted after)
     * @throws IllegalStateException when ONNX Runtime refuses the graph (a bug of the writer, not of the user's file)
     */
    public static Set<String> optimizedOperators(byte[] model, Path scratchDir) {
        Path optimized = null;
        try {
            optimized = Files.createTempFile(scratchDir, ".optimized-", ".onnx");
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                options.setIntraOpNumThreads(1);
                options.setInterOpNumThreads(1);
                // Writing the optimized graph makes ORT warn that it is hardware specific: only its node types are read.
                options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
                options.setOptimizedModelFilePath(optimized.toString());
                OrtEnvironment.getEnvironment().createSession(model, options).close();
            }
            Set<String> ops = new TreeSet<>();
            for (OnnxMl.NodeProto n : OnnxMl.ModelProto.parseFrom(Files.readAllBytes(optimized)).getGraph().getNodeList()) {
                ops.add(n.getOpType());
            }
            return ops;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime refused the quantized graph: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write ONNX Runtime's optimized graph in " + scratchDir, e);
        } finally {
            if (optimized != null) {
                try {
                    Files.deleteIfExists(optimized);
                } catch (IOException ignored) {
                    // a leftover temporary file is not worth failing the run for
                }
            }
        }
    }

    /** The number of elements of every initializer: the model's parameter count. */
    public long parameterCount() {
        long n = 0;
        for (OnnxMl.TensorProto t : model.getGraph().getInitializerList()) n += elements(t.getDimsList());
        return n;
    }

    static long elements(List<Long> dims) {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    private static void checkLoads(Path file, byte[] bytes) {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
            OrtEnvironment.getEnvironment().createSession(bytes, options).close();
        } catch (OrtException e) {
            String why = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
            throw new BadInputException("ONNX Runtime " + onnxRuntimeVersion() + " cannot load " + file + " (" + why
                    + "); check that the file is complete and its opset is supported, or re-export it");
        }
    }

    private static BadInputException notOnnx(Path file, String why) {
        return new BadInputException(file + " is not an ONNX model (" + why + "); give an .onnx file, or a Squeeze run "
                + "id or model.zip");
    }
}
