package dev.squeeze.serve.grpc;

import dev.squeeze.serve.grpc.v2.GRPCInferenceServiceGrpc;
import dev.squeeze.serve.http.ApiKeyFilter;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

import java.util.Set;

/**
 * When the server has an API key ({@code squeeze.serve.api-key}), the repository calls (RepositoryIndex,
 * RepositoryModelLoad, RepositoryModelUnload) need it as call metadata, {@code authorization: Bearer KEY} or
 * {@code x-api-key: KEY}, checked as {@link ApiKeyFilter} checks the HTTP headers; otherwise they end UNAUTHENTICATED
 * before the service sees them. Health, metadata and inference stay open, as on HTTP.
 */
final class ApiKeyInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<String> API_KEY = Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);

    /** The calls that need the key. */
    static final Set<String> GUARDED = Set.of(
            GRPCInferenceServiceGrpc.getRepositoryIndexMethod().getFullMethodName(),
            GRPCInferenceServiceGrpc.getRepositoryModelLoadMethod().getFullMethodName(),
            GRPCInferenceServiceGrpc.getRepositoryModelUnloadMethod().getFullMethodName());

    private final String key;

    /** @param key the server's key, set and not empty */
    ApiKeyInterceptor(String key) {
        this.key = key;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        if (GUARDED.contains(call.getMethodDescriptor().getFullMethodName())) {
            String refusal = ApiKeyFilter.refusal(key, headers.get(API_KEY), headers.get(AUTHORIZATION), "the repository API");
            if (refusal != null) {
                // gRPC metadata are HTTP/2 headers: the message's header names are the metadata keys
                call.close(Status.UNAUTHENTICATED.withDescription(refusal), new Metadata());
                return new ServerCall.Listener<>() {
                };
            }
        }
        return next.startCall(call, headers);
    }
}
