package dev.squeeze.serve.http;

import dev.squeeze.serve.runtime.InferenceProtocol;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.ServerHttpRequest;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Produces;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.parameters.RequestBody;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * The Open Inference Protocol v2 endpoints for health, model metadata and inference (JSON, and Triton's binary tensor
 * data extension), and v1 predict.
 */
@Controller
@Tag(name = "inference")
public class InferenceController {
    private final ModelServing serving;

    public InferenceController(ModelServing serving) {
        this.serving = serving;
    }

    @Get("/v2/health/live")
    @Operation(summary = "The server is running")
    public Map<String, Boolean> live() {
        return Map.of("live", true);
    }

    @Get("/v2/health/ready")
    @Operation(summary = "The server is ready to serve (its model folder is being watched)")
    public Map<String, Boolean> ready() {
        return Map.of("ready", true);
    }

    @Get("/v2/models/{name}")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "A model's inputs and outputs (name, datatype, shape; -1 is any size) and its metadata")
    public HttpResponse<byte[]> metadata(String name) {
        return timed(name, "metadata", () -> HttpResponse.ok(serving.metadata(name)));
    }

    @Get("/v2/models/{name}/ready")
    @Operation(summary = "200 when the model is loaded and serving, 404 otherwise")
    public HttpResponse<Map<String, Object>> modelReady(String name) {
        boolean ready = serving.ready(name);
        return HttpResponse.<Map<String, Object>>status(ready ? HttpStatus.OK : HttpStatus.NOT_FOUND)
                .body(Map.of("name", name, "ready", ready));
    }

    @Post(value = "/v2/models/{name}/infer", consumes = MediaType.ALL,
            produces = {MediaType.APPLICATION_JSON, MediaType.APPLICATION_OCTET_STREAM})
    @Operation(summary = "Run the model on JSON tensors or binary tensor data (Open Inference Protocol v2 and Triton's "
            + "binary tensor data extension); concurrent requests are batched",
            description = "A JSON body, or (binary tensor data) a JSON inference header whose length in bytes the "
                    + InferenceProtocol.HEADER_LENGTH + " header gives, followed by the raw little-endian bytes of the "
                    + "inputs that have \"parameters\": {\"binary_data_size\": N}, in input order (BYTES: each element a "
                    + "4-byte little-endian length and its bytes). Outputs asked for with \"parameters\": "
                    + "{\"binary_data\": true}, or all with the request parameter \"binary_data_output\": true, come back "
                    + "the same way: application/octet-stream, the JSON part's length in " + InferenceProtocol.HEADER_LENGTH
                    + ", each such output with binary_data_size in place of data.",
            parameters = @Parameter(in = ParameterIn.HEADER, name = InferenceProtocol.HEADER_LENGTH, required = false,
                    description = "binary tensor data: the length in bytes of the JSON part at the start of the body",
                    schema = @Schema(type = "integer", minimum = "1")),
            requestBody = @RequestBody(required = true, content = {@Content(mediaType = MediaType.APPLICATION_JSON),
                    @Content(mediaType = MediaType.APPLICATION_OCTET_STREAM)}),
            responses = @ApiResponse(responseCode = "200", description = "JSON; with binary outputs, "
                    + "application/octet-stream: the JSON part (its length in " + InferenceProtocol.HEADER_LENGTH
                    + "), then the outputs' raw bytes", content = {@Content(mediaType = MediaType.APPLICATION_JSON),
                    @Content(mediaType = MediaType.APPLICATION_OCTET_STREAM)}))
    public CompletableFuture<HttpResponse<byte[]>> infer(String name, HttpRequest<?> request) {
        String jsonHeaderLength = request.getHeaders().get(InferenceProtocol.HEADER_LENGTH);
        return withBody(request, name, "infer", (body, bytes) -> serving.infer(name, body, bytes, jsonHeaderLength)
                .thenApply(InferenceController::inferResponse));
    }

    /**
     * JSON as application/json; JSON followed by binary tensor data as application/octet-stream (as Triton answers)
     * with the JSON's length in the {@value InferenceProtocol#HEADER_LENGTH} header.
     */
    private static HttpResponse<byte[]> inferResponse(InferenceProtocol.Body body) {
        if (!body.binary()) return HttpResponse.ok(body.bytes()).contentType(MediaType.APPLICATION_JSON_TYPE);
        return HttpResponse.ok(body.bytes()).contentType(MediaType.APPLICATION_OCTET_STREAM_TYPE)
                .header(InferenceProtocol.HEADER_LENGTH, Integer.toString(body.jsonBytes()));
    }

    @Post(value = "/v1/models/{name}/predict", consumes = MediaType.ALL, produces = MediaType.APPLICATION_JSON)
    @Operation(summary = "Classify one image: a PNG body, or a JSON array of raw pixel values; returns label and probabilities",
            requestBody = @RequestBody(required = true, content = {@Content(mediaType = MediaType.IMAGE_PNG),
                    @Content(mediaType = MediaType.APPLICATION_JSON)}))
    public CompletableFuture<HttpResponse<byte[]>> predict(String name, HttpRequest<?> request) {
        String type = request.getContentType().map(MediaType::toString).orElse(null);
        return withBody(request, name, "predict", (body, bytes) -> serving.predict(name, type, body)
                .thenApply(HttpResponse::ok));
    }

    /**
     * Runs {@code work} on the request's body once all of it has arrived, reading the bytes as Netty buffered them
     * ({@code @Body byte[]} would copy them whole first), and releases them when {@code work} has decoded them.
     */
    private CompletableFuture<HttpResponse<byte[]>> withBody(HttpRequest<?> request, String model, String endpoint,
                                                             BiFunction<InputStream, Long, CompletableFuture<HttpResponse<byte[]>>> work) {
        if (!(request instanceof ServerHttpRequest<?> received)) {
            throw new IllegalStateException("not a request received by this server: " + request.getClass());
        }
        // Consumed here, not split as Micronaut's @Body binding does: a split leaves the request a second claim on the
        // bytes that holds them until the response is sent. Nothing else reads the body of these endpoints (no @Body
        // argument, no filter reads it), and the request's own close of a consumed body does nothing.
        return received.byteBody().buffer()
                .thenCompose(body -> timedAsync(model, endpoint, () -> {
                    long bytes = body.length();
                    try (InputStream in = body.toInputStream()) {
                        return work.apply(in, bytes);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
    }

    private HttpResponse<byte[]> timed(String model, String endpoint, Supplier<HttpResponse<byte[]>> work) {
        long start = System.nanoTime();
        try {
            HttpResponse<byte[]> r = work.get();
            serving.metrics().request(model, endpoint, "ok", System.nanoTime() - start);
            return r;
        } catch (RuntimeException e) {
            serving.metrics().request(model, endpoint, outcome(e), System.nanoTime() - start);
            throw e;
        }
    }

    private CompletableFuture<HttpResponse<byte[]>> timedAsync(String model, String endpoint,
                                                               Supplier<CompletableFuture<HttpResponse<byte[]>>> work) {
        long start = System.nanoTime();
        CompletableFuture<HttpResponse<byte[]>> f;
        try {
            f = work.get();
        } catch (RuntimeException e) {
            serving.metrics().request(model, endpoint, outcome(e), System.nanoTime() - start);
            return CompletableFuture.failedFuture(e);
        }
        return f.handle((response, e) -> {
            Throwable cause = e instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : e;
            serving.metrics().request(model, endpoint, cause == null ? "ok" : outcome(cause), System.nanoTime() - start);
            if (cause != null) {
                if (cause instanceof RuntimeException r) throw r;
                // ONNX Runtime's OrtException: the model failed on input that passed every check (500).
                throw new IllegalStateException(model + " failed to run this request: " + cause.getMessage(), cause);
            }
            return response;
        });
    }

    static String outcome(Throwable e) {
        return e instanceof dev.squeeze.serve.runtime.BadRequestException ? "client_error" : "server_error";
    }
}
