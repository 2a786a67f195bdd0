package dev.squeeze.compress.onnx;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.core.AtomicFiles;
import dev.squeeze.core.ExportProvenance;
import dev.squeeze.compress.artifacts.CodeVersion;
import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.runs.ModelSource;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.eval.Classifier;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.NewRun;
import dev.squeeze.compress.ledger.RecordedRun;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.stage.Stage;
import dev.squeeze.compress.stage.StageResult;
import dev.squeeze.compress.stage.StageRun;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunResult;
import dev.squeeze.compress.network.Dl4jLayers;
import dev.squeeze.compress.quant.Int4Linear;
import dev.squeeze.compress.quant.WeightOnlyInt8Linear;
import dev.squeeze.compress.quant.Int8Linear;
import dev.squeeze.compress.quant.QuantizedModelFile;
import dev.squeeze.compress.network.StepNetwork;
import dev.squeeze.compress.train.StageEnvironment;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.settings.SettingSpec;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.zoo.Network;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

/**
 * {@code squeeze export}: writes a float or int8 model as ONNX, loads the graph in ONNX Runtime and measures it on
 * the test set (accuracy, and parity with the model it came from) before the file is written, so the metadata's
 * accuracy is the file's own. Pruned weights are written as sparse initializers where smaller
 * ({@link SparseInitializers}, {@link ExportParams#sparse()}), and it is that graph that is measured. The file appears
 * whole or not at all.
 */
public final class ExportService {
    public static final String STAGE = "export";
    /** ONNX Runtime's integer kernels, looked for in the optimized graph of an int8 export. */
    static final Set<String> INTEGER_KERNELS = Set.of("QGemm", "QLinearConv", "QLinearMatMul", "MatMulInteger",
            "ConvInteger", "QLinearAdd", "QLinearGlobalAveragePool");
    /** ONNX Runtime's 4-bit kernel, looked for in the optimized graph of an export with 4-bit weights. */
    static final String FOUR_BIT_KERNEL = "MatMulNBits";
    /** The first opset whose DequantizeLinear takes INT4 and blocks ({@code block_size}): what 4-bit weights need. */
    public static final long FOUR_BIT_OPSET = 21;

    private final StageEnvironment env;

    public ExportService(Workspace workspace, DatasetLocator locator, TrainingMonitor monitor) {
        this.env = new StageEnvironment(workspace, locator, monitor);
    }

    /** The model to export: its network in Squeeze's form, its metadata, the DL4J network when float. */
    private record Source(Path file, RunRecord run, StepNetwork network, Network dl4j, ModelInfo info) {
        boolean int8() {
            return dl4j == null;
        }
    }

    /**
     * Exports into the run folder named by the source and the settings (an identical finished export is reused, not
     * measured again), then copies the file to {@code output}.
     *
     * @param from    a finished run id (or prefix) with a model file, or a model file (float or int8)
     * @param output  the .onnx file to write, or null to leave the file in its run folder only
     * @param dataDir where the dataset's files are, or null to locate them
     */
    public ExportOutcome export(String from, Path output, long opset, Path dataDir) {
        return export(from, output, new ExportParams(null, opset), dataDir);
    }

    /**
     * {@link #export(String, Path, long, Path)} with every setting given ({@code settings}' source is ignored: the
     * source is {@code from}).
     */
    public ExportOutcome export(String from, Path output, ExportParams settings, Path dataDir) {
        // Checked before the source is loaded: a bad setting is refused at once, naming it.
        ExportParams requested = ExportParams.SETTINGS.check(settings.withSource(null));
        Path target = output == null ? null : output.toAbsolutePath().normalize();
        if (target != null) {
            if (Files.isDirectory(target)) throw new BadInputException("--output " + output + " is a folder; give the .onnx file to write");
            RunPaths.requireWritable(target.getParent());
        }
        Source source = load(from);
        ExportParams params = ExportParams.SETTINGS.with(requested.withSource(source.run() != null ? source.run().id()
                : source.file().toAbsolutePath().normalize().toString()).withCurrentWriter(), "opset",
                opsetFor(source.network(), requested.opset()));
        StageResult<ExportOutcome> exported = env.runner().run(new Export(source, target, dataDir), params);
        if (target == null) return exported.outcome();
        Path inFolder = onnxFile(exported.paths());
        AtomicFiles.copy(inFolder, target);
        return exported.outcome().withOutput(target.toString());
    }

    /**
     * The opset to write: the one asked for, or {@link #FOUR_BIT_OPSET} for a model with 4-bit weights when the
     * default was left (the default names no need of its own; any other opset below 21 was chosen, and is refused).
     */
    static long opsetFor(StepNetwork network, long requested) {
        if (fourBitLayers(network) == 0 || requested >= FOUR_BIT_OPSET) return requested;
        if (requested == ExportParams.DEFAULT_OPSET) return FOUR_BIT_OPSET;
        throw new BadInputException("--opset " + requested + ": this model has 4-bit weights, which ONNX writes with "
                + "opset " + FOUR_BIT_OPSET + "'s INT4 DequantizeLinear in blocks; leave --opset out (a 4-bit model is "
                + "exported at " + FOUR_BIT_OPSET + ") or give --opset " + FOUR_BIT_OPSET);
    }

    private static long fourBitLayers(StepNetwork network) {
        return network.linearSteps().stream().filter(s -> s instanceof Int4Linear).count();
    }

    /** What the export holds: float, int8, int4 (4-bit dense weights, the rest float) or int4+int8 (mixed). */
    static String mode(StepNetwork network) {
        boolean int8 = network.linearSteps().stream().anyMatch(s -> s instanceof Int8Linear
                || s instanceof WeightOnlyInt8Linear);
        if (fourBitLayers(network) > 0) return int8 ? "int4+int8" : "int4";
        return int8 || !network.isFullyFloat() ? "int8" : "float";
    }

    /** The IR version written with {@code opset}: the lowest that reads it (10 for opset 21, with INT4). */
    static long irVersion(long opset) {
        return opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
    }

    /** The ONNX file in an export's run folder. */
    static Path onnxFile(RunPaths paths) {
        return paths.dir().resolve("model.onnx");
    }

    /** The export stage: the graph written into its run folder once measured in ONNX Runtime. */
    private final class Export implements Stage<ExportParams, ExportOutcome> {
        private final Source source;
        private final Path target;
        private final Path dataDir;

        Export(Source source, Path target, Path dataDir) {
            this.source = source;
            this.target = target;
            this.dataDir = dataDir;
        }

        @Override
        public Definition<ExportParams, ExportOutcome> definition() {
            return new Definition<>(STAGE, ExportParams.HASH_BASE, ExportOutcome.class,
                    "interrupted; nothing was written");
        }

        @Override
        public NewRun row(ExportParams params, ConfigHash hash) {
            ModelInfo info = source.info();
            return NewRun.of(STAGE, info.model(), info.dataset(), hash)
                    .withParent(source.run() == null ? null : source.run().id())
                    .withNotes((source.int8() ? mode(source.network()) + " QDQ" : "float") + " ONNX, opset " + params.opset()
                            + (params.sparse() == SparseStorage.NEVER ? "" : ", sparse " + SettingSpec.label(params.sparse()))
                            + (target == null ? "" : ": " + target));
        }

        @Override
        public String reusedMessage(ExportParams params, RunRecord run) {
            return "already exported with these settings as run " + run.id()
                    + (target == null ? "" : "; copying to " + target);
        }

        @Override
        public Optional<ExportOutcome> adopt(RunRecord finished, RunPaths paths) {
            // Exports before run folders wrote into --output's folder: only a row whose outcome file was lost (a full
            // disk after the row finished) has its file here.
            if (!Files.isRegularFile(onnxFile(paths)) || finished.details() == null) return Optional.empty();
            try {
                return Optional.of(Json.read(finished.details(), ExportOutcome.class));
            } catch (IOException e) {
                return Optional.empty();
            }
        }

        @Override
        public RecordedRun.Finished<ExportOutcome> run(StageRun<ExportParams> run) {
            ExportOutcome outcome = export(run.row(), source, onnxFile(run.paths()), run.params(),
                    parents(run.ledger(), source.run()), dataDir);
            return new RecordedRun.Finished<>(RunResult.of(null, null, outcome.onnxTestAccuracy())
                    .withSizes(outcome.params(), outcome.nonzeroParams(), outcome.fileBytes())
                    .withDetails(Json.writeCompact(outcome)), outcome);
        }
    }

    private ExportOutcome export(RunRecord run, Source source, Path target, ExportParams params,
                                 List<ExportProvenance.ParentRun> parents, Path dataDir) {
        TrainingMonitor monitor = env.monitor();
        DatasetLocator locator = env.locator();
        ModelInfo info = source.info();
        String mode = source.int8() ? mode(source.network()) : "float";
        OnnxGraph graph = OnnxExporter.graph(source.network(), info.normalization(), info.model());
        long ir = irVersion(params.opset());
        OnnxMl.ModelProto dense = graph.model(ir, params.opset(), version(), "", Map.of());
        // Measured as written: the sparse graph is the one ONNX Runtime loads, densifies, optimizes and runs here.
        SparseInitializers.Result stored = SparseInitializers.apply(dense, params.sparse());
        byte[] unlabelled = stored.model().toByteArray();

        LabeledData rawTest = info.openDataset(null, dataDir, locator, monitor::message).test();
        LabeledData normalizedTest = info.normalization().apply(rawTest);
        Classifier reference = source.int8() ? source.network() : source.dl4j()::output;
        float[][] want = Evaluator.probabilities(reference, normalizedTest);
        double sourceAccuracy = Evaluator.evaluate(reference, normalizedTest, info.classNames()).accuracy();

        monitor.message("run " + run.id() + ": measuring the " + mode + " graph in ONNX Runtime on " + rawTest.size()
                + " test examples");
        Path optimized = null;
        float[][] got;
        String fused = "";
        long fourBitFused = 0;
        boolean int8Fused = false;
        boolean packed = stored.model().getGraph().getNodeList().stream().anyMatch(PackedWeights::isUnpack);
        Set<String> unfolded = Set.of();
        try {
            if (source.int8() || packed) optimized = Files.createTempFile(target.getParent(), ".optimized-", ".onnx");
            try (OnnxRuntimeModel ort = new OnnxRuntimeModel(unlabelled, info.inputShape(), 1, optimized)) {
                got = ort.runAll(OnnxExporter.PROBABILITIES, rawTest);
            }
            OnnxMl.GraphProto optimizedGraph = optimized == null ? null
                    : OnnxMl.ModelProto.parseFrom(Files.readAllBytes(optimized)).getGraph();
            if (source.int8()) {
                List<String> kernels = kernels(optimizedGraph);
                fused = String.join(", ", new TreeSet<>(kernels));
                fourBitFused = kernels.stream().filter(FOUR_BIT_KERNEL::equals).count();
                int8Fused = kernels.stream().anyMatch(INTEGER_KERNELS::contains);
            }
            if (packed) unfolded = unfoldedUnpacking(optimizedGraph, dense, params.opset());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write ONNX Runtime's optimized graph next to " + target, e);
        } finally {
            deleteQuietly(optimized);
        }
        int agree = 0;
        int correct = 0;
        double maxDiff = 0;
        for (int i = 0; i < got.length; i++) {
            int top = Evaluator.argmax(got[i]);
            if (top == Evaluator.argmax(want[i])) agree++;
            if (top == rawTest.labels()[i]) correct++;
            for (int j = 0; j < got[i].length; j++) maxDiff = Math.max(maxDiff, Math.abs(got[i][j] - want[i][j]));
        }
        double accuracy = (double) correct / got.length;
        double agreement = (double) agree / got.length;
        if (!unfolded.isEmpty()) {
            throw new IllegalStateException("ONNX Runtime left the packed weights' unpacking (" + String.join(", ", unfolded)
                    + ") in the graph it runs, to be computed per request; not written. Export with --sparse int64 "
                    + "(nothing packed) and report this");
        }
        boolean int8Layers = source.network().linearSteps().stream().anyMatch(s -> s instanceof Int8Linear);
        boolean floatActivations = source.network().linearSteps().stream()
                .anyMatch(s -> s instanceof Int4Linear || s instanceof WeightOnlyInt8Linear);
        if (source.int8() && (int8Layers || !floatActivations) && !int8Fused) {
            throw new IllegalStateException("ONNX Runtime did not fuse the int8 graph into integer kernels; not written");
        }
        long fourBit = fourBitLayers(source.network());
        if (fourBit > 0 && fourBitFused != fourBit) {
            throw new IllegalStateException("ONNX Runtime fused " + fourBitFused + " of the " + fourBit + " 4-bit layers "
                    + "into " + FOUR_BIT_KERNEL + "; not written");
        }

        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("classes", Json.writeCompact(info.classNames()));
        metadata.put("input", describeInput(info));
        metadata.put(ExportProvenance.METADATA_KEY, provenance(run, source, parents, params, mode, accuracy, rawTest.size(),
                info).write());
        String doc = "Squeeze " + mode + " export of " + info.model() + " trained on " + info.dataset();
        byte[] bytes = OnnxGraph.labelled(stored.model(), doc, metadata).toByteArray();
        long denseBytes = stored.tensors().isEmpty() ? bytes.length
                : OnnxGraph.labelled(dense, doc, metadata).getSerializedSize();
        AtomicFiles.write(target, tmp -> Files.write(tmp, bytes));
        return new ExportOutcome(run.id(), source.run() == null ? null : source.run().id(), source.file().toString(),
                target.toString(), mode, params.opset(), bytes.length, zippedSize(bytes), source.network().parameterCount(),
                source.network().nonzeroParameterCount(), got.length, sourceAccuracy, accuracy,
                source.int8() ? Double.NaN : maxDiff, agreement, fused, SettingSpec.label(params.sparse()), denseBytes,
                stored.tensors());
    }

    private Source load(String from) {
        ModelSource named = ModelSource.resolve(from, env.workspace(), "export");
        if (named.int8()) {
            QuantizedModelFile.Loaded loaded = QuantizedModelFile.load(named.file());
            return new Source(named.file(), named.run(), loaded.network(), null, loaded.info());
        }
        ModelFile.Loaded loaded = ModelFile.load(named.file(), false);
        return new Source(named.file(), named.run(), Dl4jLayers.toFloatNetwork(loaded.network(), loaded.info().inputShape()),
                loaded.network(), loaded.info());
    }

    /** The run's ancestors in the ledger, nearest first (the source run, its parent, ...). */
    private static List<ExportProvenance.ParentRun> parents(RunLedger ledger, RunRecord run) {
        List<ExportProvenance.ParentRun> out = new ArrayList<>();
        for (RunRecord r = run; r != null && out.size() < 32; r = r.parentId() == null ? null : ledger.get(r.parentId()).orElse(null)) {
            out.add(new ExportProvenance.ParentRun(r.id(), r.stage()));
        }
        return out;
    }

    private static ExportProvenance provenance(RunRecord run, Source source, List<ExportProvenance.ParentRun> parents,
                                               ExportParams params, String mode, double accuracy, int examples,
                                               ModelInfo info) {
        String onnxruntime = ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion();
        ExportProvenance.Libraries libraries = new ExportProvenance.Libraries(version(),
                mavenVersion("org.deeplearning4j", "deeplearning4j-nn", org.deeplearning4j.nn.api.Model.class), onnxruntime, params.opset());
        ExportProvenance.AccuracyAtExport acc = new ExportProvenance.AccuracyAtExport(accuracy, examples, info.dataset(),
                "onnxruntime " + onnxruntime + " (CPU, optimization level ALL)");
        return new ExportProvenance(run.id(), source.run() == null ? null : source.run().id(), info.configHash(), parents,
                mode, CodeVersion.commit(), libraries, acc, Instant.now().toString());
    }

    private static String describeInput(ModelInfo info) {
        boolean image = info.inputShape().length == 3;
        StringBuilder s = new StringBuilder("float32 [batch");
        for (long d : info.inputShape()) s.append(", ").append(d);
        s.append("]: ").append(image ? "raw pixel values 0-255 (channels, height, width)" : "raw feature values as in the CSV, "
                + "categorical columns one-hot encoded");
        s.append("; normalization is part of the graph. Outputs: logits and probabilities over the classes in 'classes'.");
        return s.toString();
    }

    /**
     * The operators of the Unpack function that ONNX Runtime's optimized graph still runs and the graph without
     * packing does not have: none when it folded the unpacking at load, as it must.
     */
    static Set<String> unfoldedUnpacking(OnnxMl.GraphProto optimized, OnnxMl.ModelProto unpacked, long opset) {
        Set<String> unpacking = new TreeSet<>();
        PackedWeights.function(opset).getNodeList().forEach(n -> unpacking.add(n.getOpType()));
        unpacked.getGraph().getNodeList().forEach(n -> unpacking.remove(n.getOpType()));
        Set<String> left = new TreeSet<>();
        for (OnnxMl.NodeProto n : optimized.getNodeList()) {
            if (unpacking.contains(n.getOpType())) left.add(n.getOpType());
        }
        return left;
    }

    /** The integer and 4-bit kernels of ONNX Runtime's optimized graph, one entry per node. */
    static List<String> kernels(OnnxMl.GraphProto optimized) {
        List<String> ops = new ArrayList<>();
        for (OnnxMl.NodeProto n : optimized.getNodeList()) {
            if (INTEGER_KERNELS.contains(n.getOpType()) || FOUR_BIT_KERNEL.equals(n.getOpType())) ops.add(n.getOpType());
        }
        return ops;
    }

    static long zippedSize(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(out, new Deflater(Deflater.DEFAULT_COMPRESSION))) {
            z.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.size();
    }

    private static String version() {
        String commit = CodeVersion.commit();
        return commit == null ? "dev" : commit;
    }

    private static String mavenVersion(String group, String artifact, Class<?> anchor) {
        try (InputStream in = anchor.getResourceAsStream("/META-INF/maven/" + group + "/" + artifact + "/pom.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static void deleteQuietly(Path p) {
        if (p == null) return;
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover temporary file is not worth failing the export for
        }
    }
}
