package dev.squeeze.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.squeeze.pipeline.bench.BenchService;
import dev.squeeze.compress.report.FixedWidthTable;
import dev.squeeze.core.BadInputException;
import dev.squeeze.serve.bench.BenchmarkOptions;
import dev.squeeze.serve.bench.BenchmarkResult;
import dev.squeeze.serve.load.LoadGenerator;
import dev.squeeze.serve.load.LoadOptions;
import dev.squeeze.serve.load.LoadResult;
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
                "and zipped, parameters and non-zero parameters, latency p50/p90/p99 at batch 1 and throughput at",
                "batch 32 and 256 (warm-up excluded; measured in windows repeated until the last 3 agree within",
                "--stability, as Triton's perf_analyzer does, with the spread reported), process memory, and test",
                "accuracy computed through ONNX Runtime on the dataset the model was exported from (what the",
                "served file really does). A model without a labelled test set that 'squeeze quantize --from",
                "FILE --inputs' made gets its fidelity to the float model instead (top-1 agreement or cosine mean",
                "from the figures in its metadata; not accuracy), and that float model, when measured too, is the",
                "reference at 1. Each result is a ledger row (stage bench); 'squeeze report' plots them.",
                "",
                "With --url: a closed-loop load generator against 'squeeze serve' (or any Open Inference Protocol",
                "server): per --concurrency level, requests/s, p50/p90/p99 latency and errors, in stable windows",
                "(--warmup-ms, --max-windows and --stability apply; --window-ms is 2000 unless given).", ""},
        footer = {"", "Examples:", "  squeeze bench --models served/",
                "  squeeze bench --url http://127.0.0.1:8080 --model lenet-int8 --concurrency 1,4,16,64",
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
            + "(e.g. one of your real inputs, as a client sends it); default: one example of zeros built from the "
            + "model's metadata, with every variable dimension 1.")
    Path body;

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
        if (url != null) {
            if (model == null) throw new BadInputException("--url needs --model NAME (see GET /v2/repository/index)");
            BenchmarkOptions how = BenchOptions.options(spec);
            LoadOptions options;
            try {
                options = LoadOptions.of(LoadOptions.parseConcurrency(concurrency)).withWarmUp(how.warmup())
                        .withMaxWindows(how.maxWindows()).withStabilityPercent(how.stabilityPercent());
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
     */
    static String table(List<BenchmarkResult> results) {
        boolean fidelity = results.stream().anyMatch(r -> r.fidelity() != null);
        List<String[]> rows = new ArrayList<>();
        rows.add(withFidelity(fidelity, "FIDELITY TO FLOAT", "MODEL", "ACCURACY", "FILE", "ZIPPED", "PARAMS", "NON-ZERO",
                "P50", "P90", "P99", "BATCH 32/S", "BATCH 256/S (MIN-MAX)", "STABLE", "RSS +"));
        for (BenchmarkResult r : results) {
            var b256 = r.batch256();
            rows.add(withFidelity(fidelity, r.fidelity() == null ? "-" : r.fidelity().describe(),
                    r.name(), r.accuracy() == null ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * r.accuracy()),
                    kb(r.fileBytes()), kb(r.zippedBytes()), String.format(Locale.ROOT, "%,d", r.parameters()),
                    String.format(Locale.ROOT, "%,d", r.nonZeroParameters()), us(r.latencyP50Micros()), us(r.latencyP90Micros()),
                    us(r.latencyP99Micros()), rate(r.throughputBatch32()),
                    b256 == null ? "-" : String.format(Locale.ROOT, "%,.0f (%,.0f-%,.0f)", b256.throughputSamplesPerSecond(),
                            b256.throughputMinSamplesPerSecond(), b256.throughputMaxSamplesPerSecond()),
                    r.stable() ? "yes" : "no", r.rssIncreaseBytes() == null ? "-" : String.format(Locale.ROOT, "%.0f MB", r.rssIncreaseBytes() / 1048576.0)));
        }
        boolean[] right = {false, true, true, true, true, true, true, true, true, true, true, false, true};
        if (fidelity) {
            boolean[] wider = new boolean[right.length + 1];
            wider[0] = right[0];
            wider[1] = right[1];
            System.arraycopy(right, 2, wider, 3, right.length - 2);
            wider[2] = false;
            right = wider;
        }
        return FixedWidthTable.format(rows, right) + System.lineSeparator();
    }

    /** The cells, with {@code fidelityCell} after the second (ACCURACY) when {@code fidelity}. */
    private static String[] withFidelity(boolean fidelity, String fidelityCell, String... cells) {
        if (!fidelity) return cells;
        List<String> out = new ArrayList<>(List.of(cells));
        out.add(2, fidelityCell);
        return out.toArray(String[]::new);
    }

    private static String kb(long bytes) {
        return String.format(Locale.ROOT, "%,.1f KB", bytes / 1024.0);
    }

    private static String us(double micros) {
        return String.format(Locale.ROOT, "%.1f us", micros);
    }

    private static String rate(Double perSecond) {
        return perSecond == null ? "-" : String.format(Locale.ROOT, "%,.0f", perSecond);
    }
}
