package dev.squeeze.serve.grpc;

import com.google.protobuf.ByteString;
import dev.squeeze.serve.grpc.v2.GRPCInferenceServiceGrpc;
import dev.squeeze.serve.grpc.v2.InferTensorContents;
import dev.squeeze.serve.grpc.v2.ModelInferRequest;
import dev.squeeze.serve.grpc.v2.ModelInferResponse;
import dev.squeeze.serve.grpc.v2.ModelMetadataRequest;
import dev.squeeze.serve.grpc.v2.ModelMetadataResponse;
import dev.squeeze.serve.grpc.v2.ModelReadyRequest;
import dev.squeeze.serve.grpc.v2.RepositoryIndexRequest;
import dev.squeeze.serve.grpc.v2.RepositoryIndexResponse;
import dev.squeeze.serve.grpc.v2.RepositoryModelLoadRequest;
import dev.squeeze.serve.grpc.v2.RepositoryModelUnloadRequest;
import dev.squeeze.serve.grpc.v2.ServerLiveRequest;
import dev.squeeze.serve.grpc.v2.ServerMetadataRequest;
import dev.squeeze.serve.grpc.v2.ServerMetadataResponse;
import dev.squeeze.serve.grpc.v2.ServerReadyRequest;
import dev.squeeze.serve.http.ModelServing;
import dev.squeeze.serve.http.PortInUseException;
import dev.squeeze.serve.http.ServedModels;
import dev.squeeze.serve.http.SqueezeServer;
import dev.squeeze.serve.runtime.HostTensor;
import dev.squeeze.serve.runtime.RawTensors;
import dev.squeeze.serve.runtime.TensorType;
import dev.squeeze.serve.runtime.TestModels;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.lang.reflect.Array;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gRPC endpoint on a real loopback port, called through the generated Java stubs: every RPC, ModelInfer raw and
 * typed on real Squeeze exports (mlp-tiny trained on the fixture images, float and int8) and on a model with nine
 * inputs of different types (BYTES among them), each answer checked against the same file run in-process in ONNX
 * Runtime; every kind of bad input and the status it gets; the API key; dynamic batching; graceful stop; the port.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GrpcServeTest {
    private Path models;
    private EmbeddedServer server;
    private ManagedChannel channel;
    private GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

    @BeforeAll
    void start() throws Exception {
        models = Files.createTempDirectory("grpc-served");
        ServedModels.install(models, "tiny", "tiny.onnx");
        ServedModels.install(models, "tiny-int8", "tiny-int8.onnx");
        ServedModels.install(models, "spare", "tiny.onnx");
        ServedModels.install(models, "batched", "tiny-int8.onnx");
        // a lone request waits up to 300 ms for partners: concurrent calls share a batch
        Files.writeString(models.resolve("batched/config.json"), "{\"max_batch_size\": 64, \"max_queue_delay_us\": 300000}");
        TestModels.twoInputs(models.resolve("mixed"));
        GrpcTestModels.manyTypes(models.resolve("many"));
        TestModels.identity(models.resolve("half"), TensorType.FP16, -1, 2);
        TestModels.cast(models.resolve("tohalf"), TensorType.FP32, TensorType.FP16, -1, 2);
        server = SqueezeServer.start(Map.of("squeeze.serve.models", models.toString(), "micronaut.server.port", -1,
                "squeeze.serve.grpc-port", 0));
        channel = channel(GrpcServer.of(server.getApplicationContext()));
        stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
        for (String m : List.of("tiny", "tiny-int8", "spare", "batched", "mixed", "many", "half", "tohalf")) awaitReady(m);
    }

    @AfterAll
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        server.getApplicationContext().close();
    }

    private static ManagedChannel channel(GrpcServer grpc) {
        return ManagedChannelBuilder.forTarget(grpc.target()).usePlaintext().maxInboundMessageSize(64 << 20).build();
    }

    private GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub call() {
        return stub.withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    private void awaitReady(String model) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!call().modelReady(ModelReadyRequest.newBuilder().setName(model).build()).getReady()) {
            assertTrue(System.nanoTime() < deadline, model + " did not become ready");
            Thread.sleep(50);
        }
    }

    // ---- requests and answers --------------------------------------------------------------------------------------

    /** An input with its shape and datatype and no data. */
    private static ModelInferRequest.InferInputTensor.Builder input(String name, String datatype, long... shape) {
        ModelInferRequest.InferInputTensor.Builder in = ModelInferRequest.InferInputTensor.newBuilder().setName(name).setDatatype(datatype);
        for (long d : shape) in.addShape(d);
        return in;
    }

    /** A request carrying {@code tensors} raw (in raw_input_contents) or typed (in each input's contents). */
    private static ModelInferRequest.Builder request(String model, List<HostTensor> tensors, boolean raw) {
        ModelInferRequest.Builder r = ModelInferRequest.newBuilder().setModelName(model);
        for (HostTensor t : tensors) {
            ModelInferRequest.InferInputTensor.Builder in = input(t.name(), t.type().protocolName(), t.shape());
            if (raw) r.addRawInputContents(ByteString.copyFrom(RawTensors.encode(t)));
            else in.setContents(GrpcTensors.contents(t));
            r.addInputs(in);
        }
        return r;
    }

    /** Output {@code i} of a response, raw or typed. */
    private static HostTensor output(ModelInferResponse r, int i) {
        ModelInferResponse.InferOutputTensor o = r.getOutputs(i);
        TensorType type = TensorType.ofProtocolName(o.getDatatype()).orElseThrow();
        long[] shape = o.getShapeList().stream().mapToLong(Long::longValue).toArray();
        int n = Math.toIntExact(HostTensor.elementCount(shape));
        if (r.getRawOutputContentsCount() > 0) {
            assertFalse(o.hasContents(), "raw outputs carry no contents");
            return new HostTensor(o.getName(), type, shape, RawTensors.decode(type, n, r.getRawOutputContents(i).asReadOnlyByteBuffer(), o.getName()));
        }
        InferTensorContents c = o.getContents();
        Object data = switch (type) {
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int k = 0; k < n; k++) a[k] = c.getBoolContents(k);
                yield a;
            }
            case UINT8 -> {
                byte[] a = new byte[n];
                for (int k = 0; k < n; k++) a[k] = (byte) c.getUintContents(k);
                yield a;
            }
            case INT8 -> {
                byte[] a = new byte[n];
                for (int k = 0; k < n; k++) a[k] = (byte) c.getIntContents(k);
                yield a;
            }
            case INT16 -> {
                short[] a = new short[n];
                for (int k = 0; k < n; k++) a[k] = (short) c.getIntContents(k);
                yield a;
            }
            case INT32 -> c.getIntContentsList().stream().mapToInt(Integer::intValue).toArray();
            case INT64 -> c.getInt64ContentsList().stream().mapToLong(Long::longValue).toArray();
            case FP32 -> {
                float[] a = new float[n];
                for (int k = 0; k < n; k++) a[k] = c.getFp32Contents(k);
                yield a;
            }
            case FP64 -> c.getFp64ContentsList().stream().mapToDouble(Double::doubleValue).toArray();
            case BYTES -> c.getBytesContentsList().stream().map(ByteString::toStringUtf8).toArray(String[]::new);
            default -> throw new AssertionError(type + " typed");
        };
        return new HostTensor(o.getName(), type, shape, data);
    }

    private static List<HostTensor> outputs(ModelInferResponse r) {
        List<HostTensor> out = new ArrayList<>();
        for (int i = 0; i < r.getOutputsCount(); i++) out.add(output(r, i));
        return out;
    }

    private static void assertSameTensors(List<HostTensor> expected, List<HostTensor> actual) {
        assertEquals(expected.size(), actual.size(), actual.toString());
        for (int i = 0; i < expected.size(); i++) {
            HostTensor e = expected.get(i);
            HostTensor a = actual.get(i);
            assertEquals(e.toString(), a.toString(), "name, type and shape");
            assertEquals(Array.getLength(e.data()), Array.getLength(a.data()));
            for (int k = 0; k < Array.getLength(e.data()); k++) {
                assertEquals(Array.get(e.data(), k), Array.get(a.data(), k), a.name() + " value " + k);
            }
        }
    }

    /** Fixture image {@code i} as the exports' input, FP32 [1, 1, 28, 28]. */
    private static HostTensor image(String inputName, int i) {
        return new HostTensor(inputName, TensorType.FP32, new long[]{1, 1, 28, 28}, ServedModels.pixels(i));
    }

    private StatusRuntimeException refused(Status.Code code, ModelInferRequest r, String... says) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> call().modelInfer(r));
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        for (String s : says) assertTrue(e.getStatus().getDescription().contains(s), e.getStatus().getDescription());
        return e;
    }

    private String metrics() throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.getURI().resolve("/metrics")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    // ---- every RPC ----------------------------------------------------------------------------------------------------

    @Test
    void healthMetadataAndReadiness() {
        assertTrue(call().serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
        assertTrue(call().serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
        ServerMetadataResponse server = call().serverMetadata(ServerMetadataRequest.getDefaultInstance());
        assertEquals("squeeze", server.getName());
        assertFalse(server.getVersion().isEmpty());
        assertTrue(server.getExtensionsList().contains("model_repository"), server.toString());

        ModelMetadataResponse tiny = call().modelMetadata(ModelMetadataRequest.newBuilder().setName("tiny").build());
        assertEquals("tiny", tiny.getName());
        assertEquals(List.of("1"), tiny.getVersionsList());
        assertEquals("onnxruntime_onnx", tiny.getPlatform());
        assertEquals(1, tiny.getInputsCount());
        assertEquals("FP32", tiny.getInputs(0).getDatatype());
        assertEquals(List.of(-1L, 1L, 28L, 28L), tiny.getInputs(0).getShapeList());
        assertEquals(List.of("logits", "probabilities"), tiny.getOutputsList().stream().map(ModelMetadataResponse.TensorMetadata::getName).toList());
        assertEquals(List.of(-1L, 10L), tiny.getOutputs(1).getShapeList());
        ModelMetadataResponse mixed = call().modelMetadata(ModelMetadataRequest.newBuilder().setName("mixed").setVersion("1").build());
        assertEquals(List.of("x", "k"), mixed.getInputsList().stream().map(ModelMetadataResponse.TensorMetadata::getName).toList());
        assertEquals(List.of("FP32", "INT64"), mixed.getInputsList().stream().map(ModelMetadataResponse.TensorMetadata::getDatatype).toList());

        StatusRuntimeException wrongVersion = assertThrows(StatusRuntimeException.class,
                () -> call().modelMetadata(ModelMetadataRequest.newBuilder().setName("tiny").setVersion("7").build()));
        assertEquals(Status.Code.NOT_FOUND, wrongVersion.getStatus().getCode());
        assertTrue(wrongVersion.getStatus().getDescription().contains("no version '7'"), wrongVersion.getStatus().toString());
        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
                () -> call().modelMetadata(ModelMetadataRequest.newBuilder().setName("nope").build()));
        assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
        assertTrue(unknown.getStatus().getDescription().contains("no model 'nope'"), unknown.getStatus().toString());

        assertTrue(call().modelReady(ModelReadyRequest.newBuilder().setName("tiny").build()).getReady());
        assertTrue(call().modelReady(ModelReadyRequest.newBuilder().setName("tiny").setVersion("1").build()).getReady());
        assertFalse(call().modelReady(ModelReadyRequest.newBuilder().setName("tiny").setVersion("2").build()).getReady());
        assertFalse(call().modelReady(ModelReadyRequest.newBuilder().setName("nope").build()).getReady());
    }

    @Test
    void theRepositoryCallsListUnloadAndLoad() throws Exception {
        RepositoryIndexResponse index = call().repositoryIndex(RepositoryIndexRequest.getDefaultInstance());
        assertTrue(index.getModelsList().stream().anyMatch(m -> m.getName().equals("tiny") && m.getState().equals("READY")
                && m.getVersion().equals("1")), index.toString());

        call().repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("spare").build());
        assertFalse(call().modelReady(ModelReadyRequest.newBuilder().setName("spare").build()).getReady());
        RepositoryIndexResponse ready = call().repositoryIndex(RepositoryIndexRequest.newBuilder().setReady(true).build());
        assertTrue(ready.getModelsList().stream().noneMatch(m -> m.getName().equals("spare")), ready.toString());
        assertTrue(call().repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList().stream()
                .anyMatch(m -> m.getName().equals("spare") && m.getState().equals("UNAVAILABLE") && m.getReason().contains("unloaded")));
        refused(Status.Code.NOT_FOUND, request("spare", List.of(image("input", 0)), true).build(), "not ready", "unloaded");

        call().repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("spare").build());
        assertTrue(call().modelReady(ModelReadyRequest.newBuilder().setName("spare").build()).getReady());
        assertEquals(10, output(call().modelInfer(request("spare", List.of(image("input", 0)), true).build()), 1).shape()[1]);

        StatusRuntimeException missing = assertThrows(StatusRuntimeException.class,
                () -> call().repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("nope").build()));
        assertEquals(Status.Code.NOT_FOUND, missing.getStatus().getCode());
        StatusRuntimeException badName = assertThrows(StatusRuntimeException.class,
                () -> call().repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("../etc").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, badName.getStatus().getCode());
        assertTrue(badName.getStatus().getDescription().contains("is not a model name"), badName.getStatus().toString());
    }

    /** A model whose files have just appeared is LOADING until they stop changing: UNAVAILABLE (retry), then served. */
    @Test
    void aModelStillLoadingIsUnavailableThenServes() throws Exception {
        ServedModels.install(models, "late", "tiny.onnx");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (call().repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList().stream()
                .noneMatch(m -> m.getName().equals("late") && m.getState().equals("LOADING"))) {
            assertTrue(System.nanoTime() < deadline, "the poll saw the new folder");
            Thread.sleep(20);
        }
        // the next poll, 2 s after the one that saw it, loads it
        refused(Status.Code.UNAVAILABLE, request("late", List.of(image("input", 0)), true).build(), "not ready (LOADING");
        awaitReady("late");
        assertSameTensors(GrpcTestModels.inProcess(models.resolve("late/model.onnx"), List.of(image("input", 0))),
                outputs(call().modelInfer(request("late", List.of(image("input", 0)), true).build())));
    }

    // ---- ModelInfer -------------------------------------------------------------------------------------------------

    /** The float and int8 exports, raw and typed, one image and a batch of three: the in-process answers, exactly. */
    @Test
    void realExportsAnswerAsInProcessOnnxRuntimeRawAndTyped() throws Exception {
        for (String model : List.of("tiny", "tiny-int8")) {
            Path file = models.resolve(model).resolve("model.onnx");
            for (int i = 0; i < 3; i++) {
                HostTensor x = image("input", i);
                List<HostTensor> expected = GrpcTestModels.inProcess(file, List.of(x));

                // raw in, raw out: the bytes written by hand, little-endian
                ByteBuffer raw = ByteBuffer.allocate(784 * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float p : ServedModels.pixels(i)) raw.putFloat(p);
                ModelInferResponse r = call().modelInfer(ModelInferRequest.newBuilder().setModelName(model).setId("img-" + i)
                        .addInputs(input("input", "FP32", 1, 1, 28, 28)).addRawInputContents(ByteString.copyFrom(raw.array())).build());
                assertEquals(model, r.getModelName());
                assertEquals("1", r.getModelVersion());
                assertEquals("img-" + i, r.getId());
                assertEquals(2, r.getRawOutputContentsCount(), "raw inputs get raw outputs");
                assertEquals("probabilities", r.getOutputs(1).getName());
                float[] probabilities = new float[10];
                r.getRawOutputContents(1).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(probabilities);
                assertArrayEquals((float[]) expected.get(1).data(), probabilities, model + " image " + i);
                assertSameTensors(expected, outputs(r));

                // typed in, typed out
                ModelInferResponse typed = call().modelInfer(request(model, List.of(x), false).setModelVersion("1").build());
                assertEquals(0, typed.getRawOutputContentsCount(), "typed inputs get typed outputs");
                assertEquals(10, typed.getOutputs(1).getContents().getFp32ContentsCount());
                assertEquals("", typed.getId());
                assertSameTensors(expected, outputs(typed));
            }
            // a batch of three in one request
            float[] three = new float[3 * 784];
            for (int i = 0; i < 3; i++) System.arraycopy(ServedModels.pixels(i), 0, three, i * 784, 784);
            HostTensor batch = new HostTensor("input", TensorType.FP32, new long[]{3, 1, 28, 28}, three);
            assertSameTensors(GrpcTestModels.inProcess(file, List.of(batch)),
                    outputs(call().modelInfer(request(model, List.of(batch), true).build())));
        }
    }

    /** Nine inputs of nine types, BYTES among them, raw and typed; the outputs asked for, in the model's order. */
    @Test
    void severalInputsOfDifferentTypesAndBytes() throws Exception {
        List<HostTensor> in = new ArrayList<>();
        for (TensorType t : GrpcTestModels.MANY) {
            String name = GrpcTestModels.name(t);
            long[] shape = {2, 2};
            Object data = switch (t) {
                case BYTES -> new String[]{"squeeze", "", "ünïcødé ✓", "a\u0000b"};
                case BOOL -> new boolean[]{true, false, false, true};
                case INT8 -> new byte[]{-128, -1, 0, 127};
                case UINT8 -> new byte[]{0, 1, (byte) 200, (byte) 255};
                case INT16 -> new short[]{Short.MIN_VALUE, -2, 3, Short.MAX_VALUE};
                case INT32 -> new int[]{Integer.MIN_VALUE, -5, 6, Integer.MAX_VALUE};
                case INT64 -> new long[]{-(1L << 40), -7, 8, (1L << 52) + 1};
                case FP32 -> new float[]{-1.5f, 0f, 3.25f, Float.MIN_NORMAL};
                case FP64 -> new double[]{-2.5, Math.PI, 1e300, -0.0};
                default -> throw new AssertionError(t);
            };
            in.add(new HostTensor(name, t, shape, data));
        }
        Path file = models.resolve("many/model.onnx");
        List<HostTensor> expected = GrpcTestModels.inProcess(file, in);
        assertEquals(List.of(false, true, true, false), List.of(((boolean[]) expected.get(1).data())[0],
                ((boolean[]) expected.get(1).data())[1], ((boolean[]) expected.get(1).data())[2], ((boolean[]) expected.get(1).data())[3]),
                "the reference ran the model (Not)");
        for (boolean raw : new boolean[]{true, false}) {
            ModelInferResponse r = call().modelInfer(request("many", in, raw).setId("many-" + raw).build());
            assertEquals(raw ? 9 : 0, r.getRawOutputContentsCount());
            assertEquals("many-" + raw, r.getId());
            assertSameTensors(expected, outputs(r));
        }
        // the inputs in another order than the model's, and two outputs asked for (answered in the model's order)
        List<HostTensor> reversed = new ArrayList<>(in);
        java.util.Collections.reverse(reversed);
        ModelInferResponse two = call().modelInfer(request("many", reversed, true)
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("int64_out"))
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("bytes_out")).build());
        assertSameTensors(List.of(expected.get(0), expected.get(6)), outputs(two));
        // the two-input model: FP32 and INT64, one output asked for
        HostTensor x = new HostTensor("x", TensorType.FP32, new long[]{1, 3}, new float[]{1, 2, 3});
        HostTensor k = new HostTensor("k", TensorType.INT64, new long[]{1, 1}, new long[]{4});
        ModelInferResponse z = call().modelInfer(request("mixed", List.of(x, k), false)
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("z")).build());
        assertEquals(1, z.getOutputsCount());
        assertEquals(List.of(8L), z.getOutputs(0).getContents().getInt64ContentsList());
    }

    /** FP16 and BF16 have no typed field: they come raw, and an FP16 output goes back raw even to typed inputs. */
    @Test
    void halfPrecisionTravelsRaw() throws Exception {
        HostTensor h = new HostTensor("x", TensorType.FP16, new long[]{1, 2}, new short[]{(short) 0x3C00, (short) 0xC000});
        ModelInferResponse r = call().modelInfer(request("half", List.of(h), true).build());
        assertSameTensors(List.of(new HostTensor("y", TensorType.FP16, new long[]{1, 2}, h.data())), outputs(r));
        refused(Status.Code.INVALID_ARGUMENT, request("half", List.of(), false)
                .addInputs(input("x", "FP16", 1, 2).setContents(InferTensorContents.newBuilder().addFp32Contents(1).addFp32Contents(2)))
                .build(), "input 'x' is FP16, which has no field in contents", "raw_input_contents");

        HostTensor f = new HostTensor("x", TensorType.FP32, new long[]{1, 2}, new float[]{1f, -2f});
        ModelInferResponse cast = call().modelInfer(request("tohalf", List.of(f), false).build());
        assertEquals(1, cast.getRawOutputContentsCount(), "an FP16 output is raw");
        assertSameTensors(GrpcTestModels.inProcess(models.resolve("tohalf/model.onnx"), List.of(f)), outputs(cast));
    }

    /** Every mistake a request can make, each refused with the status the protocol gives it and a message that says what. */
    @Test
    void everyBadInputIsRefusedWithItsStatus() {
        HostTensor x = new HostTensor("x", TensorType.FP32, new long[]{1, 3}, new float[]{1, 2, 3});
        HostTensor k = new HostTensor("k", TensorType.INT64, new long[]{1, 1}, new long[]{4});
        byte[] xRaw = RawTensors.encode(x);
        byte[] kRaw = RawTensors.encode(k);

        // raw data whose size disagrees with its shape
        refused(Status.Code.INVALID_ARGUMENT, ModelInferRequest.newBuilder().setModelName("mixed")
                .addInputs(input("x", "FP32", 1, 3)).addInputs(input("k", "INT64", 1, 1))
                .addRawInputContents(ByteString.copyFrom(xRaw, 0, 8)).addRawInputContents(ByteString.copyFrom(kRaw)).build(),
                "input 'x' (raw_input_contents[0])", "8 bytes of FP32 data", "needs 3 values");
        // as many raw entries as inputs, or none
        refused(Status.Code.INVALID_ARGUMENT, ModelInferRequest.newBuilder().setModelName("mixed")
                .addInputs(input("x", "FP32", 1, 3)).addInputs(input("k", "INT64", 1, 1))
                .addRawInputContents(ByteString.copyFrom(xRaw)).build(),
                "raw_input_contents has 1 entry but the request has 2 inputs");
        // raw and typed both
        refused(Status.Code.INVALID_ARGUMENT, ModelInferRequest.newBuilder().setModelName("mixed")
                .addInputs(input("x", "FP32", 1, 3).setContents(GrpcTensors.contents(x))).addInputs(input("k", "INT64", 1, 1))
                .addRawInputContents(ByteString.copyFrom(xRaw)).addRawInputContents(ByteString.copyFrom(kRaw)).build(),
                "input 'x' has values in its contents and the request has raw_input_contents");
        // typed: too few values, values in another type's field
        refused(Status.Code.INVALID_ARGUMENT, request("mixed", List.of(k), false)
                .addInputs(input("x", "FP32", 1, 3).setContents(InferTensorContents.newBuilder().addFp32Contents(1).addFp32Contents(2))).build(),
                "input 'x': shape [1, 3] needs 3 values in contents.fp32_contents, got 2");
        refused(Status.Code.INVALID_ARGUMENT, request("mixed", List.of(x), false)
                .addInputs(input("k", "INT64", 1, 1).setContents(InferTensorContents.newBuilder().addIntContents(4))).build(),
                "input 'k' is INT64: its values go in contents.int64_contents, but 1 value is in contents.int_contents");
        // a typed value out of its type's range
        refused(Status.Code.INVALID_ARGUMENT, ModelInferRequest.newBuilder().setModelName("many")
                .addInputs(input("int8", "INT8", 1, 2).setContents(InferTensorContents.newBuilder().addIntContents(1).addIntContents(300))).build(),
                "input 'int8' is INT8: value 1 is 300, outside -128 to 127");
        // BYTES raw data whose lengths run past the data
        refused(Status.Code.INVALID_ARGUMENT, ModelInferRequest.newBuilder().setModelName("many")
                .addInputs(input("bytes", "BYTES", 1, 2))
                .addRawInputContents(ByteString.copyFrom(new byte[]{5, 0, 0, 0, 'a', 'b'})).build(),
                "BYTES element 0 says it is 5 bytes long but only 2 bytes follow");
        // wrong datatype, wrong shape, unknown input, missing input, the same input twice
        refused(Status.Code.INVALID_ARGUMENT, request("mixed", List.of(k, new HostTensor("x", TensorType.FP64, new long[]{1, 3},
                new double[]{1, 2, 3})), true).build(), "input 'x' has datatype FP64 but the model's input 'x' is FP32");
        refused(Status.Code.INVALID_ARGUMENT, request("mixed", List.of(k, new HostTensor("x", TensorType.FP32, new long[]{1, 4},
                new float[]{1, 2, 3, 4})), true).build(), "input 'x': shape [1, 4] does not match the model's input shape");
        refused(Status.Code.INVALID_ARGUMENT, request("mixed", List.of(x, k, new HostTensor("w", TensorType.FP32, new long[]{1},
                new float[]{1})), true).build(), "unknown input 'w'");
        refused(Status.Code.INVALID_ARGUMENT, request("mixed", List.of(x), true).build(), "missing input 'k'");
        refused(Status.Code.INVALID_ARGUMENT, request("mixed", List.of(x, x, k), true).build(), "input 'x' is given twice");
        // an unknown output
        refused(Status.Code.INVALID_ARGUMENT, request("mixed", List.of(x, k), true)
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("q")).build(), "unknown output 'q'");
        // an unknown model, a version not serving, a name that is not a model name
        refused(Status.Code.NOT_FOUND, request("nope", List.of(x, k), true).build(), "no model 'nope'");
        refused(Status.Code.NOT_FOUND, request("mixed", List.of(x, k), true).setModelVersion("2").build(),
                "model 'mixed' has no version '2' serving; version 1 is");
        refused(Status.Code.INVALID_ARGUMENT, request("../mixed", List.of(x, k), true).build(), "is not a model name");
    }

    // ---- batching, metrics, the API key, stopping, the port ---------------------------------------------------------

    /** Concurrent calls join one batch (the batch metric shows several rows per run), and each gets its own answer. */
    @Test
    void concurrentCallsAreBatchedAndEachGetsItsOwnAnswer() throws Exception {
        GRPCInferenceServiceGrpc.GRPCInferenceServiceStub async = GRPCInferenceServiceGrpc.newStub(channel);
        Path file = models.resolve("batched/model.onnx");
        int calls = 16;
        List<CompletableFuture<ModelInferResponse>> answers = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            CompletableFuture<ModelInferResponse> f = new CompletableFuture<>();
            async.withDeadlineAfter(60, TimeUnit.SECONDS).modelInfer(request("batched", List.of(image("input", i % 8)), i % 2 == 0)
                    .setId(Integer.toString(i)).build(), new StreamObserver<>() {
                @Override
                public void onNext(ModelInferResponse value) {
                    f.complete(value);
                }

                @Override
                public void onError(Throwable t) {
                    f.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                }
            });
            answers.add(f);
        }
        for (int i = 0; i < calls; i++) {
            ModelInferResponse r = answers.get(i).get(60, TimeUnit.SECONDS);
            assertEquals(Integer.toString(i), r.getId());
            assertSameTensors(GrpcTestModels.inProcess(file, List.of(image("input", i % 8))), outputs(r));
        }
        String metrics = metrics();
        assertTrue(metric(metrics, "squeeze_batch_rows_max{model=\"batched\"}") > 1, "several rows in one run:\n" + metrics);
        assertEquals(calls, metric(metrics, "squeeze_requests_seconds_count{endpoint=\"infer\",model=\"batched\",outcome=\"ok\",protocol=\"grpc\"}"),
                metrics);
    }

    /** The value of the Prometheus sample {@code series}; NaN when there is none. */
    private static double metric(String metrics, String series) {
        for (String line : metrics.lines().toList()) {
            if (line.startsWith(series + " ")) return Double.parseDouble(line.substring(series.length() + 1).trim());
        }
        return Double.NaN;
    }

    @Test
    void metricsCountGrpcRequestsByOutcome() throws Exception {
        HostTensor x = new HostTensor("x", TensorType.FP32, new long[]{1, 3}, new float[]{1, 2, 3});
        refused(Status.Code.INVALID_ARGUMENT, request("mixed", List.of(x), true).build(), "missing input 'k'");
        String metrics = metrics();
        assertTrue(metric(metrics, "squeeze_requests_seconds_count{endpoint=\"infer\",model=\"mixed\",outcome=\"client_error\",protocol=\"grpc\"}") >= 1,
                metrics);
    }

    @Test
    void theRepositoryCallsNeedTheKeyWhenOneIsSet() throws Exception {
        Path dir = Files.createTempDirectory("grpc-key");
        ServedModels.install(dir, "tiny", "tiny.onnx");
        EmbeddedServer keyed = SqueezeServer.start(Map.of("squeeze.serve.models", dir.toString(), "micronaut.server.port", -1,
                "squeeze.serve.grpc-port", 0, "squeeze.serve.api-key", "s3cret"));
        ManagedChannel ch = channel(GrpcServer.of(keyed.getApplicationContext()));
        try {
            var open = GRPCInferenceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
            StatusRuntimeException none = assertThrows(StatusRuntimeException.class,
                    () -> open.repositoryIndex(RepositoryIndexRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode());
            assertTrue(none.getStatus().getDescription().contains("needs the server's API key"), none.getStatus().toString());
            for (var call : List.<Consumer<GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub>>of(
                    s -> s.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("tiny").build()),
                    s -> s.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("tiny").build()))) {
                assertEquals(Status.Code.UNAUTHENTICATED, assertThrows(StatusRuntimeException.class, () -> call.accept(open))
                        .getStatus().getCode());
            }
            assertTrue(open.modelReady(ModelReadyRequest.newBuilder().setName("tiny").build()).getReady(), "unloaded without the key?");

            StatusRuntimeException wrong = assertThrows(StatusRuntimeException.class,
                    () -> open.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(header(ApiKeyInterceptor.API_KEY, "wrong")))
                            .repositoryIndex(RepositoryIndexRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAUTHENTICATED, wrong.getStatus().getCode());
            assertEquals("wrong API key", wrong.getStatus().getDescription());
            assertEquals(Status.Code.UNAUTHENTICATED, assertThrows(StatusRuntimeException.class,
                    () -> open.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(header(ApiKeyInterceptor.AUTHORIZATION, "Bearer s3cre")))
                            .repositoryIndex(RepositoryIndexRequest.getDefaultInstance())).getStatus().getCode());

            var bearer = open.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(header(ApiKeyInterceptor.AUTHORIZATION, "Bearer s3cret")));
            assertEquals(List.of("tiny"), bearer.repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList().stream()
                    .map(RepositoryIndexResponse.ModelIndex::getName).toList());
            var apiKey = open.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(header(ApiKeyInterceptor.API_KEY, "s3cret")));
            apiKey.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("tiny").build());
            assertFalse(open.modelReady(ModelReadyRequest.newBuilder().setName("tiny").build()).getReady());
            apiKey.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("tiny").build());

            // inference, metadata and health stay open
            assertTrue(open.serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
            assertEquals("tiny", open.modelMetadata(ModelMetadataRequest.newBuilder().setName("tiny").build()).getName());
            assertEquals(2, open.modelInfer(request("tiny", List.of(image("input", 0)), true).build()).getOutputsCount());
        } finally {
            ch.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            keyed.getApplicationContext().close();
        }
    }

    private static Metadata header(Metadata.Key<String> key, String value) {
        Metadata m = new Metadata();
        m.put(key, value);
        return m;
    }

    /** Stopping the server lets a call in flight finish, then refuses new calls. */
    @Test
    void stoppingLetsACallInFlightFinish() throws Exception {
        Path dir = Files.createTempDirectory("grpc-stop");
        ServedModels.install(dir, "slow", "tiny.onnx");
        // a lone request waits up to a second for partners: it is still in flight when the stop begins
        Files.writeString(dir.resolve("slow/config.json"), "{\"max_batch_size\": 32, \"max_queue_delay_us\": 1000000}");
        EmbeddedServer stopping = SqueezeServer.start(Map.of("squeeze.serve.models", dir.toString(), "micronaut.server.port", -1,
                "squeeze.serve.grpc-port", 0));
        ManagedChannel ch = channel(GrpcServer.of(stopping.getApplicationContext()));
        try {
            var futureStub = GRPCInferenceServiceGrpc.newFutureStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
            var inFlight = futureStub.modelInfer(request("slow", List.of(image("input", 0)), true).build());
            ModelServing serving = stopping.getApplicationContext().getBean(ModelServing.class);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (serving.queued("slow") == 0 && System.nanoTime() < deadline) Thread.sleep(5);
            assertEquals(1, serving.queued("slow"), "the call is waiting in the batch queue when the stop begins");
            stopping.getApplicationContext().close();
            assertTrue(inFlight.isDone(), "the stop waited for the call");
            ModelInferResponse answer = inFlight.get();
            assertSameTensors(GrpcTestModels.inProcess(dir.resolve("slow/model.onnx"), List.of(image("input", 0))), outputs(answer));
            StatusRuntimeException after = assertThrows(StatusRuntimeException.class, () -> GRPCInferenceServiceGrpc
                    .newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS).serverLive(ServerLiveRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAVAILABLE, after.getStatus().getCode(), after.getStatus().toString());
        } finally {
            ch.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            if (stopping.getApplicationContext().isRunning()) stopping.getApplicationContext().close();
        }
    }

    @Test
    void aTakenPortIsNamedWithItsSetting() throws Exception {
        Path dir = Files.createTempDirectory("grpc-port");
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            int port = taken.getLocalPort();
            PortInUseException e = assertThrows(PortInUseException.class, () -> SqueezeServer.start(Map.of(
                    "squeeze.serve.models", dir.toString(), "micronaut.server.port", -1, "squeeze.serve.grpc-port", port)));
            assertEquals("gRPC port " + port + " on 127.0.0.1 is already in use", e.getMessage());
            assertEquals("grpc-port", e.setting());
            assertEquals(port, e.port());
        }
    }

    @Test
    void portZeroPicksAFreePortAndMinusOneServesNoGrpc() throws Exception {
        GrpcServer grpc = GrpcServer.of(server.getApplicationContext());
        assertTrue(grpc.enabled() && grpc.port() > 0, "port 0 picked " + grpc.port());
        assertEquals("127.0.0.1:" + grpc.port(), grpc.target());
        Path dir = Files.createTempDirectory("grpc-off");
        EmbeddedServer off = SqueezeServer.start(Map.of("squeeze.serve.models", dir.toString(), "micronaut.server.port", -1,
                "squeeze.serve.grpc-port", -1));
        try {
            GrpcServer none = GrpcServer.of(off.getApplicationContext());
            assertFalse(none.enabled());
            assertEquals(-1, none.port());
            assertNull(none.target());
        } finally {
            off.getApplicationContext().close();
        }
    }

    @Test
    void theGeneratedServiceHasTheProtocolsNames() {
        assertEquals("inference.GRPCInferenceService", GRPCInferenceServiceGrpc.SERVICE_NAME);
        assertEquals(Set.of("inference.GRPCInferenceService/RepositoryIndex", "inference.GRPCInferenceService/RepositoryModelLoad",
                "inference.GRPCInferenceService/RepositoryModelUnload"), ApiKeyInterceptor.GUARDED);
        // field numbers clients depend on
        assertEquals(7, ModelInferRequest.RAW_INPUT_CONTENTS_FIELD_NUMBER);
        assertEquals(6, ModelInferResponse.RAW_OUTPUT_CONTENTS_FIELD_NUMBER);
        assertEquals(5, ModelInferRequest.InferInputTensor.CONTENTS_FIELD_NUMBER);
        assertEquals(Arrays.asList(1, 2, 3, 4, 5, 6, 7, 8), List.of(InferTensorContents.BOOL_CONTENTS_FIELD_NUMBER,
                InferTensorContents.INT_CONTENTS_FIELD_NUMBER, InferTensorContents.INT64_CONTENTS_FIELD_NUMBER,
                InferTensorContents.UINT_CONTENTS_FIELD_NUMBER, InferTensorContents.UINT64_CONTENTS_FIELD_NUMBER,
                InferTensorContents.FP32_CONTENTS_FIELD_NUMBER, InferTensorContents.FP64_CONTENTS_FIELD_NUMBER,
                InferTensorContents.BYTES_CONTENTS_FIELD_NUMBER));
    }
}
