package dev.squeeze.serve.load;

import dev.squeeze.serve.grpc.v2.GRPCInferenceServiceGrpc;
import dev.squeeze.serve.grpc.v2.ModelInferRequest;
import dev.squeeze.serve.grpc.v2.ModelInferResponse;
import dev.squeeze.serve.runtime.HostTensor;
import dev.squeeze.serve.runtime.RawTensors;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.stub.StreamObserver;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The requests of {@link Protocol#GRPC}: {@code ModelInfer} with every input in {@code raw_input_contents} (so the
 * answer comes in {@code raw_output_contents}), on generated async stubs over grpc-java's Netty transport. One channel
 * (one HTTP/2 connection) per client thread, each on its own event loop; the virtual users are spread over the
 * channels, each with one call in flight at a time; callbacks run on the event loops (direct executor), so the
 * client's threads are exactly the event loops.
 */
final class GrpcTransport implements Transport {
    /** The largest answer read. */
    private static final int MAX_ANSWER_BYTES = 256 * 1024 * 1024;
    /** How long a user waits before calling again after the server could not be reached. */
    private static final long RETRY_DELAY_MILLIS = 50;

    private final EventLoopGroup group;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<GRPCInferenceServiceGrpc.GRPCInferenceServiceStub> stubs = new ArrayList<>();
    private final ModelInferRequest request;
    private final Duration timeout;
    private final String target;
    private final AtomicInteger users = new AtomicInteger();

    /**
     * @param target  the server's gRPC {@code HOST:PORT}
     * @param threads event loops and channels, the loops made by {@code factory}
     */
    GrpcTransport(String target, String model, List<HostTensor> inputs, int threads, ThreadFactory factory,
                  Duration timeout) {
        this.request = request(model, inputs);
        this.timeout = timeout;
        this.target = target;
        this.group = new MultiThreadIoEventLoopGroup(threads, factory, NioIoHandler.newFactory());
        for (int i = 0; i < threads; i++) {
            ManagedChannel channel = NettyChannelBuilder.forTarget(target)
                    .usePlaintext()
                    .eventLoopGroup(group)
                    .channelType(NioSocketChannel.class)
                    .directExecutor()
                    .maxInboundMessageSize(MAX_ANSWER_BYTES)
                    .build();
            channels.add(channel);
            stubs.add(GRPCInferenceServiceGrpc.newStub(channel));
        }
    }

    /** A ModelInfer request for {@code model}: every input's shape and datatype, its data in raw_input_contents. */
    static ModelInferRequest request(String model, List<HostTensor> inputs) {
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model);
        for (HostTensor t : inputs) {
            b.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName(t.name())
                    .setDatatype(t.type().protocolName())
                    .addAllShape(Arrays.stream(t.shape()).boxed().toList()));
            b.addRawInputContents(UnsafeByteOperations.unsafeWrap(RawTensors.encode(t)));
        }
        return b.build();
    }

    /** The serialized request's size. */
    long requestBytes() {
        return request.getSerializedSize();
    }

    @Override
    public void start(LoadGenerator.Users level) {
        new User(level, stubs.get(Math.floorMod(users.getAndIncrement(), stubs.size()))).send();
    }

    @Override
    public void close() {
        for (ManagedChannel c : channels) c.shutdownNow();
        for (ManagedChannel c : channels) {
            try {
                c.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** One virtual user: one call at a time on its channel. */
    private final class User implements StreamObserver<ModelInferResponse> {
        private final LoadGenerator.Users level;
        private final GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub;
        private long sent;
        private boolean answered;

        User(LoadGenerator.Users level, GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub) {
            this.level = level;
            this.stub = stub;
        }

        void send() {
            if (level.stopping()) {
                level.userDone();
                return;
            }
            answered = false;
            sent = System.nanoTime();
            stub.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS).modelInfer(request, this);
        }

        @Override
        public void onNext(ModelInferResponse response) {
            answered = response.getOutputsCount() > 0;
        }

        @Override
        public void onCompleted() {
            long latency = System.nanoTime() - sent;
            level.record(latency, answered ? null : () -> "gRPC OK without outputs");
            send();
        }

        @Override
        public void onError(Throwable t) {
            long latency = System.nanoTime() - sent;
            Status status = Status.fromThrowable(t);
            level.record(latency, () -> describe(status));
            // Not from this callback: a call that fails at once (no connection) would recurse; and not at once when
            // the server cannot be reached, which would spin.
            long delay = status.getCode() == Status.Code.UNAVAILABLE ? RETRY_DELAY_MILLIS : 0;
            group.next().schedule(this::send, delay, TimeUnit.MILLISECONDS);
        }

        private String describe(Status status) {
            if (status.getCode() == Status.Code.DEADLINE_EXCEEDED) return "no answer within " + LoadGenerator.seconds(timeout);
            String d = status.getDescription();
            String where = status.getCode() == Status.Code.UNAVAILABLE ? " (" + target + ")" : "";
            return "gRPC " + status.getCode() + where + (d == null || d.isBlank() ? "" : ": " + d);
        }
    }
}
