package dev.squeeze.serve.http;

import dev.squeeze.serve.runtime.BadRequestException;
import dev.squeeze.serve.runtime.InferenceProtocol;
import dev.squeeze.serve.runtime.ModelRepository.ModelNotFoundException;
import io.micronaut.context.annotation.Primary;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.HttpServerConfiguration;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.ErrorResponseProcessor;
import io.netty.handler.codec.compression.DecompressionException;
import jakarta.inject.Singleton;

/**
 * Every refusal as the protocol's error body {@code {"error": "..."}}: a request the server cannot serve is 400, an
 * unknown model 404; the message says what was wrong. {@link Processor} gives the errors Micronaut answers itself
 * (no route, wrong method, body too large, an unexpected failure) the same body.
 */
@Produces
@Singleton
@Requires(classes = {BadRequestException.class, ExceptionHandler.class})
public class ErrorResponses implements ExceptionHandler<BadRequestException, HttpResponse<byte[]>> {

    @Override
    public HttpResponse<byte[]> handle(HttpRequest request, BadRequestException e) {
        return of(e instanceof ModelNotFoundException ? HttpStatus.NOT_FOUND : HttpStatus.BAD_REQUEST, e.getMessage());
    }

    static MutableHttpResponse<byte[]> of(HttpStatus status, String message) {
        return HttpResponse.<byte[]>status(status).contentType(MediaType.APPLICATION_JSON_TYPE).body(InferenceProtocol.error(message));
    }

    /** A body whose Content-Encoding (gzip, deflate, ...) does not decode: the client's mistake, 400. */
    @Produces
    @Singleton
    public static class CorruptCompressedBody implements ExceptionHandler<DecompressionException, HttpResponse<byte[]>> {
        @Override
        public HttpResponse<byte[]> handle(HttpRequest request, DecompressionException e) {
            // The decoder has already dropped the Content-Encoding header, so the message cannot name the encoding.
            String cause = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause().getMessage() : e.getMessage();
            return of(HttpStatus.BAD_REQUEST, "the request body does not decompress as its Content-Encoding header says "
                    + "(gzip or deflate): " + cause + "; send it compressed that way, or uncompressed without the header");
        }
    }

    /**
     * The body of every error response Micronaut makes itself, in place of its {@code {"message": ..., "_links": ...}}:
     * 404 for a path no endpoint serves, 405, 413, 415, and 500 for an unexpected failure.
     */
    @Primary
    @Singleton
    public static class Processor implements ErrorResponseProcessor<byte[]> {
        private final HttpServerConfiguration server;

        public Processor(HttpServerConfiguration server) {
            this.server = server;
        }

        @Override
        @SuppressWarnings("unchecked")
        public MutableHttpResponse<byte[]> processResponse(ErrorContext error, MutableHttpResponse<?> response) {
            MutableHttpResponse<byte[]> r = (MutableHttpResponse<byte[]>) response;
            if (error.getRequest().getMethod() == HttpMethod.HEAD) return r;
            return r.body(InferenceProtocol.error(message(error, response.code()))).contentType(MediaType.APPLICATION_JSON_TYPE);
        }

        private String message(ErrorContext error, int status) {
            HttpRequest<?> request = error.getRequest();
            String micronauts = error.getErrors().isEmpty() ? HttpStatus.valueOf(status).getReason()
                    : error.getErrors().get(0).getMessage();
            return switch (status) {
                case 404 -> "no endpoint serves " + request.getMethodName() + " " + request.getPath()
                        + "; the endpoints are listed in /openapi/squeeze-v2.yml";
                case 413 -> {
                    long limit = Math.min(server.getMaxRequestSize(), server.getMaxRequestBufferSize());
                    long length = request.getContentLength();
                    // Content-Length is gone when the body was decompressed; then the limit counted decompressed bytes.
                    yield length > limit
                            ? "the request body (" + length + " bytes) is over the server's limit of " + limit
                            + " bytes (micronaut.server.max-request-size); send a smaller body, or start the server with a larger limit"
                            : "the request body is over the server's limit of " + limit + " bytes, counted after "
                            + "decompressing a gzip or deflate body (micronaut.server.max-request-size); send a smaller body, "
                            + "or start the server with a larger limit";
                }
                case 500 -> "internal server error: " + error.getRootCause().map(Throwable::getMessage).orElse(micronauts);
                default -> micronauts;
            };
        }
    }
}
