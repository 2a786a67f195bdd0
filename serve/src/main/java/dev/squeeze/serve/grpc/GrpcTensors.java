package dev.squeeze.serve.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.squeeze.serve.grpc.v2.InferTensorContents;
import dev.squeeze.serve.grpc.v2.ModelInferRequest;
import dev.squeeze.serve.grpc.v2.ModelInferResponse;
import dev.squeeze.serve.runtime.BadRequestException;
import dev.squeeze.serve.runtime.HostTensor;
import dev.squeeze.serve.runtime.InferRequest;
import dev.squeeze.serve.runtime.InferenceProtocol;
import dev.squeeze.serve.runtime.InferenceProtocol.CheckedInput;
import dev.squeeze.serve.runtime.ModelSpec;
import dev.squeeze.serve.runtime.RawTensors;
import dev.squeeze.serve.runtime.TensorType;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The gRPC inference messages ({@code ModelInferRequest}, {@code ModelInferResponse}) to and from {@link HostTensor}s.
 * Pure functions: every input is checked against the model by {@link InferenceProtocol#checkInput}, as on HTTP, and
 * every client mistake is a {@link BadRequestException} saying what was wrong and what to send.
 *
 * <p>Data comes either raw, one {@code raw_input_contents} entry per input in the order of {@code inputs}
 * ({@link RawTensors}: little-endian, BOOL one byte, BYTES length-prefixed), or typed, in each input's
 * {@code contents}, in the field of its datatype: {@code bool_contents} (BOOL), {@code int_contents} (INT8, INT16,
 * INT32), {@code int64_contents} (INT64), {@code uint_contents} (UINT8), {@code fp32_contents}, {@code fp64_contents},
 * {@code bytes_contents} (BYTES, UTF-8). A request is one or the other. FP16 and BF16 have no typed field: they come,
 * and go back, raw. The response is raw when the request was, or when an output is FP16 or BF16; typed otherwise.
 */
public final class GrpcTensors {
    private GrpcTensors() {
    }

    /**
     * Decodes and checks a request against the model serving it.
     *
     * @param maxElements the most elements one input may have ({@code --max-elements})
     * @return the request's id (null when empty), its inputs in the model's order, the outputs asked for
     * @throws BadRequestException for anything the request gets wrong
     */
    public static InferRequest decode(ModelInferRequest request, ModelSpec spec, long maxElements) {
        int count = request.getInputsCount();
        int raw = request.getRawInputContentsCount();
        if (raw > 0 && raw != count) {
            throw new BadRequestException("raw_input_contents has " + raw + " entr" + (raw == 1 ? "y" : "ies")
                    + " but the request has " + count + " input" + (count == 1 ? "" : "s") + "; send one entry per input, "
                    + "in the order of \"inputs\", or none and each input's values in its contents");
        }
        Map<String, HostTensor> inputs = new HashMap<>();
        for (int i = 0; i < count; i++) {
            ModelInferRequest.InferInputTensor in = request.getInputs(i);
            String name = in.getName();
            if (inputs.containsKey(name)) throw new BadRequestException("input '" + name + "' is given twice in \"inputs\"");
            long[] shape = in.getShapeList().stream().mapToLong(Long::longValue).toArray();
            CheckedInput c = InferenceProtocol.checkInput(spec, name, in.getDatatype(), shape, maxElements);
            Object data;
            if (raw > 0) {
                if (valueCount(in.getContents()) > 0) {
                    throw new BadRequestException(c.what() + " has values in its contents and the request has "
                            + "raw_input_contents; send every input's data raw, or every input's values in its contents");
                }
                data = RawTensors.decode(c.type(), c.elements(), request.getRawInputContents(i).asReadOnlyByteBuffer(),
                        c.what() + " (raw_input_contents[" + i + "])");
            } else {
                data = typed(c, shape, in.getContents());
            }
            inputs.put(name, new HostTensor(name, c.type(), shape, data));
        }
        Set<String> outputs = new LinkedHashSet<>();
        for (ModelInferRequest.InferRequestedOutputTensor out : request.getOutputsList()) {
            InferenceProtocol.checkOutput(spec, out.getName());
            if (!outputs.add(out.getName())) {
                throw new BadRequestException("output '" + out.getName() + "' is asked for twice in \"outputs\"");
            }
        }
        String id = request.getId().isEmpty() ? null : request.getId();
        return new InferRequest(id, InferenceProtocol.inModelOrder(spec, inputs), outputs);
    }

    /** Whether a response carries its outputs raw: when the request sent its inputs raw, or an output has no typed field. */
    public static boolean rawResponse(ModelInferRequest request, List<HostTensor> outputs) {
        return request.getRawInputContentsCount() > 0 || outputs.stream().anyMatch(t -> !hasTypedField(t.type()));
    }

    /**
     * The response to a request: model name and version, the request's id, and the outputs, raw (in
     * {@code raw_output_contents}, in the order of {@code outputs}) or typed.
     */
    public static ModelInferResponse encode(String model, long version, String id, List<HostTensor> outputs, boolean raw) {
        ModelInferResponse.Builder response = ModelInferResponse.newBuilder().setModelName(model)
                .setModelVersion(Long.toString(version));
        if (id != null) response.setId(id);
        for (HostTensor t : outputs) {
            ModelInferResponse.InferOutputTensor.Builder out = response.addOutputsBuilder().setName(t.name())
                    .setDatatype(t.type().protocolName());
            for (long d : t.shape()) out.addShape(d);
            if (raw) {
                // encode returns a fresh array that nothing else holds: wrapped, not copied
                response.addRawOutputContents(UnsafeByteOperations.unsafeWrap(RawTensors.encode(t)));
            } else {
                out.setContents(contents(t));
            }
        }
        return response.build();
    }

    /** A tensor's values in the typed field of its datatype (what a client sends in an input's contents). */
    public static InferTensorContents contents(HostTensor t) {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        switch (t.type()) {
            case BOOL -> {
                for (boolean v : (boolean[]) t.data()) c.addBoolContents(v);
            }
            case UINT8 -> {
                for (byte v : (byte[]) t.data()) c.addUintContents(v & 0xFF);
            }
            case INT8 -> {
                for (byte v : (byte[]) t.data()) c.addIntContents(v);
            }
            case INT16 -> {
                for (short v : (short[]) t.data()) c.addIntContents(v);
            }
            case INT32 -> {
                for (int v : (int[]) t.data()) c.addIntContents(v);
            }
            case INT64 -> {
                for (long v : (long[]) t.data()) c.addInt64Contents(v);
            }
            case FP32 -> {
                for (float v : (float[]) t.data()) c.addFp32Contents(v);
            }
            case FP64 -> {
                for (double v : (double[]) t.data()) c.addFp64Contents(v);
            }
            case BYTES -> {
                for (String v : (String[]) t.data()) c.addBytesContents(ByteString.copyFromUtf8(v));
            }
            default -> throw new IllegalArgumentException(t.name() + ": " + t.type() + " has no typed field; send it raw");
        }
        return c.build();
    }

    /** Whether {@code type} has a field in InferTensorContents (FP16 and BF16 do not). */
    public static boolean hasTypedField(TensorType type) {
        return type != TensorType.FP16 && type != TensorType.BF16;
    }

    /** One input's values from its contents, in the field of its datatype; the other fields must be empty. */
    private static Object typed(CheckedInput c, long[] shape, InferTensorContents contents) {
        TensorType type = c.type();
        if (!hasTypedField(type)) {
            throw new BadRequestException(c.what() + " is " + type + ", which has no field in contents; send its data raw, "
                    + "in raw_input_contents (2 bytes per value, little-endian), as every input of the request");
        }
        String field = field(type);
        int given = count(contents, field);
        int total = valueCount(contents);
        if (total != given) {
            throw new BadRequestException(c.what() + " is " + type + ": its values go in contents." + field + ", but "
                    + (total - given) + " value" + (total - given == 1 ? " is" : "s are") + " in " + otherFields(contents, field));
        }
        if (given != c.elements()) {
            throw new BadRequestException(c.what() + ": shape " + java.util.Arrays.toString(shape) + " needs " + c.elements()
                    + " value" + (c.elements() == 1 ? "" : "s") + " in contents." + field + ", got " + given);
        }
        int n = c.elements();
        return switch (type) {
            case BOOL -> {
                boolean[] out = new boolean[n];
                for (int i = 0; i < n; i++) out[i] = contents.getBoolContents(i);
                yield out;
            }
            case UINT8 -> {
                byte[] out = new byte[n];
                for (int i = 0; i < n; i++) {
                    int v = contents.getUintContents(i);
                    if (Integer.compareUnsigned(v, 255) > 0) throw range(c, i, Integer.toUnsignedString(v), 0, 255);
                    out[i] = (byte) v;
                }
                yield out;
            }
            case INT8 -> {
                byte[] out = new byte[n];
                for (int i = 0; i < n; i++) {
                    int v = contents.getIntContents(i);
                    if (v < Byte.MIN_VALUE || v > Byte.MAX_VALUE) throw range(c, i, Integer.toString(v), Byte.MIN_VALUE, Byte.MAX_VALUE);
                    out[i] = (byte) v;
                }
                yield out;
            }
            case INT16 -> {
                short[] out = new short[n];
                for (int i = 0; i < n; i++) {
                    int v = contents.getIntContents(i);
                    if (v < Short.MIN_VALUE || v > Short.MAX_VALUE) throw range(c, i, Integer.toString(v), Short.MIN_VALUE, Short.MAX_VALUE);
                    out[i] = (short) v;
                }
                yield out;
            }
            case INT32 -> {
                int[] out = new int[n];
                for (int i = 0; i < n; i++) out[i] = contents.getIntContents(i);
                yield out;
            }
            case INT64 -> {
                long[] out = new long[n];
                for (int i = 0; i < n; i++) out[i] = contents.getInt64Contents(i);
                yield out;
            }
            case FP32 -> {
                float[] out = new float[n];
                for (int i = 0; i < n; i++) out[i] = contents.getFp32Contents(i);
                yield out;
            }
            case FP64 -> {
                double[] out = new double[n];
                for (int i = 0; i < n; i++) out[i] = contents.getFp64Contents(i);
                yield out;
            }
            case BYTES -> {
                String[] out = new String[n];
                for (int i = 0; i < n; i++) out[i] = contents.getBytesContents(i).toString(StandardCharsets.UTF_8);
                yield out;
            }
            default -> throw new BadRequestException(c.what() + ": " + type + " tensors cannot be carried");
        };
    }

    private static BadRequestException range(CheckedInput c, int i, String value, long min, long max) {
        return new BadRequestException(c.what() + " is " + c.type() + ": value " + i + " is " + value + ", outside "
                + min + " to " + max);
    }

    /** The contents field a datatype's values go in. */
    private static String field(TensorType type) {
        return switch (type) {
            case BOOL -> "bool_contents";
            case INT8, INT16, INT32 -> "int_contents";
            case INT64 -> "int64_contents";
            case UINT8, UINT16, UINT32 -> "uint_contents";
            case UINT64 -> "uint64_contents";
            case FP32 -> "fp32_contents";
            case FP64 -> "fp64_contents";
            case BYTES -> "bytes_contents";
            case FP16, BF16 -> throw new IllegalArgumentException(type + " has no typed field");
        };
    }

    private static final String[] FIELDS = {"bool_contents", "int_contents", "int64_contents", "uint_contents",
            "uint64_contents", "fp32_contents", "fp64_contents", "bytes_contents"};

    private static int count(InferTensorContents c, String field) {
        return switch (field) {
            case "bool_contents" -> c.getBoolContentsCount();
            case "int_contents" -> c.getIntContentsCount();
            case "int64_contents" -> c.getInt64ContentsCount();
            case "uint_contents" -> c.getUintContentsCount();
            case "uint64_contents" -> c.getUint64ContentsCount();
            case "fp32_contents" -> c.getFp32ContentsCount();
            case "fp64_contents" -> c.getFp64ContentsCount();
            case "bytes_contents" -> c.getBytesContentsCount();
            default -> throw new IllegalArgumentException(field);
        };
    }

    /** Values in every field of {@code c}. */
    private static int valueCount(InferTensorContents c) {
        int n = 0;
        for (String f : FIELDS) n += count(c, f);
        return n;
    }

    /** The non-empty fields other than {@code field}, for a message. */
    private static String otherFields(InferTensorContents c, String field) {
        List<String> others = new ArrayList<>();
        for (String f : FIELDS) if (!f.equals(field) && count(c, f) > 0) others.add("contents." + f);
        return String.join(" and ", others);
    }
}
