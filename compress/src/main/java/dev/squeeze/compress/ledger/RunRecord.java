package dev.squeeze.compress.ledger;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One row of the ledger's {@code runs} table. Nullable fields are null until known.
 *
 * @param id            short unique id, 8 lowercase hex characters; any unique prefix finds the run
 * @param parentId      the run this one builds on, or null
 * @param startedAt     when the run started
 * @param endedAt       when it ended, or null while running
 * @param status        where it stands
 * @param codeCommit    git SHA of the code that ran, or null
 * @param configHash    {@link ConfigHash#value()}, or null
 * @param configJson    the full canonical configuration, or null
 * @param model         zoo name of the model, or null
 * @param dataset       dataset name, or null
 * @param stage         train, distill, prune, quantize, export, ...
 * @param trainAcc      training accuracy, a fraction, or null
 * @param valAcc        validation accuracy, a fraction, or null
 * @param testAcc       test accuracy, a fraction, or null
 * @param params        number of parameters, or null
 * @param nonzeroParams number of nonzero parameters, or null
 * @param fileBytes     size of the model file, or null
 * @param artifactDir   folder of the run's outputs, or null
 * @param notes         free text, one line per note, or null
 * @param sweepId       the sweep the run belongs to, or null
 * @param details       stage-specific measurements as JSON, or null
 * @param runBy         who ran it: {@code $SQUEEZE_USER}, {@code --by NAME} or the OS user; null in rows
 *                      recorded before the ledger kept it
 * @param resumes       the earlier row (killed, interrupted or failed) whose checkpoint this run resumed, or null
 */
public record RunRecord(String id, String parentId, Instant startedAt, Instant endedAt, RunStatus status,
                        String codeCommit, String configHash, String configJson, String model, String dataset,
                        String stage, Double trainAcc, Double valAcc, Double testAcc, Long params,
                        Long nonzeroParams, Long fileBytes, String artifactDir, String notes, String sweepId,
                        String details, String runBy, String resumes) {

    /** The {@code runs} table's columns, in table order: the names {@link RunQuery} sorts by and JSON uses. */
    public static final List<String> COLUMNS = List.of("id", "parent_id", "started_at", "ended_at", "status",
            "code_commit", "config_hash", "config_json", "model", "dataset", "stage", "train_acc", "val_acc",
            "test_acc", "params", "nonzero_params", "file_bytes", "artifact_dir", "notes", "sweep_id", "details",
            "run_by", "resumes");

    /**
     * How times are stored: ISO-8601 UTC with exactly three fraction digits, so that text order is time order
     * ({@link Instant#toString()} drops zero fractions and would not sort).
     */
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    /** The row as column name to stored value (times as ISO text, status as its text), in {@link #COLUMNS} order. */
    public Map<String, Object> columns() {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", id);
        row.put("parent_id", parentId);
        row.put("started_at", startedAt == null ? null : TIME.format(startedAt));
        row.put("ended_at", endedAt == null ? null : TIME.format(endedAt));
        row.put("status", status == null ? null : status.text());
        row.put("code_commit", codeCommit);
        row.put("config_hash", configHash);
        row.put("config_json", configJson);
        row.put("model", model);
        row.put("dataset", dataset);
        row.put("stage", stage);
        row.put("train_acc", trainAcc);
        row.put("val_acc", valAcc);
        row.put("test_acc", testAcc);
        row.put("params", params);
        row.put("nonzero_params", nonzeroParams);
        row.put("file_bytes", fileBytes);
        row.put("artifact_dir", artifactDir);
        row.put("notes", notes);
        row.put("sweep_id", sweepId);
        row.put("details", details);
        row.put("run_by", runBy);
        row.put("resumes", resumes);
        return row;
    }
}
