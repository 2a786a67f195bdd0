package dev.squeeze.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squeeze.serve.grpc.v2.GRPCInferenceServiceGrpc;
import dev.squeeze.serve.grpc.v2.ServerLiveRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path home;

    @Test
    void aMissingModelFolderIsOneLineAndExitCode2() {
        CliRun serve = CliRun.run(home, "serve", "--models", home.resolve("nowhere").toString());
        assertEquals(ExitCodes.BAD_INPUT, serve.exitCode());
        assertEquals(1, serve.errorLines(), serve.err());
        assertTrue(serve.err().contains("is not a folder"), serve.err());
    }

    @Test
    void helpListsTheEndpoints() {
        CliRun help = CliRun.run(home, "serve", "--help");
        assertEquals(ExitCodes.OK, help.exitCode());
        assertTrue(help.out().contains("/v2/models/NAME/infer") && help.out().contains("/metrics"), help.out());
    }

    @Test
    void aBadServingSettingNamesItsFlag() throws Exception {
        Path models = Files.createDirectories(home.resolve("models"));
        CliRun port = CliRun.run(home, "serve", "--models", models.toString(), "--port", "70000");
        assertEquals(ExitCodes.BAD_INPUT, port.exitCode());
        assertEquals(1, port.errorLines(), port.err());
        assertTrue(port.err().contains("--port must be an integer from 0 to 65535, got '70000'"), port.err());
        CliRun batch = CliRun.run(home, "serve", "--models", models.toString(), "--max-batch-size", "0");
        assertEquals(ExitCodes.BAD_INPUT, batch.exitCode());
        assertTrue(batch.err().contains("--max-batch-size must be an integer >= 1, got '0'"), batch.err());
        CliRun help = CliRun.run(home, "serve", "--help");
        assertTrue(help.out().contains("--max-elements") && help.out().contains("(default: 4000000)")
                && help.out().contains("(default: 127.0.0.1)"), help.out());
    }

    /** A model folder holding mlp-tiny, trained for one epoch on the fixtures and exported to ONNX. */
    private Path servedModels() throws Exception {
        CliRun train = CliRun.run(home, "train", "--model", "mlp-tiny", "--epochs", "1", "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, train.exitCode(), train.err());
        String id = train.out().lines().findFirst().orElseThrow().split("\\s+")[1];
        Path models = home.resolve("served");
        Files.createDirectories(models.resolve("tiny"));
        CliRun export = CliRun.run(home, "export", "--from", id, "--output", models.resolve("tiny/model.onnx").toString(),
                "--data", CliRun.fixtures());
        assertEquals(ExitCodes.OK, export.exitCode(), export.err());
        return models;
    }

    @Test
    void sigtermWhileABenchmarkRunsExitsCleanly() throws Exception {
        Path models = servedModels();
        Path workDir = Files.createDirectories(home.resolve("cwd"));
        Path log = home.resolve("serve.log");
        Process serve = squeeze(workDir, log, "serve", "--models", models.toString(), "--port", "0", "--grpc-port", "0");
        try {
            URI url = serverUrl(serve, log);
            HttpClient http = HttpClient.newHttpClient();
            // Many windows: the benchmark is still measuring, in ONNX Runtime, when the signal comes.
            HttpResponse<String> started = http.send(HttpRequest.newBuilder(url.resolve("/v1/benchmarks"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"warmup_ms\": 200, \"window_ms\": 300, \"max_windows\": 30}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(202, started.statusCode(), started.body());
            String id = JSON.readTree(started.body()).path("id").asText();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            JsonNode job;
            do {
                Thread.sleep(50);
                job = JSON.readTree(http.send(HttpRequest.newBuilder(url.resolve("/v1/benchmarks/" + id)).GET().build(),
                        HttpResponse.BodyHandlers.ofString()).body());
            } while (job.path("status").asText().equals("queued") && System.nanoTime() < deadline);
            assertEquals("running", job.path("status").asText(), job.toString());
            Thread.sleep(1000); // past the warm-up, into the measurement windows

            serve.destroy(); // SIGTERM, as Ctrl-C in `squeeze demo` or a service manager sends
            assertTrue(serve.waitFor(120, TimeUnit.SECONDS), "the server stopped after SIGTERM:\n" + Files.readString(log));
            String output = Files.readString(log);
            assertEquals(143, serve.exitValue(), "128 + SIGTERM: stopped by the signal, not crashed:\n" + output);
            assertFalse(output.contains("A fatal error has been detected"), output);
            try (Stream<Path> files = Files.list(workDir)) {
                List<String> crashLogs = files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("hs_err_pid")).toList();
                assertEquals(List.of(), crashLogs, "no JVM crash log in the working folder:\n" + output);
            }
        } finally {
            serve.destroyForcibly();
        }
    }

    /**
     * Starts {@code squeeze ARGS} in its own JVM, as the launcher does (the application's logging configuration, not
     * the tests'), in {@code workDir}, stdout and stderr into {@code log}.
     */
    private Process squeeze(Path workDir, Path log, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", SqueezeMain.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        // The class path through the environment: ONNX Runtime 1.29 overflows its stack reading a long
        // /proc/self/cmdline when it starts.
        pb.environment().put("CLASSPATH", Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.endsWith("test-classes")).collect(Collectors.joining(File.pathSeparator)));
        pb.environment().put("SQUEEZE_HOME", home.toString());
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().remove("SQUEEZE_API_KEY");
        return pb.start();
    }

    @Test
    void anEmptyApiKeyIsRefusedNotReadAsNoKey() throws Exception {
        Path models = Files.createDirectories(home.resolve("empty"));
        // Before the fix these served without authentication (and ran until stopped).
        CliRun flag = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> CliRun.run(home, "serve", "--models",
                models.toString(), "--port", "0", "--api-key", ""));
        assertEquals(ExitCodes.BAD_INPUT, flag.exitCode(), flag.err());
        assertEquals(1, flag.err().lines().count(), flag.err());
        assertTrue(flag.err().contains("--api-key is empty"), flag.err());
        CliRun env = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> CliRun.run(Map.of("SQUEEZE_HOME", home.toString(),
                "SQUEEZE_API_KEY", " "), "serve", "--models", models.toString(), "--port", "0"));
        assertEquals(ExitCodes.BAD_INPUT, env.exitCode(), env.err());
        assertEquals(1, env.err().lines().count(), env.err());
        assertTrue(env.err().contains("SQUEEZE_API_KEY is set but empty"), env.err());
    }

    @Test
    void aPortInUseIsOneLineNamingItAndExitCode2() throws Exception {
        String line = refusalOfATakenPort(false);
        assertTrue(line.startsWith("squeeze serve: port ") && line.contains(" on 127.0.0.1 is already in use")
                && line.contains("--port"), line);
    }

    @Test
    void aTakenGrpcPortIsOneLineNamingItsFlagAndExitCode2() throws Exception {
        String line = refusalOfATakenPort(true);
        assertTrue(line.startsWith("squeeze serve: gRPC port ") && line.contains(" on 127.0.0.1 is already in use")
                && line.contains("--grpc-port N") && line.contains("--grpc-port -1 serves no gRPC"), line);
    }

    /** The one line {@code squeeze serve} prints, exiting 2, when its HTTP (or gRPC) port is taken. */
    private String refusalOfATakenPort(boolean grpc) throws Exception {
        Path models = Files.createDirectories(home.resolve("empty"));
        Path workDir = Files.createDirectories(home.resolve("cwd"));
        Path log = home.resolve("serve.log");
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            String port = Integer.toString(taken.getLocalPort());
            Process serve = squeeze(workDir, log, "serve", "--models", models.toString(), "--port", grpc ? "0" : port,
                    "--grpc-port", grpc ? port : "0");
            try {
                assertTrue(serve.waitFor(120, TimeUnit.SECONDS), "squeeze serve exited:\n" + Files.readString(log));
            } finally {
                serve.destroyForcibly();
            }
            String output = Files.readString(log);
            assertEquals(ExitCodes.BAD_INPUT, serve.exitValue(), output);
            List<String> lines = output.lines().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), "one line, no stack trace:\n" + output);
            assertTrue(lines.get(0).contains(" " + port + " "), output);
            return lines.get(0);
        }
    }

    /** `squeeze serve` announces its gRPC address beside the HTTP one, and a gRPC client reaches the server there. */
    @Test
    void theGrpcAddressIsAnnouncedAndAnswers() throws Exception {
        Path models = Files.createDirectories(home.resolve("empty"));
        Path workDir = Files.createDirectories(home.resolve("cwd"));
        Path log = home.resolve("serve.log");
        Process serve = squeeze(workDir, log, "serve", "--models", models.toString(), "--port", "0", "--grpc-port", "0");
        try {
            serverUrl(serve, log);
            Matcher m = Pattern.compile(", gRPC at (127\\.0\\.0\\.1:\\d+) \\(Ctrl-C to stop\\)").matcher(Files.readString(log));
            assertTrue(m.find(), Files.readString(log));
            ManagedChannel channel = ManagedChannelBuilder.forTarget(m.group(1)).usePlaintext().build();
            try {
                assertTrue(GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                        .serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
            } finally {
                channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
        } finally {
            serve.destroy();
            assertTrue(serve.waitFor(60, TimeUnit.SECONDS), "stopped after SIGTERM:\n" + Files.readString(log));
        }
        Path offLog = home.resolve("serve-off.log");
        Process off = squeeze(workDir, offLog, "serve", "--models", models.toString(), "--port", "0", "--grpc-port", "-1");
        try {
            serverUrl(off, offLog);
            assertFalse(Files.readString(offLog).contains("gRPC"), Files.readString(offLog));
        } finally {
            off.destroyForcibly();
        }
    }

    /** The address `squeeze serve --port 0` announces on stderr. */
    private static URI serverUrl(Process serve, Path log) throws Exception {
        Pattern announced = Pattern.compile("at (http://127\\.0\\.0\\.1:\\d+)");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            Matcher m = announced.matcher(Files.readString(log));
            if (m.find()) return URI.create(m.group(1));
            if (!serve.isAlive()) {
                throw new AssertionError("squeeze serve exited early (" + serve.exitValue() + "):\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("squeeze serve did not announce its address in 120 s:\n" + Files.readString(log));
    }
}
