package dev.squeeze.serve.runtime;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An inference response read back into tensors as a client reads it, independently of the server's writer: each
 * output's JSON {@code data} (numbers from their exact decimal text), or, with the binary tensor data extension, its
 * {@code binary_data_size} bytes taken in turn from after the JSON part. Checks that the binary data is exactly what
 * the outputs say.
 */
public final class ResponseTensors {
    /** Floats kept as their decimal text, so FP32 values are read without rounding through double. */
    private static final JsonMapper EXACT = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

    private ResponseTensors() {
    }

    /** The response's JSON: all of {@code body}, or its first {@code jsonBytes} bytes (-1: all). */
    public static JsonNode json(byte[] body, int jsonBytes) {
        try {
            return EXACT.readTree(body, 0, jsonBytes < 0 ? body.length : jsonBytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every output by name, in response order. */
    public static Map<String, HostTensor> outputs(byte[] body, int jsonBytes) {
        JsonNode json = json(body, jsonBytes);
        int at = jsonBytes < 0 ? body.length : jsonBytes;
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (JsonNode o : json.path("outputs")) {
            String name = o.path("name").asText();
            TensorType type = TensorType.valueOf(o.path("datatype").asText());
            long[] shape = new long[o.path("shape").size()];
            for (int d = 0; d < shape.length; d++) shape[d] = o.path("shape").get(d).asLong();
            int n = Math.toIntExact(HostTensor.elementCount(shape));
            JsonNode size = o.path("parameters").path("binary_data_size");
            Object data;
            if (size.isIntegralNumber()) {
                assertFalse(o.has("data"), name + " has binary data and JSON data");
                assertTrue(jsonBytes >= 0, name + " has binary data, but the response no JSON length");
                assertTrue(at + size.asLong() <= body.length, name + "'s binary data runs past the body");
                data = RawTensors.decode(type, n, ByteBuffer.wrap(body, at, size.asInt()), name);
                at += size.asInt();
            } else {
                data = fromJson(type, n, o.path("data"));
            }
            out.put(name, new HostTensor(name, type, shape, data));
        }
        assertEquals(body.length, at, "the binary data is exactly the binary outputs'");
        return out;
    }

    /** Whether two tensors hold the same name, type, shape and values (floats compared bit for bit). */
    public static boolean same(HostTensor a, HostTensor b) {
        return a.name().equals(b.name()) && a.type() == b.type() && Arrays.equals(a.shape(), b.shape())
                && Arrays.deepEquals(new Object[]{a.data()}, new Object[]{b.data()});
    }

    private static Object fromJson(TensorType type, int n, JsonNode data) {
        assertEquals(n, data.size(), "values in data");
        Object out = java.lang.reflect.Array.newInstance(type.arrayClass().getComponentType(), n);
        for (int i = 0; i < n; i++) {
            JsonNode v = data.get(i);
            switch (type) {
                case BOOL -> ((boolean[]) out)[i] = v.booleanValue();
                case UINT8, INT8 -> ((byte[]) out)[i] = (byte) v.intValue();
                case INT16 -> ((short[]) out)[i] = (short) v.intValue();
                case INT32 -> ((int[]) out)[i] = v.intValue();
                case INT64 -> ((long[]) out)[i] = v.longValue();
                case FP16 -> ((short[]) out)[i] = InferenceProtocol.fp16(real(v));
                case BF16 -> ((short[]) out)[i] = InferenceProtocol.bf16(real(v));
                case FP32 -> ((float[]) out)[i] = v.isTextual() ? (float) real(v) : v.decimalValue().floatValue();
                case FP64 -> ((double[]) out)[i] = real(v);
                case BYTES -> ((String[]) out)[i] = v.textValue();
                default -> throw new IllegalStateException(type + " is not carried");
            }
        }
        return out;
    }

    private static double real(JsonNode v) {
        if (!v.isTextual()) return v.decimalValue().doubleValue();
        return switch (v.textValue()) {
            case "NaN" -> Double.NaN;
            case "Infinity" -> Double.POSITIVE_INFINITY;
            case "-Infinity" -> Double.NEGATIVE_INFINITY;
            default -> throw new AssertionError("not a number: " + v);
        };
    }
}
