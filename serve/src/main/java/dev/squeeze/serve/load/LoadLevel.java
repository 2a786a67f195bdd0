package dev.squeeze.serve.load;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What {@link LoadGenerator} measured at one concurrency level. Throughput, latencies, requests and errors are taken
 * over the level's reported windows: the last 3 measured (all of them when fewer were measured), which are the stable
 * ones when {@link #stable} is true.
 *
 * @param concurrency           virtual users, each with one request in flight at a time
 * @param throughputPerSecond   successful responses per second: the median over the reported windows
 * @param throughputMinPerSecond the lowest window's successful responses per second
 * @param throughputMaxPerSecond the highest window's successful responses per second
 * @param latencyP50Millis      median latency of the successful requests, from sending to the whole answer read,
 *                              in milliseconds (0 when none succeeded)
 * @param latencyP90Millis      90th percentile (nearest rank), milliseconds
 * @param latencyP99Millis      99th percentile (nearest rank), milliseconds
 * @param requests              requests answered in the reported windows, successes and errors
 * @param errors                of those, the failed ones: a status other than 2xx, a timeout or a connection error
 * @param errorSample           the first error's message (with the server's error body), or null when there were none
 * @param windows               measurement windows run at this level (warm-up not counted)
 * @param stable                whether the last 3 windows' throughputs came within the stability percent of their
 *                              mean before the window limit
 * @param clientCpuPercent      CPU time of the load generator's own threads (HTTP client and users) over the measured
 *                              windows, as a percent of all this machine's cores; -1 when the JVM cannot measure it.
 *                              High values mean the client competed with a server on the same machine
 * @param clientBusyPercent     the same CPU time as a percent of what the client's threads could use (one core each,
 *                              at most the machine's); -1 when unknown
 * @param clientLimited         whether the client, not the server, was the limit: its threads busy
 *                              {@value LoadGenerator#CLIENT_LIMIT_PERCENT}% of the time or more, so more client threads
 *                              (or a client on another machine) would have sent more
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LoadLevel(int concurrency, double throughputPerSecond, double throughputMinPerSecond,
                        double throughputMaxPerSecond, double latencyP50Millis, double latencyP90Millis,
                        double latencyP99Millis, long requests, long errors, String errorSample, int windows,
                        boolean stable, double clientCpuPercent, double clientBusyPercent, boolean clientLimited) {
}
