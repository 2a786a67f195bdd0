package dev.squeeze.compress.quant;

import org.nd4j.shade.jackson.core.JsonProcessingException;
import dev.squeeze.core.AtomicFiles;
import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.network.FloatLinear;
import dev.squeeze.compress.network.Geometry;
import dev.squeeze.compress.network.StepNetwork;
import dev.squeeze.compress.network.Step;
import dev.squeeze.core.BadInputException;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * An int8 model file: a zip holding {@link ModelInfo} ({@code squeeze-model.json}, as in every model file), the
 * network's steps with their scales, zero points and int32 biases ({@code squeeze-int8.json}; a residual block holds
 * the steps of its two paths), and one binary entry per layer: int8 weights as raw bytes, or float32 little-endian
 * for layers kept in float; a 4-bit layer ({@link Int4Linear}) has its codes packed two to a byte as ONNX packs INT4,
 * and its block scales and float biases as float32 entries; a layer with int8 weights and float activations
 * ({@link WeightOnlyInt8Linear}) has its weights as raw bytes and its biases as float32. Written atomically. Version 2
 * added residual blocks and global pooling, version 3 4-bit layers, version 4 int8 weights with float activations; a
 * file is written at the lowest version that holds it (a network with none of them as version 1, which every Squeeze
 * reads).
 */
public final class QuantizedModelFile {
    static final String FORMAT = "squeeze-int8";
    static final int VERSION = 4;
    /** The version of a file with 4-bit layers but no layer with int8 weights and float activations. */
    static final int FOUR_BIT_VERSION = 3;
    /** The version of a file with residual blocks or global pooling but no 4-bit layer. */
    static final int RESIDUAL_VERSION = 2;
    /** The version of a file without residual blocks or global pooling. */
    static final int LAYER_STACK_VERSION = 1;

    private QuantizedModelFile() {
    }

    public record Loaded(StepNetwork network, ModelInfo info) {
    }

    /**
     * One step as stored; fields not used by a step's type are null. A residual block uses label, activation, output
     * (null when it adds real values) and the steps of its two paths, main and shortcut.
     */
    record StepSpec(String type, long[] shape, Step.Pooling pooling, Integer layer, String label, Geometry.Conv conv,
                    long[] weightShape, Integer channelAxis, float[] scales, int[] bias, ActivationQuant input,
                    ActivationQuant output, Boolean relu, String activation, String weights, String floatBias,
                    Step.GlobalPooling globalPooling, List<StepSpec> main, List<StepSpec> shortcut, Integer blockSize,
                    String blockScales) {
    }

    record NetworkSpec(String format, int version, long[] inputShape, List<StepSpec> steps) {
    }

    public static void save(Path target, StepNetwork network, ModelInfo info) {
        Map<String, byte[]> blobs = new HashMap<>();
        List<StepSpec> specs = new ArrayList<>();
        for (Step step : network.steps()) specs.add(spec(step, blobs));
        boolean layerStack = network.flattened().stream()
                .noneMatch(st -> st instanceof Step.Residual || st instanceof Step.GlobalPooling);
        boolean fourBit = network.flattened().stream().anyMatch(st -> st instanceof Int4Linear);
        boolean weightOnly = network.flattened().stream().anyMatch(st -> st instanceof WeightOnlyInt8Linear);
        int version = weightOnly ? VERSION : fourBit ? FOUR_BIT_VERSION : layerStack ? LAYER_STACK_VERSION
                : RESIDUAL_VERSION;
        String json = Json.write(new NetworkSpec(FORMAT, version, network.inputShape(), specs));
        AtomicFiles.write(target, tmp -> {
            try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(tmp))) {
                put(zip, ModelFile.INFO_ENTRY, Json.write(info).getBytes(StandardCharsets.UTF_8));
                put(zip, ModelFile.INT8_ENTRY, json.getBytes(StandardCharsets.UTF_8));
                for (var e : blobs.entrySet()) put(zip, e.getKey(), e.getValue());
            }
        });
    }

    public static Loaded load(Path file) {
        if (Files.isDirectory(file)) throw ModelFile.folderNotFile(file);
        if (!Files.isRegularFile(file)) throw new BadInputException("model file " + file + " does not exist");
        Map<String, byte[]> entries = new HashMap<>();
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(file))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) entries.put(e.getName(), zip.readAllBytes());
        } catch (ZipException e) {
            throw new BadInputException(file + " is not a squeeze model file (not a zip archive)");
        } catch (IOException e) {
            throw new BadInputException("cannot read model file " + file + ": " + e.getMessage());
        }
        byte[] spec = entries.get(ModelFile.INT8_ENTRY);
        byte[] info = entries.get(ModelFile.INFO_ENTRY);
        if (spec == null || info == null) {
            throw new BadInputException(file + " is not an int8 model file (no " + ModelFile.INT8_ENTRY + "); "
                    + "make one with 'squeeze quantize'");
        }
        try {
            NetworkSpec net = Json.read(new String(spec, StandardCharsets.UTF_8), NetworkSpec.class);
            if (!FORMAT.equals(net.format()) || net.version() > VERSION) {
                throw new BadInputException(file + " is int8 format " + net.format() + " v" + net.version()
                        + "; this squeeze reads " + FORMAT + " v" + VERSION + "; upgrade squeeze");
            }
            return new Loaded(new StepNetwork(net.inputShape(), steps(net.steps(), entries, file)),
                    Json.read(new String(info, StandardCharsets.UTF_8), ModelInfo.class));
        } catch (IOException | RuntimeException e) {
            if (e instanceof BadInputException b) throw b;
            throw new BadInputException("cannot read the int8 network in " + file + ": " + e.getMessage());
        }
    }

    private static StepSpec spec(Step step, Map<String, byte[]> blobs) {
        if (step instanceof Step.Reshape r) {
            return new StepSpec("reshape", r.exampleShape(), null, null, null, null, null, null, null, null, null, null,
                    null, null, null, null, null, null, null, null, null);
        }
        if (step instanceof Step.Pooling p) {
            return new StepSpec("pooling", null, p, null, null, null, null, null, null, null, null, null, null, null,
                    null, null, null, null, null, null, null);
        }
        if (step instanceof Step.GlobalPooling p) {
            return new StepSpec("globalpooling", null, null, null, null, null, null, null, null, null, null, null, null,
                    null, null, null, p, null, null, null, null);
        }
        if (step instanceof Step.Residual r) {
            List<StepSpec> main = new ArrayList<>();
            List<StepSpec> shortcut = new ArrayList<>();
            for (Step s : r.main()) main.add(spec(s, blobs));
            for (Step s : r.shortcut()) shortcut.add(spec(s, blobs));
            return new StepSpec("residual", null, null, null, r.label(), null, null, null, null, null, null, r.output(),
                    null, activationJson(r.activation()), null, null, null, main, shortcut, null, null);
        }
        if (step instanceof Int8Linear q) {
            String entry = "layer-" + q.layer() + ".int8";
            blobs.put(entry, q.weights().values());
            return new StepSpec("int8", null, null, q.layer(), q.label(), conv(q.geometry()), q.weights().shape(),
                    q.weights().channelAxis(), q.weights().scales(), q.bias(), q.input(), q.output(), q.relu(),
                    q.activation() == null ? null : activationJson(q.activation()), entry, null, null, null, null, null, null);
        }
        if (step instanceof WeightOnlyInt8Linear q) {
            String entry = "layer-" + q.layer() + ".int8";
            String biasEntry = "layer-" + q.layer() + "-bias.f32";
            blobs.put(entry, q.weights().values());
            blobs.put(biasEntry, floats(q.bias()));
            return new StepSpec("int8-weights", null, null, q.layer(), q.label(), conv(q.geometry()), q.weights().shape(),
                    q.weights().channelAxis(), q.weights().scales(), null, null, null, null, activationJson(q.activation()),
                    entry, biasEntry, null, null, null, null, null);
        }
        if (step instanceof Int4Linear q) {
            String entry = "layer-" + q.layer() + ".int4";
            String scalesEntry = "layer-" + q.layer() + "-scales.f32";
            String biasEntry = "layer-" + q.layer() + "-bias.f32";
            blobs.put(entry, q.weights().packed());
            blobs.put(scalesEntry, floats(Nd4j.createFromArray(q.weights().scales())));
            blobs.put(biasEntry, floats(q.bias()));
            return new StepSpec("int4", null, null, q.layer(), q.label(), null, q.weights().shape(), null, null, null,
                    null, null, null, activationJson(q.activation()), entry, biasEntry, null, null, null,
                    q.weights().blockSize(), scalesEntry);
        }
        FloatLinear f = (FloatLinear) step;
        String entry = "layer-" + f.layer() + ".f32";
        String biasEntry = "layer-" + f.layer() + "-bias.f32";
        blobs.put(entry, floats(f.weights()));
        blobs.put(biasEntry, floats(f.bias()));
        return new StepSpec("float", null, null, f.layer(), f.label(), conv(f.geometry()), f.weights().shape(), null,
                null, null, null, null, null, activationJson(f.activation()), entry, biasEntry, null, null, null, null, null);
    }

    private static Step step(StepSpec s, Map<String, byte[]> entries, Path file) throws IOException {
        return switch (s.type()) {
            case "reshape" -> new Step.Reshape(s.shape());
            case "pooling" -> s.pooling();
            case "globalpooling" -> s.globalPooling();
            case "residual" -> new Step.Residual(s.label(), steps(s.main(), entries, file), steps(s.shortcut(), entries, file),
                    activation(s.activation()), s.output());
            case "int8" -> new Int8Linear(s.layer(), s.label(), geometry(s.conv()), int8Weights(s, entries, file),
                    s.bias(), s.input(), s.output(), Boolean.TRUE.equals(s.relu()),
                    s.activation() == null ? null : activation(s.activation()));
            case "int8-weights" -> new WeightOnlyInt8Linear(s.layer(), s.label(), geometry(s.conv()),
                    int8Weights(s, entries, file), floats(blob(entries, s.floatBias(), file), null),
                    activation(s.activation()));
            case "int4" -> new Int4Linear(s.layer(), s.label(), new Int4Weights(
                    Int4Weights.unpack(blob(entries, s.weights(), file), (int) (s.weightShape()[0] * s.weightShape()[1])),
                    s.weightShape(), s.blockSize(), floats(blob(entries, s.blockScales(), file), null).toFloatVector()),
                    floats(blob(entries, s.floatBias(), file), null), activation(s.activation()));
            case "float" -> new FloatLinear(s.layer(), s.label(), geometry(s.conv()),
                    floats(blob(entries, s.weights(), file), s.weightShape()),
                    floats(blob(entries, s.floatBias(), file), null), activation(s.activation()));
            default -> throw new BadInputException(file + " holds an unknown step type '" + s.type() + "'");
        };
    }

    /** A stored layer's int8 weights: its raw-bytes entry, shape, channel axis and scales. */
    private static QuantizedWeights int8Weights(StepSpec s, Map<String, byte[]> entries, Path file) {
        return new QuantizedWeights(blob(entries, s.weights(), file), s.weightShape(), s.channelAxis(), s.scales());
    }

    private static List<Step> steps(List<StepSpec> specs, Map<String, byte[]> entries, Path file) throws IOException {
        List<Step> out = new ArrayList<>();
        if (specs != null) for (StepSpec s : specs) out.add(step(s, entries, file));
        return out;
    }

    private static Geometry.Conv conv(Geometry g) {
        return g instanceof Geometry.Conv c ? c : null;
    }

    private static Geometry geometry(Geometry.Conv conv) {
        return conv == null ? new Geometry.Dense() : conv;
    }

    private static String activationJson(IActivation a) {
        try {
            return NeuralNetConfiguration.mapper().writeValueAsString(a);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write activation " + a, e);
        }
    }

    private static IActivation activation(String json) throws IOException {
        return NeuralNetConfiguration.mapper().readValue(json, IActivation.class);
    }

    private static byte[] blob(Map<String, byte[]> entries, String name, Path file) {
        byte[] b = entries.get(name);
        if (b == null) throw new BadInputException(file + " is missing its entry " + name + " (truncated?)");
        return b;
    }

    private static byte[] floats(INDArray a) {
        float[] v = a.castTo(DataType.FLOAT).dup('c').data().asFloat();
        ByteBuffer buf = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(v);
        return buf.array();
    }

    private static INDArray floats(byte[] bytes, long[] shape) {
        float[] v = new float[bytes.length / Float.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return shape == null ? Nd4j.createFromArray(v) : Nd4j.create(v, shape, 'c');
    }

    private static void put(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(bytes);
        zip.closeEntry();
    }

}
