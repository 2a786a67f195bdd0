package dev.squeeze.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.squeeze.pipeline.bench.BenchService;
import dev.squeeze.compress.report.FixedWidthTable;
import dev.squeeze.core.BadInputException;
import dev.squeeze.serve.bench.BenchmarkOptions;
import dev.squeeze.serve.bench.BenchmarkPhase;
import dev.squeeze.serve.bench.BenchmarkResult;
import dev.squeeze.serve.load.LoadGenerator;
import dev.squeeze.serve.load.LoadOptions;
import dev.squeeze.serve.load.LoadResult;
import dev.squeeze.serve.load.Protocol;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "bench", modelTransformer = BenchOptions.class, mixinStandardHelpOptions = true, sortOptions = false,
        header = "Measure size, speed and accuracy of ONNX models in ONNX Runtime, or load-test a running server.",
        description = {"With --models: every DIR/NAME/model.onnx (and DIR/*.onnx) gets the same measurement: file size raw",
                "and zipped, parameters and non-zero parameters, latency p50/p90/p99 and throughput at batch 1, the",
                "same from --callers threads at once on one session, throughput at batch 32 and 256 (each call what",
                "a Java program embedding ONNX Runtime does per request: input tensors made from arrays, run, every",
                "output read back: the in-process reference for a server), warm-up excluded, measured in windows",
                "repeated until the last 3 agree within --stability, as Triton's perf_analyzer does, with the spread",
                "reported; process memory, and test accuracy computed through ONNX Runtime on the dataset the",
                "model was exported from (what the served file really does). A model without a labelled test set",
                "that 'squeeze quantize --from FILE --inputs' made gets its fidelity to the float model instead",
                "(top-1 agreement or cosine mean from the figures in its metadata; not accuracy), and that float",
                "model, when measured too, is the reference at 1. Each result is a ledger row (stage bench);",
                "'squeeze report' plots them.",
                "",
                "With --url: a closed-loop load generator against 'squeeze serve' (or any Open Inference Protocol",
                "server) over JSON, binary tensor data or gRPC (--protocol): per --concurrency level, requests/s,",
                "p50/p90/p99 latency and errors, in stable windows (--warmup-ms, --max-windows and --stability",
                "apply; --window-ms is 2000 unless given), and the generator's own CPU: its share of the machine",
                "and of what its --client-threads could use, with a line saying so when the client was the limit.", ""},
        footer = {"", "Examples:", "  squeeze bench --models served/",
                "  squeeze bench --url http://127.0.0.1:8080 --model lenet-int8 --concurrency 1,4,16,64",
                "  squeeze bench --url http://127.0.0.1:8080 --model lenet-int8 --protocol grpc --client-threads 2",
                "  squeeze bench --url http://127.0.0.1:8080 --model bge-int8 --body request.json"})
final class BenchCommand extends SqueezeSubcommand implements Callable<Integer> {
    @Mixin
    StageOptions stage;

    @Option(names = "--models", paramLabel = "DIR", description = "A folder of models (NAME/model.onnx or *.onnx).")
    Path models;

    @Option(names = "--url", paramLabel = "URL", description = "A running server to load-test instead.")
    URI url;

    @Option(names = "--model", paramLabel = "NAME", description = "With --url: the model to send requests to.")
    String model;

    @Option(names = "--concurrency", paramLabel = "N,N,...", defaultValue = "1,4,16,64",
            description = "With --url: concurrent clients per level (default: ${DEFAULT-VALUE}).")
    String concurrency;

    @Option(names = "--body", paramLabel = "FILE", description = "With --url: the JSON request body every request sends "
            + "(e.g. one of your real inputs, as a client sends it; with --protocol binary or grpc its inputs are sent "
            + "that way); default: one example of zeros built from the model's metadata, with every variable dimension 1.")
    Path body;

    @Option(names = "--protocol", paramLabel = "json|binary|grpc", defaultValue = "json",
            description = "With --url: JSON bodies; the binary tensor data extension (raw input and output bytes after "
                    + "the JSON header); or gRPC ModelInfer with raw contents on --grpc-target (default: ${DEFAULT-VALUE}).")
    String protocol;

    @Option(names = "--client-threads", paramLabel = "N", defaultValue = "1",
            description = "With --url: the load generator's threads, each with its own connections; give more when the "
                    + "output says the client was the limit (default: ${DEFAULT-VALUE}).")
    int clientThreads;

    @Option(names = "--grpc-target", paramLabel = "HOST:PORT", description = "With --protocol grpc: the server's gRPC "
            + "address (default: the --url host, port " + LoadOptions.DEFAULT_GRPC_PORT + ").")
    String grpcTarget;

    @Option(names = "--dataset", paramLabel = "NAME",
            description = "Test set for accuracy (default: the one each export names; none for other ONNX files).")
    String dataset;

    @Option(names = "--json", description = "Print the results as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if ((models == null) == (url == null)) throw new BadInputException("give either --models DIR or --url URL --model NAME");
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        if (body != null && url == null) throw new BadInputException("--body goes with --url: it is what a load test sends");
        if (url == null && (spec.commandLine().getParseResult().hasMatchedOption("--protocol")
                || spec.commandLine().getParseResult().hasMatchedOption("--client-threads") || grpcTarget != null)) {
            throw new BadInputException("--protocol, --client-threads and --grpc-target go with --url: they say how a load "
                    + "test sends its requests");
        }
        if (url != null) {
            if (model == null) throw new BadInputException("--url needs --model NAME (see GET /v2/repository/index)");
            BenchmarkOptions how = BenchOptions.options(spec);
            LoadOptions options;
            try {
                options = LoadOptions.of(LoadOptions.parseConcurrency(concurrency)).withWarmUp(how.warmup())
                        .withMaxWindows(how.maxWindows()).withStabilityPercent(how.stabilityPercent())
                        .withProtocol(Protocol.parse(protocol)).withClientThreads(clientThreads).withGrpcTarget(grpcTarget);
                // A load test's window defaults to LoadOptions' own (2 s): one server request is slower than a call.
                if (spec.commandLine().getParseResult().hasMatchedOption("--window-ms")) options = options.withWindow(how.window());
                if (body != null) options = options.withBody(requestBody(body, mapper));
            } catch (IllegalArgumentException e) {
                throw new BadInputException(e.getMessage());
            }
            LoadResult result;
            try {
                result = LoadGenerator.run(url, model, options);
            } catch (IllegalArgumentException e) {
                throw new BadInputException(e.getMessage());
            }
            print(json ? mapper.writeValueAsString(result) + System.lineSeparator() : result.format());
            return result.levels().stream().anyMatch(l -> l.errors() > 0) ? ExitCodes.FAILURE : ExitCodes.OK;
        }
        BenchmarkOptions options = BenchOptions.options(spec);
        var err = err();
        List<BenchmarkResult> results;
        try (var monitor = new ConsoleTrainingMonitor(err, CommandContext.progressBarStream(env()))) {
            results = new BenchService(stage.workspace(env()), CommandContext.datasetLocator(env(), err), monitor)
                    .bench(BenchService.targets(models), options, dataset, stage.dataDir());
        }
        print(json ? mapper.writeValueAsString(results) + System.lineSeparator() : table(results));
        return ExitCodes.OK;
    }

    /** The bytes of a --body file, refused unless it is a JSON object (a server would answer every request 400). */
    private static byte[] requestBody(Path file, ObjectMapper mapper) {
        if (!Files.isRegularFile(file)) {
            throw new BadInputException("--body " + file + ": no such file; give a JSON inference request body");
        }
        try {
            byte[] bytes = Files.readAllBytes(file);
            if (!mapper.readTree(bytes).isObject()) {
                throw new BadInputException("--body " + file + " is not a JSON object; give an inference request body, "
                        + "{\"inputs\": [...]}");
            }
            return bytes;
        } catch (JsonProcessingException e) {
            throw new BadInputException("--body " + file + " is not JSON (" + e.getOriginalMessage()
                    + "); give an inference request body, {\"inputs\": [...]}");
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
    }

    /**
     * One row per result. A FIDELITY TO FLOAT column comes after ACCURACY when some model has one (a model quantized
     * from a float ONNX file with inputs, or that float model as the reference): it is not accuracy, so it has its own.
     * P50/P90/P99 and BATCH 1/S are batch 1 from one caller; a column per caller level above 1 follows (requests/s of
     * all its threads, with their p50 and p99).
     */
    static String table(List<BenchmarkResult> results) {
        boolean fidelity = results.stream().anyMatch(r -> r.fidelity() != null);
        List<Integer> levels = results.stream().filter(r -> r.concurrent() != null).flatMap(r -> r.concurrent().stream())
                .map(BenchmarkPhase::callers).distinct().sorted().toList();
        List<String> header = new ArrayList<>(List.of("MODEL", "ACCURACY"));
        if (fidelity) header.add("FIDELITY TO FLOAT");
        header.addAll(List.of("FILE", "ZIPPED", "PARAMS", "NON-ZERO", "P50", "P90", "P99", "BATCH 1/S"));
        for (int n : levels) header.add(n + " CALLERS/S (P50, P99)");
        header.addAll(List.of("BATCH 32/S", "BATCH 256/S (MIN-MAX)", "STABLE", "RSS +"));
        List<String[]> rows = new ArrayList<>();
        rows.add(header.toArray(String[]::new));
        for (BenchmarkResult r : results) {
            var b256 = r.batch256();
            List<String> row = new ArrayList<>(List.of(r.name(),
                    r.accuracy() == null ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * r.accuracy())));
            if (fidelity) row.add(r.fidelity() == null ? "-" : r.fidelity().describe());
            row.addAll(List.of(kb(r.fileBytes()), kb(r.zippedBytes()), String.format(Locale.ROOT, "%,d", r.parameters()),
                    String.format(Locale.ROOT, "%,d", r.nonZeroParameters()), us(r.latencyP50Micros()), us(r.latencyP90Micros()),
                    us(r.latencyP99Micros()), r.batch1() == null ? "-" : rate(r.batch1().throughputSamplesPerSecond())));
            for (int n : levels) {
                BenchmarkPhase p = r.concurrent() == null ? null
                        : r.concurrent().stream().filter(c -> c.callers() == n).findFirst().orElse(null);
                row.add(p == null ? "-" : String.format(Locale.ROOT, "%,.0f (%s, %s)", p.throughputSamplesPerSecond(),
                        us(p.latencyP50Micros()), us(p.latencyP99Micros())));
            }
            row.addAll(List.of(rate(r.throughputBatch32()),
                    b256 == null ? "-" : String.format(Locale.ROOT, "%,.0f (%,.0f-%,.0f)", b256.throughputSamplesPerSecond(),
                            b256.throughputMinSamplesPerSecond(), b256.throughputMaxSamplesPerSecond()),
                    r.stable() ? "yes" : "no", r.rssIncreaseBytes() == null ? "-" : String.format(Locale.ROOT, "%.0f MB", r.rssIncreaseBytes() / 1048576.0)));
            rows.add(row.toArray(String[]::new));
        }
        // Text columns left, numbers right.
        boolean[] right = new boolean[header.size()];
        for (int i = 0; i < right.length; i++) {
            String h = header.get(i);
            right[i] = !(h.equals("MODEL") || h.equals("FIDELITY TO FLOAT") || h.equals("STABLE"));
        }
        return FixedWidthTable.format(rows, right) + System.lineSeparator();
    }

    private static String kb(long bytes) {
        return String.format(Locale.ROOT, "%,.1f KB", bytes / 1024.0);
    }

    private static String us(double micros) {
        return String.format(Locale.ROOT, "%.1f us", micros);
    }

    private static String rate(double perSecond) {
        return String.format(Locale.ROOT, "%,.0f", perSecond);
    }

    private static String rate(Double perSecond) {
        return perSecond == null ? "-" : String.format(Locale.ROOT, "%,.0f", perSecond);
    }
}
