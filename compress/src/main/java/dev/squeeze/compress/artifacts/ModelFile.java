package dev.squeeze.compress.artifacts;

import dev.squeeze.core.AtomicFiles;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.zoo.Network;
import org.deeplearning4j.util.ModelSerializer;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * A Squeeze model file: DL4J's model zip with our metadata ({@link ModelInfo}) as an extra entry, and
 * optionally a second entry for whatever state a stage needs to resume (e.g. training progress).
 * Written atomically; DL4J's own loader ignores the extra entries.
 */
public final class ModelFile {
    public static final String INFO_ENTRY = "squeeze-model.json";
    static final String STATE_ENTRY = "squeeze-state.json";
    /** The entry that marks an int8 model file ({@code squeeze quantize}'s output), which holds no DL4J network. */
    public static final String INT8_ENTRY = "squeeze-int8.json";

    private ModelFile() {
    }

    /** A loaded model with its metadata, and the resume state when the file holds one. */
    public record Loaded(Network network, ModelInfo info, Optional<String> stateJson) {
    }

    /**
     * Writes {@code net} with {@code info} to {@code target} atomically.
     *
     * @param withUpdater keep the optimizer state (needed to resume training; doubles the size for Adam)
     * @param stateJson   resume state to store in the same file, or null
     */
    public static void save(Path target, Network net, ModelInfo info, boolean withUpdater, String stateJson) {
        AtomicFiles.write(target, tmp -> {
            // DL4J writes a whole zip of its own; its entries are copied into ours beside the metadata. Not through a
            // zip file system: on a full disk that prints a stack trace to stderr and leaves its zipfstmp*.tmp behind.
            Path dl4j = AtomicFiles.scratch(tmp, "dl4j");
            try {
                ModelSerializer.writeModel(net.model(), dl4j.toFile(), withUpdater);
                try (ZipFile source = new ZipFile(dl4j.toFile());
                     ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp)))) {
                    for (var entries = source.entries(); entries.hasMoreElements(); ) {
                        ZipEntry entry = entries.nextElement();
                        zip.putNextEntry(new ZipEntry(entry.getName()));
                        try (InputStream in = source.getInputStream(entry)) {
                            in.transferTo(zip);
                        }
                        zip.closeEntry();
                    }
                    putText(zip, INFO_ENTRY, Json.write(info));
                    if (stateJson != null) putText(zip, STATE_ENTRY, stateJson);
                }
            } finally {
                Files.deleteIfExists(dl4j);
            }
        });
    }

    private static void putText(ZipOutputStream zip, String name, String text) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(text.getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
    }

    public static void save(Path target, Network net, ModelInfo info) {
        save(target, net, info, false, null);
    }

    /** Whether {@code file} is an int8 model file rather than a DL4J one (false when it cannot be read). */
    public static boolean isInt8(Path file) {
        try (FileSystem zip = FileSystems.newFileSystem(file)) {
            return Files.exists(zip.getPath(INT8_ENTRY));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether {@code file} carries squeeze's metadata (float or int8): a model file squeeze wrote. */
    public static boolean hasInfo(Path file) {
        try (FileSystem zip = FileSystems.newFileSystem(file)) {
            return Files.exists(zip.getPath(INFO_ENTRY));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The run id in a model file's metadata (float or int8), or null when it cannot be read. */
    public static String runIdOf(Path file) {
        try (FileSystem zip = FileSystems.newFileSystem(file)) {
            return Json.read(Files.readString(zip.getPath(INFO_ENTRY)), ModelInfo.class).runId();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The error for a folder given where a model file belongs: it says so, and names the model file inside when
     * there is one (a run folder).
     */
    public static BadInputException folderNotFile(Path dir) {
        Path inside = new RunPaths(dir).model();
        return new BadInputException(dir + " is a folder, not a model file; give "
                + (Files.isRegularFile(inside) ? "the model file inside it, " + inside : "the path of a model.zip")
                + " (or a run id from 'squeeze runs')");
    }

    /**
     * The first entry of the zip {@code file} whose name leaves the folder it would be extracted into (an absolute
     * name, or a {@code ..} element: "zip slip"), or null when there is none or the file is not a zip at all.
     * Java's zip file system refuses to open such an archive, which would otherwise read as "not a zip".
     */
    static String escapingEntry(Path file) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (var entries = zip.entries(); entries.hasMoreElements(); ) {
                String name = entries.nextElement().getName();
                String slashes = name.replace('\\', '/');
                if (slashes.startsWith("/") || java.util.Arrays.asList(slashes.split("/")).contains("..")) return name;
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Loads a model file; anything that is not one gives a {@link BadInputException} naming the file. */
    public static Loaded load(Path file, boolean withUpdater) {
        if (Files.isDirectory(file)) throw folderNotFile(file);
        if (!Files.isRegularFile(file)) {
            throw new BadInputException("model file " + file + " does not exist; train one with 'squeeze train' "
                    + "(its path is printed at the end) or list runs with 'squeeze runs'");
        }
        ModelInfo info;
        Optional<String> state;
        try (FileSystem zip = FileSystems.newFileSystem(file)) {
            if (Files.exists(zip.getPath(INT8_ENTRY))) {
                throw new BadInputException(file + " is an int8 model (written by 'squeeze quantize'): it cannot be "
                        + "trained, pruned, distilled or quantized again; evaluate it with 'squeeze eval', or start "
                        + "from the float model it was quantized from");
            }
            info = Json.read(Files.readString(zip.getPath(INFO_ENTRY)), ModelInfo.class);
            Path statePath = zip.getPath(STATE_ENTRY);
            state = Files.exists(statePath) ? Optional.of(Files.readString(statePath)) : Optional.empty();
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + " has no " + INFO_ENTRY + ": it was not written by squeeze "
                    + "(a plain DL4J model?); bring a DL4J MultiLayerNetwork or ComputationGraph in with a recipe's "
                    + "'train: from: " + file.getFileName() + "' (docs/recipes.md, 'Compress your own DL4J model'), "
                    + "or train one with 'squeeze train'");
        } catch (ZipException | java.nio.file.ProviderNotFoundException e) {
            String escaping = escapingEntry(file);
            if (escaping != null) {
                throw new BadInputException(file + " holds an entry, '" + escaping + "', that escapes its folder; "
                        + "squeeze refuses such archives (squeeze never writes one): use a model file squeeze wrote");
            }
            throw new BadInputException(file + " is not a squeeze model file (not a zip archive; truncated or "
                    + "another format)");
        } catch (IOException e) {
            throw new BadInputException("cannot read model file " + file + ": " + e.getMessage());
        }
        try {
            return new Loaded(readNetwork(file, withUpdater), info, state);
        } catch (IOException | RuntimeException e) {
            throw new BadInputException("cannot load the network in " + file + ": " + e.getMessage());
        }
    }

    /**
     * The DL4J network in a zip written by DL4J's {@code ModelSerializer} (a squeeze model file is one): a
     * ComputationGraph when its configuration has vertices, else a MultiLayerNetwork.
     */
    public static Network readNetwork(Path file, boolean withUpdater) throws IOException {
        boolean graph;
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ZipEntry conf = zip.getEntry("configuration.json");
            if (conf == null) throw new IOException("it has no configuration.json: not a DL4J model zip");
            try (InputStream in = zip.getInputStream(conf)) {
                graph = new com.fasterxml.jackson.databind.ObjectMapper().readTree(in).has("vertices");
            }
        }
        return Network.of(graph ? ModelSerializer.restoreComputationGraph(file.toFile(), withUpdater)
                : ModelSerializer.restoreMultiLayerNetwork(file.toFile(), withUpdater));
    }
}
