package dev.squeeze.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How a Squeeze ONNX export was made: the JSON stored under the ONNX file's {@code metadata_props} key
 * {@value #METADATA_KEY}. {@code squeeze export} writes it; {@code squeeze bench} reads it for the run to hang the
 * benchmark under, the dataset to measure on and the model's kind; the server's benchmark reads the accuracy at
 * export when it has no test set. {@code squeeze quantize --from model.onnx} writes it too, with the source file's
 * SHA-256 and, when it was given inputs, the figures of what quantization cost ({@link Figures}): {@code bench} takes
 * those as a model's fidelity to its float source when it has no labelled test set. The JSON field names (snake_case)
 * are the file format: files exported before this record existed read back the same, and fields added later must be
 * optional (unknown fields are ignored on read; the whole JSON, modelled or not, is {@link #readTree}).
 *
 * @param exportRun        the ledger id of the export run that wrote the file
 * @param sourceRun        the ledger id of the run that produced the exported model, or null for a model file given
 *                         by path that no run recorded
 * @param sourceConfigHash the settings hash stored in the source model file (its {@code configHash}), or null
 * @param parentRuns       the source run and its ancestors in the ledger, nearest first: the source run, its parent,
 *                         ... (at most 32; empty when there is no source run)
 * @param mode             what kind of graph was written: {@code float} or {@code int8}
 * @param codeCommit       the git commit of the Squeeze code that exported, or {@code unknown}
 * @param libraries        the versions of the libraries involved
 * @param accuracyAtExport the exported graph's test accuracy as measured with ONNX Runtime at export time
 * @param exportedAt       when the file was written, an ISO-8601 instant ({@code 2026-12-06T04:20:00.123Z})
 * @param sourceSha256     for a file quantized from an ONNX file: that file's SHA-256 (lowercase hex); null for
 *                         exports (left out of the JSON when null)
 * @param figures          for a file quantized from an ONNX file with inputs: what quantization cost, measured
 *                         against that source file; null otherwise (left out of the JSON when null)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ExportProvenance(
        @JsonProperty("export_run") String exportRun,
        @JsonProperty("source_run") String sourceRun,
        @JsonProperty("source_config_hash") String sourceConfigHash,
        @JsonProperty("parent_runs") List<ParentRun> parentRuns,
        @JsonProperty("mode") String mode,
        @JsonProperty("code_commit") String codeCommit,
        @JsonProperty("libraries") Libraries libraries,
        @JsonProperty("accuracy_at_export") AccuracyAtExport accuracyAtExport,
        @JsonProperty("exported_at") String exportedAt,
        @JsonProperty("source_sha256") @JsonInclude(JsonInclude.Include.NON_NULL) String sourceSha256,
        @JsonProperty("figures") @JsonInclude(JsonInclude.Include.NON_NULL) Figures figures) {

    /** The ONNX {@code metadata_props} key that holds the provenance JSON. */
    public static final String METADATA_KEY = "squeeze";

    // Plain Jackson, compact; nulls are written (a file from a path-given model says "source_run":null). An accuracy
    // over no examples is NaN, which Jackson writes as a bare NaN token: read it back rather than drop the record.
    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    public ExportProvenance {
        parentRuns = parentRuns == null ? List.of() : List.copyOf(parentRuns);
    }

    /** An export's provenance: no source file SHA-256, no figures. */
    public ExportProvenance(String exportRun, String sourceRun, String sourceConfigHash, List<ParentRun> parentRuns,
                            String mode, String codeCommit, Libraries libraries, AccuracyAtExport accuracyAtExport,
                            String exportedAt) {
        this(exportRun, sourceRun, sourceConfigHash, parentRuns, mode, codeCommit, libraries, accuracyAtExport,
                exportedAt, null, null);
    }

    /**
     * The provenance in an ONNX file's metadata, or empty where there is none: ONNX files from elsewhere, or a
     * {@value #METADATA_KEY} entry that is not this record's JSON (it is only ever informational, so an unreadable
     * one is treated as absent rather than failing a benchmark).
     */
    public static Optional<ExportProvenance> read(Map<String, String> metadata) {
        String json = metadata == null ? null : metadata.get(METADATA_KEY);
        if (json == null) return Optional.empty();
        try {
            return Optional.ofNullable(JSON.readValue(json, ExportProvenance.class));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * The provenance in an ONNX file's metadata as a JSON object, every field, including those this record does not
     * model (a quantized file's settings, its quantized nodes, ...); empty where there is none or it is not a JSON
     * object. Non-finite numbers (an accuracy over no examples is NaN) are read as such.
     */
    public static Optional<JsonNode> readTree(Map<String, String> metadata) {
        String json = metadata == null ? null : metadata.get(METADATA_KEY);
        if (json == null) return Optional.empty();
        try {
            JsonNode tree = JSON.readTree(json);
            return tree != null && tree.isObject() ? Optional.of(tree) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** This record as the one-line JSON stored under {@value #METADATA_KEY}. */
    public String write() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The stages of {@link #parentRuns}, nearest first, skipping entries without one (e.g. {@code quantize, prune, train}). */
    public List<String> parentStages() {
        return parentRuns.stream().map(ParentRun::stage).filter(s -> s != null && !s.isEmpty()).toList();
    }

    /**
     * One ancestor run: its ledger id and its stage. Stored as the text {@code "ID (STAGE)"} (the format since the
     * first exports, kept so old and new files read alike); an entry without the parenthesized stage reads as an id
     * with a null stage.
     */
    public record ParentRun(String id, String stage) {

        @JsonCreator
        public static ParentRun parse(String text) {
            if (text == null) return new ParentRun(null, null);
            int open = text.lastIndexOf(" (");
            if (open > 0 && text.endsWith(")")) {
                return new ParentRun(text.substring(0, open), text.substring(open + 2, text.length() - 1));
            }
            return new ParentRun(text, null);
        }

        @JsonValue
        @Override
        public String toString() {
            return stage == null ? id : id + " (" + stage + ")";
        }
    }

    /**
     * Library versions at export.
     *
     * @param squeeze        Squeeze's version (its git commit, or {@code dev})
     * @param deeplearning4j the DL4J version that trained or held the source model, or {@code unknown}
     * @param onnxruntime    the ONNX Runtime version that checked the exported graph
     * @param onnxOpset      the ONNX opset the graph was written for (stored as a string, as from the start)
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Libraries(
            @JsonProperty("squeeze") String squeeze,
            @JsonProperty("deeplearning4j") String deeplearning4j,
            @JsonProperty("onnxruntime") String onnxruntime,
            @JsonProperty("onnx_opset") @JsonFormat(shape = JsonFormat.Shape.STRING) long onnxOpset) {
    }

    /**
     * The exported graph's accuracy, measured by the exporter with ONNX Runtime on the dataset's test set.
     *
     * @param testAccuracy the fraction of test examples classified correctly (0..1), or null if not recorded
     * @param examples     how many test examples were run, or null if not recorded
     * @param dataset      the dataset name whose test set was used (also the default dataset for {@code bench})
     * @param measuredWith how it was measured, e.g. {@code onnxruntime 1.20.0 (CPU, optimization level ALL)}
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record AccuracyAtExport(
            @JsonProperty("test_accuracy") Double testAccuracy,
            @JsonProperty("examples") Integer examples,
            @JsonProperty("dataset") String dataset,
            @JsonProperty("measured_with") String measuredWith) {
    }

    /**
     * What quantizing a model cost, as {@code squeeze quantize --inputs} measured it: the quantized model's outputs
     * against the float source model's on held-out examples (the JSON compress's {@code QuantizationFigures} writes;
     * its field names are camelCase).
     *
     * @param examples       the held-out examples (rows) measured on
     * @param outputs        figures per tensor output, in the float model's output order
     * @param skippedOutputs outputs that are not tensors and were not compared
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Figures(
            @JsonProperty("examples") long examples,
            @JsonProperty("outputs") List<OutputFigures> outputs,
            @JsonProperty("skippedOutputs") List<String> skippedOutputs) {

        public Figures {
            outputs = outputs == null ? List.of() : List.copyOf(outputs);
            skippedOutputs = skippedOutputs == null ? List.of() : List.copyOf(skippedOutputs);
        }
    }

    /**
     * The figures of one output: the quantized model's output {@code q} against the float model's {@code f}, row by
     * row.
     *
     * @param output               the output's name
     * @param examples             the rows compared
     * @param cosineMean           mean over rows of the cosine similarity of {@code q} and {@code f}
     * @param cosineWorst          the lowest row cosine
     * @param maxAbsError          the largest {@code |q - f|} of any element
     * @param relativeL2           {@code ||q - f|| / ||f||} over every element
     * @param top1AgreementPct     for an output of shape {@code [N, classes]}: the percentage of rows whose largest
     *                             score is in the same class; null for other outputs
     * @param floatAccuracyPct     with labelled inputs, for a {@code [N, classes]} output: the float model's accuracy
     *                             in percent; null otherwise
     * @param quantizedAccuracyPct the same for the quantized model
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record OutputFigures(
            @JsonProperty("output") String output,
            @JsonProperty("examples") long examples,
            @JsonProperty("cosineMean") double cosineMean,
            @JsonProperty("cosineWorst") double cosineWorst,
            @JsonProperty("maxAbsError") double maxAbsError,
            @JsonProperty("relativeL2") double relativeL2,
            @JsonProperty("top1AgreementPct") Double top1AgreementPct,
            @JsonProperty("floatAccuracyPct") Double floatAccuracyPct,
            @JsonProperty("quantizedAccuracyPct") Double quantizedAccuracyPct) {
    }
}
