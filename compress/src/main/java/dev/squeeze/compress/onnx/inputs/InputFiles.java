package dev.squeeze.compress.onnx.inputs;

import dev.squeeze.core.BadInputException;
import dev.squeeze.core.Sha256;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads a model's input data from the forms users have, each batch checked against the model's
 * {@link ModelSignature} before it is returned:
 * <ul>
 *   <li>{@code .npy}: one array, for a model with a single input;</li>
 *   <li>{@code .npz} ({@code numpy.savez} or {@code numpy.savez_compressed}): one array per model input, named after
 *   it, and optionally an integer array named {@value #LABELS} (one class index per row) when no input has that
 *   name;</li>
 *   <li>a folder of Open Inference Protocol v2 request bodies ({@code *.json}), exactly what a client sends to
 *   {@code squeeze serve}: see {@link InferenceRequests}.</li>
 * </ul>
 * A numpy file is one batch (its arrays whole); a folder gives one batch per file, in file name order.
 */
public final class InputFiles {
    /** The name of the optional labels array in an {@code .npz}. */
    public static final String LABELS = "labels";

    private InputFiles() {
    }

    /**
     * Reads {@code path} by its form: a folder of request bodies, an {@code .npz} or an {@code .npy}.
     *
     * @throws BadInputException when the data cannot be read or does not fit the model; the message names the input,
     *                           what was expected, what was found and what to do
     */
    public static List<InputBatch> read(Path path, ModelSignature signature) {
        if (Files.isDirectory(path)) return InferenceRequests.readFolder(path, signature);
        if (!Files.isRegularFile(path)) {
            throw new BadInputException("no such file or folder: " + path + "; give an .npz or .npy file or a folder of "
                    + "inference request bodies (*.json)");
        }
        String name = path.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".npz")) return List.of(readNpz(path, signature));
        if (name.endsWith(".npy")) return List.of(readNpy(path, signature));
        throw new BadInputException(path + " is neither an .npz nor an .npy file nor a folder; give the model's inputs "
                + "as numpy arrays (.npz named after the inputs, .npy for a single input) or as a folder of inference "
                + "request bodies (*.json)");
    }

    /** One array for the model's single input. */
    public static InputBatch readNpy(Path file, ModelSignature signature) {
        String source = file.getFileName().toString();
        if (signature.inputs().size() != 1) {
            throw new BadInputException(source + " holds one array but the model has " + signature.inputs().size()
                    + " inputs (" + signature.describeInputs() + "); give an .npz with one array named after each input");
        }
        String input = signature.inputs().get(0).name();
        InputTensor t = NumpyArrays.read(bytes(file), source);
        Map<String, InputTensor> data = Map.of(input, t);
        signature.check(source, data);
        return new InputBatch(source, data, null);
    }

    /** Arrays named after the model's inputs, and optionally {@value #LABELS}. */
    public static InputBatch readNpz(Path file, ModelSignature signature) {
        String source = file.getFileName().toString();
        Map<String, InputTensor> data = new LinkedHashMap<>();
        InputTensor labels = null;
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                if (e.isDirectory()) continue;
                String name = e.getName().endsWith(".npy") ? e.getName().substring(0, e.getName().length() - 4) : e.getName();
                InputTensor t = NumpyArrays.read(zip.getInputStream(e).readAllBytes(), source + ": array '" + name + "'");
                if (name.equals(LABELS) && signature.input(LABELS) == null) labels = t;
                else data.put(name, t);
            }
        } catch (ZipException e) {
            throw new BadInputException(source + " is not an .npz archive (" + e.getMessage() + "); save the arrays with "
                    + "numpy.savez(path, name=array, ...)");
        } catch (IOException e) {
            throw new BadInputException("cannot read " + file + ": " + e.getMessage());
        }
        signature.check(source, data);
        Map<String, InputTensor> ordered = new LinkedHashMap<>();
        for (TensorSignature in : signature.inputs()) ordered.put(in.name(), data.get(in.name()));
        return new InputBatch(source, ordered, labels == null ? null : labels(source, labels, ordered));
    }

    private static long[] labels(String source, InputTensor labels, Map<String, InputTensor> data) {
        long rows = data.values().iterator().next().rows();
        String what = source + ": array '" + LABELS + "'";
        if (labels.shape().length != 1 || labels.rows() != rows) {
            throw new BadInputException(what + " must hold one class index per example, shape [" + rows + "], found "
                    + java.util.Arrays.toString(labels.shape()) + "; give one integer label per row of the inputs");
        }
        return switch (labels.type()) {
            case UINT8, INT8, INT16, INT32, INT64 -> {
                double[] d = labels.toDoubles();
                long[] out = new long[d.length];
                for (int i = 0; i < d.length; i++) out[i] = (long) d[i];
                yield out;
            }
            default -> throw new BadInputException(what + " is " + labels.type().describe() + " but labels are class "
                    + "indices; save them as integers (numpy: labels.astype(np.int64))");
        };
    }

    static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new BadInputException("cannot read " + file + ": " + e.getMessage());
        }
    }

    /**
     * The content identity of the inputs at {@code path}: the SHA-256 of the file, or of a folder's request bodies'
     * names and bytes in name order (what {@link #read} reads).
     */
    public static String sha256(Path path) {
        if (!Files.isDirectory(path)) return Sha256.hex(bytes(path));
        List<byte[]> parts = new ArrayList<>();
        for (Path file : jsonFiles(path)) {
            parts.add((file.getFileName().toString() + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            parts.add(bytes(file));
        }
        return Sha256.hex(parts.toArray(byte[][]::new));
    }

    /** The {@code *.json} files directly in {@code folder}, by name. */
    static List<Path> jsonFiles(Path folder) {
        try (Stream<Path> files = Files.list(folder)) {
            return new ArrayList<>(files.filter(p -> Files.isRegularFile(p)
                    && p.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".json")).sorted().toList());
        } catch (IOException e) {
            throw new BadInputException("cannot list " + folder + ": " + e.getMessage());
        }
    }
}
