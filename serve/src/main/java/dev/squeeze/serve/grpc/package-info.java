/**
 * The model server's gRPC endpoint: the Open Inference Protocol's {@code inference.GRPCInferenceService} (KServe's
 * {@code grpc_predict_v2.proto}, with Triton's model repository calls) on its own port, over the same
 * {@link dev.squeeze.serve.http.ModelServing} as the HTTP endpoints. {@link dev.squeeze.serve.grpc.GrpcServer} starts
 * it with the server's context; {@link dev.squeeze.serve.grpc.GrpcTensors} converts the messages to and from tensors.
 *
 * <p>The messages and stubs are generated at build time from {@code src/main/proto/grpc_predict_v2.proto} into
 * {@code dev.squeeze.serve.grpc.v2}: Java clients call the server with
 * {@code GRPCInferenceServiceGrpc.newBlockingStub(channel)} (or {@code newStub}, {@code newFutureStub}). That package
 * depends on nothing else of Squeeze, so clients (the load generator) use it without this one.
 */
package dev.squeeze.serve.grpc;
