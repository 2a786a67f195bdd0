package dev.squeeze.serve.grpc;

import dev.squeeze.serve.grpc.v2.GRPCInferenceServiceGrpc;
import dev.squeeze.serve.grpc.v2.ModelInferRequest;
import dev.squeeze.serve.grpc.v2.ModelInferResponse;
import dev.squeeze.serve.grpc.v2.ModelMetadataRequest;
import dev.squeeze.serve.grpc.v2.ModelMetadataResponse;
import dev.squeeze.serve.grpc.v2.ModelReadyRequest;
import dev.squeeze.serve.grpc.v2.ModelReadyResponse;
import dev.squeeze.serve.grpc.v2.RepositoryIndexRequest;
import dev.squeeze.serve.grpc.v2.RepositoryIndexResponse;
import dev.squeeze.serve.grpc.v2.RepositoryModelLoadRequest;
import dev.squeeze.serve.grpc.v2.RepositoryModelLoadResponse;
import dev.squeeze.serve.grpc.v2.RepositoryModelUnloadRequest;
import dev.squeeze.serve.grpc.v2.RepositoryModelUnloadResponse;
import dev.squeeze.serve.grpc.v2.ServerLiveRequest;
import dev.squeeze.serve.grpc.v2.ServerLiveResponse;
import dev.squeeze.serve.grpc.v2.ServerMetadataRequest;
import dev.squeeze.serve.grpc.v2.ServerMetadataResponse;
import dev.squeeze.serve.grpc.v2.ServerReadyRequest;
import dev.squeeze.serve.grpc.v2.ServerReadyResponse;
import dev.squeeze.serve.http.ModelServing;
import dev.squeeze.serve.runtime.BadRequestException;
import dev.squeeze.serve.runtime.DynamicBatcher;
import dev.squeeze.serve.runtime.InferRequest;
import dev.squeeze.serve.runtime.InferenceProtocol;
import dev.squeeze.serve.runtime.ModelRepository.ModelNotFoundException;
import dev.squeeze.serve.runtime.ModelState;
import dev.squeeze.serve.runtime.RepositoryEntry;
import dev.squeeze.serve.runtime.TensorSpec;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * {@code inference.GRPCInferenceService} over {@link ModelServing}: the same repository, dynamic batching and input
 * checks as the HTTP endpoints. Failures are the protocol's status codes, with the HTTP side's messages:
 * INVALID_ARGUMENT for a request the server cannot serve as sent, NOT_FOUND for an unknown model or version,
 * UNAVAILABLE for a model still loading or being unloaded, INTERNAL when the model fails on input that passed every
 * check. (UNAUTHENTICATED comes from {@link ApiKeyInterceptor}; a stopping server's UNAVAILABLE from gRPC itself.)
 *
 * <p>Handlers run on gRPC's transport threads and never block them: inference answers from the batcher's thread
 * when the batch has run; the repository calls, which load files, run on {@code blocking}.
 */
final class InferenceService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
    /** What ServerMetadata reports as the server's name. */
    static final String NAME = "squeeze";
    /** The protocol extensions the service implements (Triton's names). */
    static final List<String> EXTENSIONS = List.of("model_repository");

    private final ModelServing serving;
    private final Executor blocking;

    InferenceService(ModelServing serving, Executor blocking) {
        this.serving = serving;
        this.blocking = blocking;
    }

    @Override
    public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> out) {
        reply(out, () -> ServerLiveResponse.newBuilder().setLive(true).build());
    }

    @Override
    public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
        reply(out, () -> ServerReadyResponse.newBuilder().setReady(true).build());
    }

    @Override
    public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> out) {
        String version = InferenceService.class.getPackage().getImplementationVersion();
        reply(out, () -> ServerMetadataResponse.newBuilder().setName(NAME).setVersion(version == null ? "dev" : version)
                .addAllExtensions(EXTENSIONS).build());
    }

    /** Ready: loaded and serving, and, when a version is given, that version. An unknown model is simply not ready. */
    @Override
    public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> out) {
        reply(out, () -> {
            RepositoryEntry e = entry(request.getName());
            boolean ready = e != null && e.state() == ModelState.READY
                    && (request.getVersion().isEmpty() || request.getVersion().equals(Long.toString(e.version())));
            return ModelReadyResponse.newBuilder().setReady(ready).build();
        });
    }

    @Override
    public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> out) {
        String name = request.getName();
        long start = System.nanoTime();
        try {
            ModelServing.Served served = serving.served(name);
            checkVersion(name, request.getVersion(), served.version());
            ModelMetadataResponse.Builder m = ModelMetadataResponse.newBuilder().setName(name)
                    .addVersions(Long.toString(served.version())).setPlatform(InferenceProtocol.PLATFORM);
            for (TensorSpec s : served.spec().inputs()) m.addInputs(tensor(s));
            for (TensorSpec s : served.spec().outputs()) m.addOutputs(tensor(s));
            out.onNext(m.build());
            out.onCompleted();
            record(name, "metadata", Status.Code.OK, start);
        } catch (RuntimeException e) {
            fail(out, name, "metadata", start, e);
        }
    }

    /**
     * Decodes the request against the version serving (raw or typed, see {@link GrpcTensors}), queues it in that
     * version's dynamic batch and answers when the batch has run: raw outputs for raw inputs, typed otherwise.
     */
    @Override
    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> out) {
        String name = request.getModelName();
        String version = request.getModelVersion();
        long start = System.nanoTime();
        try {
            if (!version.isEmpty()) checkVersion(name, version, serving.served(name).version());
            serving.infer(name, spec -> GrpcTensors.decode(request, spec, serving.maxElements())).whenComplete((answer, error) -> {
                try {
                    if (error != null) throw error instanceof CompletionException c && c.getCause() != null ? c.getCause() : error;
                    // the version may have been replaced between the check and the run
                    if (!version.isEmpty()) checkVersion(name, version, answer.version());
                    InferRequest asked = answer.request();
                    ModelInferResponse response = GrpcTensors.encode(name, answer.version(), asked.id(), answer.outputs(),
                            GrpcTensors.rawResponse(request, answer.outputs()));
                    out.onNext(response);
                    out.onCompleted();
                    record(name, "infer", Status.Code.OK, start);
                } catch (Throwable t) {
                    fail(out, name, "infer", start, t);
                }
            });
        } catch (RuntimeException e) {
            fail(out, name, "infer", start, e);
        }
    }

    /** Every model folder, or with {@code ready} only those serving; the version of each that has loaded one. */
    @Override
    public void repositoryIndex(RepositoryIndexRequest request, StreamObserver<RepositoryIndexResponse> out) {
        offload(out, () -> {
            RepositoryIndexResponse.Builder index = RepositoryIndexResponse.newBuilder();
            for (RepositoryEntry e : serving.entries()) {
                if (request.getReady() && e.state() != ModelState.READY) continue;
                index.addModelsBuilder().setName(e.name()).setVersion(e.version() > 0 ? Long.toString(e.version()) : "")
                        .setState(e.state().name()).setReason(e.reason());
            }
            return index.build();
        });
    }

    @Override
    public void repositoryModelLoad(RepositoryModelLoadRequest request, StreamObserver<RepositoryModelLoadResponse> out) {
        offload(out, () -> {
            serving.load(request.getModelName());
            return RepositoryModelLoadResponse.getDefaultInstance();
        });
    }

    @Override
    public void repositoryModelUnload(RepositoryModelUnloadRequest request, StreamObserver<RepositoryModelUnloadResponse> out) {
        offload(out, () -> {
            serving.unload(request.getModelName());
            return RepositoryModelUnloadResponse.getDefaultInstance();
        });
    }

    // -----------------------------------------------------------------------------------------------------------------

    private static ModelMetadataResponse.TensorMetadata tensor(TensorSpec s) {
        ModelMetadataResponse.TensorMetadata.Builder t = ModelMetadataResponse.TensorMetadata.newBuilder()
                .setName(s.name()).setDatatype(s.type().protocolName());
        for (long d : s.shape()) t.addShape(d);
        return t.build();
    }

    /** NOT_FOUND unless {@code asked} is empty or the version serving. */
    private static void checkVersion(String name, String asked, long serving) {
        if (!asked.isEmpty() && !asked.equals(Long.toString(serving))) {
            throw Status.NOT_FOUND.withDescription("model '" + name + "' has no version '" + asked + "' serving; version "
                    + serving + " is (leave the version empty for the version serving)").asRuntimeException();
        }
    }

    private RepositoryEntry entry(String name) {
        for (RepositoryEntry e : serving.entries()) if (e.name().equals(name)) return e;
        return null;
    }

    /**
     * The protocol's status for a failure, with the message the HTTP side gives: an unknown model is NOT_FOUND, one
     * still loading or being unloaded UNAVAILABLE (retry), a request the server cannot serve INVALID_ARGUMENT, the
     * model failing on a checked request INTERNAL.
     */
    Status status(String model, Throwable e) {
        if (e instanceof StatusRuntimeException s) return s.getStatus();
        if (e instanceof ModelNotFoundException notFound) {
            RepositoryEntry entry = entry(notFound.model());
            return (entry != null && entry.state() == ModelState.LOADING ? Status.UNAVAILABLE : Status.NOT_FOUND)
                    .withDescription(e.getMessage());
        }
        if (e instanceof ModelServing.UnloadingException) return Status.UNAVAILABLE.withDescription(e.getMessage());
        if (e instanceof BadRequestException) return Status.INVALID_ARGUMENT.withDescription(e.getMessage());
        // DynamicBatcher's answer to a request it holds when its version is unloaded
        if (e instanceof DynamicBatcher.ModelUnloadedException) {
            return Status.UNAVAILABLE.withDescription(model + " was unloaded before this request ran; retry");
        }
        // ONNX Runtime's OrtException: the model failed on input that passed every check
        return Status.INTERNAL.withDescription(model + " failed to run this request: " + e.getMessage()).withCause(e);
    }

    /** Answers a timed call with {@code e}'s status and records it. */
    private void fail(StreamObserver<?> out, String model, String endpoint, long start, Throwable e) {
        Status status = status(model, e);
        record(model, endpoint, status.getCode(), start);
        out.onError(status.asRuntimeException());
    }

    private void record(String model, String endpoint, Status.Code code, long start) {
        String outcome = switch (code) {
            case OK -> "ok";
            case INVALID_ARGUMENT, NOT_FOUND -> "client_error";
            default -> "server_error";
        };
        serving.metrics().request(model, endpoint, "grpc", outcome, System.nanoTime() - start);
    }

    /** Answers with {@code work}'s result, or its failure's status. */
    private <T> void reply(StreamObserver<T> out, Supplier<T> work) {
        T result;
        try {
            result = work.get();
        } catch (RuntimeException e) {
            out.onError(status("", e).asRuntimeException());
            return;
        }
        out.onNext(result);
        out.onCompleted();
    }

    /** {@link #reply} on the blocking executor. */
    private <T> void offload(StreamObserver<T> out, Supplier<T> work) {
        try {
            blocking.execute(() -> reply(out, work));
        } catch (RejectedExecutionException stopping) {
            out.onError(Status.UNAVAILABLE.withDescription("the server is stopping").asRuntimeException());
        }
    }
}
