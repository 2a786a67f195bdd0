package dev.squeeze.serve.http;

import dev.squeeze.serve.runtime.BadRequestException;
import dev.squeeze.serve.runtime.InferenceProtocol;
import dev.squeeze.serve.runtime.ModelRepository.ModelNotFoundException;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;

/**
 * Every refusal as the protocol's error body {@code {"error": "..."}}: a request the server cannot serve is 400, an
 * unknown model 404; the message says what was wrong.
 */
@Produces
@Singleton
@Requires(classes = {BadRequestException.class, ExceptionHandler.class})
public class ErrorResponses implements ExceptionHandler<BadRequestException, HttpResponse<byte[]>> {

    @Override
    public HttpResponse<byte[]> handle(HttpRequest request, BadRequestException e) {
        return of(e instanceof ModelNotFoundException ? HttpStatus.NOT_FOUND : HttpStatus.BAD_REQUEST, e.getMessage());
    }

    static HttpResponse<byte[]> of(HttpStatus status, String message) {
        return HttpResponse.<byte[]>status(status).contentType(MediaType.APPLICATION_JSON_TYPE).body(InferenceProtocol.error(message));
    }
}
