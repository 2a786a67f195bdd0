package dev.squeeze.serve.report;

import dev.squeeze.serve.bench.BenchmarkResult;

import java.util.Objects;

/**
 * One model variant in a {@link ParetoReport}: how accurate, how big and how fast it is. A number that was not
 * measured is negative (the {@code long} fields) or {@code NaN} (the {@code double} fields); such a point is shown with
 * a dash in the table and left off the plot (and the frontier) that needs the number.
 *
 * @param name               the variant's name (shown as its label); required
 * @param kind               what kind of variant it is, e.g. {@code dense}, {@code int8}, {@code pruned}, {@code student}
 * @param fileBytes          the model file's size on disk, in bytes
 * @param zippedBytes        the model file's size after compressing it (e.g. zip/deflate), in bytes
 * @param params             the number of parameters
 * @param nonzeroParams      the number of parameters that are not zero (the rest were pruned)
 * @param latencyP50Micros   median latency of one request of batch size 1, in microseconds
 * @param latencyP99Micros   99th percentile latency of one request of batch size 1, in microseconds
 * @param throughputBatch256 examples per second when run in batches of 256
 * @param accuracy           test accuracy as a fraction in [0, 1] (0.9 is 90%), or {@code null} when unknown; a point
 *                           without accuracy is listed but is never on a frontier
 * @param source             where the point comes from, e.g. a run id or a file
 * @param fidelity           for a variant without a labelled test set: how closely it follows the float model it was
 *                           quantized from (see serve.bench's {@code Fidelity}: cosine mean or top-1 agreement as a
 *                           fraction, 1 for the float model itself), or {@code null}; not accuracy, and plotted only
 *                           when no point of the report has accuracy
 * @param fidelityMeasure    which figure {@code fidelity} is, in words (e.g. {@code cosine mean 0.99741 (embedding,
 *                           64 examples)}), or {@code null}
 */
public record ParetoPoint(String name, String kind, long fileBytes, long zippedBytes, long params, long nonzeroParams,
                          double latencyP50Micros, double latencyP99Micros, double throughputBatch256, Double accuracy,
                          String source, Double fidelity, String fidelityMeasure) {

    public ParetoPoint {
        Objects.requireNonNull(name, "name");
        if (accuracy != null && !(accuracy >= 0 && accuracy <= 1)) {
            throw new IllegalArgumentException("accuracy is a fraction in [0, 1] (or null when unknown), not "
                    + accuracy + " (point " + name + ")");
        }
        if (fidelity != null && !(fidelity >= -1 && fidelity <= 1)) {
            throw new IllegalArgumentException("fidelity is a cosine or a fraction in [-1, 1] (or null when unknown), not "
                    + fidelity + " (point " + name + ")");
        }
    }

    /** A benchmark as a point of the trade-off plots: the dashboard's and {@code squeeze report}'s. */
    public static ParetoPoint of(BenchmarkResult b, String kind) {
        return new ParetoPoint(b.name(), kind == null ? "" : kind, b.fileBytes(), b.zippedBytes(), b.parameters(),
                b.nonZeroParameters(), b.latencyP50Micros(), b.latencyP99Micros(),
                b.throughputBatch256() == null ? Double.NaN : b.throughputBatch256(), b.accuracy(), b.file(),
                b.fidelity() == null ? null : b.fidelity().value(), b.fidelity() == null ? null : b.fidelity().describe());
    }
}
