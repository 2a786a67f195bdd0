package dev.squeeze.cli;

import dev.squeeze.core.BadInputException;
import dev.squeeze.serve.grpc.GrpcServer;
import dev.squeeze.serve.http.PortInUseException;
import dev.squeeze.serve.http.SqueezeServer;
import io.micronaut.runtime.server.EmbeddedServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "serve", modelTransformer = ServingOptions.class, mixinStandardHelpOptions = true, sortOptions = false,
        header = "Serve ONNX models over HTTP and gRPC (Open Inference Protocol v2), reloading them as their files change.",
        description = {"DIR holds one folder per model: DIR/NAME/model.onnx, and optionally DIR/NAME/config.json",
                "({\"max_batch_size\": 32, \"max_queue_delay_us\": 2000, \"intra_op_threads\": 1}). Any ONNX model is served,",
                "not only Squeeze's. New and replaced models are picked up without a restart (in-flight requests",
                "finish on the old version; a broken replacement is refused and the old one keeps serving).",
                "",
                "Endpoints: GET /v2/health/live, /v2/health/ready, /v2/models/NAME, /v2/models/NAME/ready;",
                "POST /v2/models/NAME/infer (JSON tensors); POST /v1/models/NAME/predict (a PNG, or a JSON array of",
                "raw pixels: label and probabilities); GET|POST /v2/repository/index, POST",
                "/v2/repository/models/NAME/load|unload; GET /metrics (Prometheus); GET /openapi/squeeze-v2.yml (OpenAPI);",
                "POST /v1/benchmarks (benchmark the served models; GET /v1/benchmarks/ID for results); GET / (dashboard).",
                "gRPC on --grpc-port (default 8081, same address): inference.GRPCInferenceService of KServe's",
                "grpc_predict_v2.proto (ServerLive, ServerReady, ModelReady, ServerMetadata, ModelMetadata, ModelInfer",
                "with raw_input_contents or typed contents) and Triton's RepositoryIndex, RepositoryModelLoad|Unload.",
                "Concurrent requests to a model are merged into one ONNX Runtime call (dynamic batching). Ctrl-C",
                "stops accepting, lets in-flight requests finish, cancels benchmarks, then exits.", ""},
        footer = {"", "Example:", "  squeeze serve --models served/ --port 8080 --grpc-port 8081",
                "  curl -s localhost:8080/v2/models/lenet-int8 | jq ."})
final class ServeCommand extends SqueezeSubcommand implements Callable<Integer> {
    // Hand-written, not a ServeOptions setting: the folder is what is served (a recipe serves its own models folder).
    @Option(names = "--models", required = true, paramLabel = "DIR", description = "The model folder.")
    Path models;

    // Hand-written, not a ServeOptions setting: a secret, also read from $SQUEEZE_API_KEY, never in a recipe.
    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Require this key on the repository endpoints and to start benchmarks (default: $SQUEEZE_API_KEY; "
                    + "none). An empty key is refused.")
    String apiKey;

    @Override
    public Integer call() throws InterruptedException {
        if (!Files.isDirectory(models)) {
            throw new BadInputException("--models " + models + " is not a folder; create it with one sub-folder per model "
                    + "holding model.onnx (squeeze export --output DIR/NAME/model.onnx)");
        }
        Map<String, Object> properties = new LinkedHashMap<>(ServingOptions.options(spec).properties());
        properties.put("squeeze.serve.models", models.toAbsolutePath().toString());
        String key = apiKey(apiKey, env().get("SQUEEZE_API_KEY"));
        if (key != null) properties.put("squeeze.serve.api-key", key);
        EmbeddedServer server;
        try {
            server = SqueezeServer.start(properties);
        } catch (PortInUseException e) {
            String flag = "--" + e.setting();
            throw new BadInputException(e.getMessage() + ": stop what is listening there, or pick another port with "
                    + flag + " N (" + flag + " 0 picks a free one" + (e.setting().equals("grpc-port")
                    ? ", --grpc-port -1 serves no gRPC)" : ")"), e);
        }
        err().println("squeeze serve: serving " + models.toAbsolutePath() + " at " + server.getURL()
                + grpc(server) + " (Ctrl-C to stop)");
        err().flush();
        while (server.isRunning()) Thread.sleep(500);
        return ExitCodes.OK;
    }

    /** ", gRPC at HOST:PORT" for a server that serves gRPC; empty for one that does not. */
    static String grpc(EmbeddedServer server) {
        GrpcServer grpc = GrpcServer.of(server.getApplicationContext());
        return grpc.enabled() ? ", gRPC at " + grpc.target() : "";
    }

    /**
     * The key the server requires: {@code --api-key}, else {@code $SQUEEZE_API_KEY}, else none (null). An empty or blank
     * one is refused rather than read as "no key": a key that went missing (an unset secret, a quoting slip) must not
     * silently open the repository API.
     */
    static String apiKey(String flag, String env) {
        if (flag != null) {
            if (flag.isBlank()) {
                throw new BadInputException("--api-key is empty: give the key clients must send, or leave --api-key out "
                        + "to serve without one");
            }
            return flag;
        }
        if (env != null && env.isBlank()) {
            throw new BadInputException("SQUEEZE_API_KEY is set but empty: set it to the key clients must send, or unset "
                    + "it to serve without one");
        }
        return env;
    }
}
