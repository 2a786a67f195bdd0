package dev.squeeze.serve.load;

import java.util.List;
import java.util.Locale;

/**
 * A {@link LoadGenerator} run: what was measured and how, and one {@link LoadLevel} per concurrency level, in the
 * order they ran. Plain values; Jackson writes it as JSON with the units in the field names.
 *
 * @param url                 the server's address
 * @param model               the model's name
 * @param protocol            how requests were sent: {@code json}, {@code binary} or {@code grpc} ({@link Protocol})
 * @param endpoint            the path every request was POSTed to; for gRPC, the {@code HOST:PORT} called
 * @param requestBytes        the request body's size (gRPC: the serialized ModelInferRequest)
 * @param generatedBody       true when the body was built from the model's metadata (zeros, batch 1), false when
 *                            given
 * @param clientThreads       the generator's threads sending requests and reading answers
 * @param windowMillis        one measurement window
 * @param warmUpMillis        the unmeasured run before each level's first window
 * @param stabilityPercent    how close to their mean the last 3 windows' throughputs had to be
 * @param maxWindows          the most windows per level
 * @param availableProcessors the load generator's machine's cores (what {@link LoadLevel#clientCpuPercent} is a
 *                            share of)
 * @param levels              the concurrency levels' measurements
 */
public record LoadResult(String url, String model, String protocol, String endpoint, long requestBytes,
                         boolean generatedBody, int clientThreads, long windowMillis, long warmUpMillis, double stabilityPercent, int maxWindows,
                         int availableProcessors, List<LoadLevel> levels) {

    public LoadResult {
        levels = List.copyOf(levels);
    }

    /**
     * A fixed-width text table, one row per level: concurrency, requests per second (median) with the windows' min
     * and max, latency p50/p90/p99 in ms, errors, windows, stable, client CPU (share of the machine, and of what its
     * threads could use); a header saying what was measured, a line per level with errors quoting the first, and a
     * line per level at which the client was the limit.
     */
    public String format() {
        StringBuilder out = new StringBuilder();
        String what = generatedBody ? "zeros of every input, batch 1, built from the model's metadata" : "given";
        out.append(switch (protocol) {
            case "grpc" -> String.format(Locale.ROOT, "model %s: gRPC ModelInfer at %s, raw input contents, %s request (%s)%n",
                    model, endpoint, bytes(requestBytes), what);
            case "binary" -> String.format(Locale.ROOT, "model %s at %s: POST %s, binary tensor data, %s body (%s)%n",
                    model, url, endpoint, bytes(requestBytes), what);
            default -> String.format(Locale.ROOT, "model %s at %s: POST %s, JSON, %s body (%s)%n", model, url, endpoint,
                    bytes(requestBytes), what);
        });
        out.append(String.format(Locale.ROOT, "%d ms windows after %d ms warm-up, at most %d per level; stable: the last 3 "
                + "windows' req/s within %s%% of their mean; req/s (median, min-max) and latency over the last 3 windows%n",
                windowMillis, warmUpMillis, maxWindows, number(stabilityPercent)));
        String header = String.format(Locale.ROOT, "%11s %11s %21s %9s %9s %9s %8s %8s %7s %11s %12s",
                "concurrency", "req/s", "min-max req/s", "p50 ms", "p90 ms", "p99 ms", "errors", "windows", "stable",
                "client cpu", "client busy");
        out.append(header).append(System.lineSeparator());
        for (LoadLevel l : levels) {
            boolean answered = l.requests() > l.errors();   // no latencies when nothing succeeded
            out.append(String.format(Locale.ROOT, "%11d %11.1f %21s %9s %9s %9s %8d %8d %7s %11s %12s%n",
                    l.concurrency(), l.throughputPerSecond(),
                    String.format(Locale.ROOT, "%.1f-%.1f", l.throughputMinPerSecond(), l.throughputMaxPerSecond()),
                    millis(answered, l.latencyP50Millis()), millis(answered, l.latencyP90Millis()),
                    millis(answered, l.latencyP99Millis()), l.errors(), l.windows(),
                    l.stable() ? "yes" : "no", percent(l.clientCpuPercent()), percent(l.clientBusyPercent())));
        }
        int usable = Math.min(clientThreads, availableProcessors);
        out.append(String.format(Locale.ROOT, "client cpu: the load generator's %d thread%s, as a share of this machine's %d "
                + "cores (a server on the same machine had that much less); client busy: as a share of the %d core%s "
                + "they could use%n", clientThreads, clientThreads == 1 ? "" : "s", availableProcessors, usable,
                usable == 1 ? "" : "s"));
        for (LoadLevel l : levels) {
            if (l.clientLimited()) {
                out.append(String.format(Locale.ROOT, "concurrency %d: the client was the limit, not the server: its "
                        + "thread%s busy %.0f%% of the time; give more --client-threads%s, or load from another machine%n",
                        l.concurrency(), clientThreads == 1 ? " was" : "s were", l.clientBusyPercent(),
                        clientThreads < availableProcessors ? "" : " (it has as many as the machine has cores)"));
            }
        }
        for (LoadLevel l : levels) {
            if (l.errors() > 0) {
                out.append(String.format(Locale.ROOT, "concurrency %d: %d of %d requests failed; the first: %s%n",
                        l.concurrency(), l.errors(), l.requests(), l.errorSample()));
            }
        }
        return out.toString();
    }

    private static String millis(boolean answered, double ms) {
        return answered ? String.format(Locale.ROOT, "%.3f", ms) : "-";
    }

    private static String percent(double p) {
        return p < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f%%", p);
    }

    private static String bytes(long n) {
        if (n < 1024) return n + " B";
        if (n < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
    }

    private static String number(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
