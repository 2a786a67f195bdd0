package dev.squeeze.compress.onnx.inputs;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import dev.squeeze.core.BadInputException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Open Inference Protocol v2 request bodies ({@code {"inputs": [{"name", "shape", "datatype", "data"}]}}) read as
 * input data: the bodies a client sends to {@code squeeze serve}, accepted as the server's codec accepts them
 * ({@code dev.squeeze.serve.runtime.InferenceProtocol}, which compress cannot depend on): {@code data} flat in
 * row-major order or nested exactly as the shape; integers only for integer types, within range; floats parsed from
 * their decimal text (FP32 with no rounding through double); {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}
 * as strings or bare tokens; {@code id}, {@code outputs} and {@code parameters} read and otherwise ignored; binary
 * tensor data refused. Each input's name, datatype and shape are checked against the model before its data is read.
 */
public final class InferenceRequests {
    private static final JsonFactory JSON = JsonFactory.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private InferenceRequests() {
    }

    /** One batch per {@code *.json} file in {@code folder}, in file name order. */
    public static List<InputBatch> readFolder(Path folder, ModelSignature signature) {
        List<Path> files = InputFiles.jsonFiles(folder);
        if (files.isEmpty()) {
            throw new BadInputException(folder + " holds no .json files; put one inference request body per file, e.g. "
                    + "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4]}]}");
        }
        List<InputBatch> out = new ArrayList<>();
        for (Path f : files) out.add(read(InputFiles.bytes(f), folder.getFileName() + "/" + f.getFileName(), signature));
        return out;
    }

    /**
     * One request body as a batch.
     *
     * @param source how messages name the body, e.g. {@code requests/3.json}
     * @throws BadInputException for a body the server would refuse, or data that does not fit the model
     */
    public static InputBatch read(byte[] body, String source, ModelSignature signature) {
        Object root;
        try (JsonParser p = JSON.createParser(body)) {
            JsonToken first = p.nextToken();
            if (first == null) throw bad(source, "the body is empty; expected a JSON object {\"inputs\": [...]}");
            root = value(p, first, source);
            JsonToken after = p.nextToken();
            if (after != null) throw bad(source, "the body goes on after its JSON object (" + after + "); one request per file");
        } catch (JsonProcessingException e) {
            throw bad(source, "the body is not valid JSON: " + e.getOriginalMessage() + "; write one request body per file");
        } catch (IOException e) {
            throw bad(source, "cannot read the body: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> request)) throw bad(source, "the body must be a JSON object {\"inputs\": [...]}, got " + describe(root));
        Object id = request.get("id");
        if (id != null && !(id instanceof Scalar s && (s.token == JsonToken.VALUE_STRING || s.token == JsonToken.VALUE_NULL))) {
            throw bad(source, "\"id\" must be a string, got " + describe(id));
        }
        parameters(request.get("parameters"), source, "the request's \"parameters\"");
        outputs(request.get("outputs"), source, signature);
        Object inputs = request.get("inputs");
        if (!(inputs instanceof List<?> list)) {
            throw bad(source, inputs == null ? "the request has no \"inputs\"; the model's inputs are " + signature.describeInputs()
                    : "\"inputs\" must be an array of tensors [{\"name\", \"shape\", \"datatype\", \"data\"}], got " + describe(inputs));
        }
        if (list.isEmpty()) throw bad(source, "\"inputs\" is empty; the model's inputs are " + signature.describeInputs());
        Map<String, InputTensor> data = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> input)) {
                throw bad(source, "inputs[" + i + "] must be a JSON object with \"name\", \"shape\", \"datatype\" and "
                        + "\"data\", got " + describe(list.get(i)));
            }
            String name = string(input, "name", source, "inputs[" + i + "]");
            String what = name == null ? "inputs[" + i + "]" : "input '" + name + "'";
            String datatype = string(input, "datatype", source, what);
            long[] shape = shape(input.get("shape"), source, what);
            parameters(input.get("parameters"), source, "\"parameters\" of " + what);
            String needs = "; each input needs \"name\", \"shape\", \"datatype\" and \"data\"";
            if (name == null) throw bad(source, what + " has no \"name\"" + needs);
            if (datatype == null) throw bad(source, what + " has no \"datatype\"" + needs);
            if (shape == null) throw bad(source, what + " has no \"shape\"" + needs);
            if (!input.containsKey("data")) {
                throw bad(source, what + " has no \"data\"; send the values as a JSON array in \"data\" (binary tensor data is not supported)");
            }
            TensorSignature in = signature.input(name);
            if (in == null) {
                throw bad(source, "'" + name + "' is not an input of the model (its inputs are " + signature.describeInputs()
                        + "); name the data after the model's inputs");
            }
            if (data.containsKey(name)) throw bad(source, what + " is given twice in \"inputs\"");
            ElementType type = ElementType.ofProtocolName(datatype).orElseThrow(() -> bad(source, what + ": unknown datatype '"
                    + datatype + "'; the model's input '" + name + "' is " + in.type() + " (datatypes are upper case)"));
            for (int d = 0; d < shape.length; d++) {
                if (shape[d] < 0) throw bad(source, what + ": shape " + Arrays.toString(shape) + " has a negative dimension; sizes must be >= 0");
            }
            ModelSignature.checkInput(source, in, type, shape);
            data.put(name, new InputTensor(type, shape, new DataReader(source, what, type, shape).read(input.get("data"))));
        }
        signature.check(source, data);
        Map<String, InputTensor> ordered = new LinkedHashMap<>();
        for (TensorSignature in : signature.inputs()) ordered.put(in.name(), data.get(in.name()));
        return new InputBatch(source, ordered, null);
    }

    // ---- a small JSON tree: objects as maps, arrays as lists, scalars with their token and exact text ----------

    /** A JSON scalar: its token and its text as written (numbers keep every digit). */
    private record Scalar(JsonToken token, String text) {
    }

    private static Object value(JsonParser p, JsonToken t, String source) throws IOException {
        switch (t) {
            case START_OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    if (m.containsKey(field)) throw bad(source, "the body has \"" + field + "\" twice in one object");
                    m.put(field, value(p, p.nextToken(), source));
                }
                return m;
            }
            case START_ARRAY -> {
                List<Object> l = new ArrayList<>();
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) l.add(value(p, e, source));
                return l;
            }
            default -> {
                return new Scalar(t, p.getText());
            }
        }
    }

    private static String describe(Object v) {
        if (v instanceof Map) return "an object";
        if (v instanceof List) return "an array";
        Scalar s = (Scalar) v;
        return switch (s.token) {
            case VALUE_STRING -> "the string \"" + (s.text.length() > 60 ? s.text.substring(0, 60) + "..." : s.text) + "\"";
            case VALUE_NULL -> "null";
            default -> s.text;
        };
    }

    private static String string(Map<?, ?> input, String field, String source, String what) {
        Object v = input.get(field);
        if (v == null) return null;
        if (v instanceof Scalar s && s.token == JsonToken.VALUE_STRING) return s.text;
        throw bad(source, what + ": \"" + field + "\" must be a string, got " + describe(v));
    }

    private static long[] shape(Object v, String source, String what) {
        if (v == null) return null;
        if (!(v instanceof List<?> dims)) {
            throw bad(source, what + ": \"shape\" must be an array of dimension sizes such as [1, 784], got " + describe(v));
        }
        long[] shape = new long[dims.size()];
        for (int d = 0; d < shape.length; d++) {
            Long size = dims.get(d) instanceof Scalar s && s.token == JsonToken.VALUE_NUMBER_INT ? parseLong(s.text) : null;
            if (size == null) {
                throw bad(source, what + ": \"shape\" must hold integer dimension sizes, got " + describe(dims.get(d))
                        + " at index " + d);
            }
            shape[d] = size;
        }
        return shape;
    }

    private static void parameters(Object v, String source, String what) {
        if (v == null || v instanceof Scalar s && s.token == JsonToken.VALUE_NULL) return;
        if (!(v instanceof Map<?, ?> m)) throw bad(source, what + " must be a JSON object, got " + describe(v));
        if (m.containsKey("binary_data_size")) {
            throw bad(source, what + " has binary_data_size: binary tensor data is not supported; send the values as a JSON array in \"data\"");
        }
    }

    private static void outputs(Object v, String source, ModelSignature signature) {
        if (v == null || v instanceof Scalar s && s.token == JsonToken.VALUE_NULL) return;
        if (!(v instanceof List<?> list)) throw bad(source, "\"outputs\" must be an array of {\"name\": ...} objects, got " + describe(v));
        Set<String> known = new LinkedHashSet<>();
        signature.outputs().forEach(o -> known.add(o.name()));
        known.addAll(signature.skippedOutputs());
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> o)) throw bad(source, "outputs[" + i + "] must be a JSON object {\"name\": ...}, got " + describe(list.get(i)));
            String name = string(o, "name", source, "outputs[" + i + "]");
            if (name == null || !known.contains(name)) {
                throw bad(source, (name == null ? "outputs[" + i + "] has no \"name\"" : "unknown output '" + name + "' in \"outputs\"")
                        + "; the model's outputs are " + String.join(", ", known));
            }
        }
    }

    private static Long parseLong(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static BadInputException bad(String source, String message) {
        return new BadInputException(source + ": " + message);
    }

    /** One input's {@code data}, flat or nested as its shape, into a flat array of its type. */
    private static final class DataReader {
        private final String source;
        private final String what;
        private final ElementType type;
        private final long[] shape;
        private final int n;
        private final Object array;
        private int at;

        DataReader(String source, String what, ElementType type, long[] shape) {
            this.source = source;
            this.what = what;
            this.type = type;
            this.shape = shape;
            this.n = Math.toIntExact(InputTensor.elementCount(shape));
            this.array = java.lang.reflect.Array.newInstance(type.arrayClass().getComponentType(), n);
        }

        Object read(Object data) {
            if (!(data instanceof List<?> values)) {
                throw bad(source, what + ": \"data\" must be a JSON array of values (flat in row-major order, or nested "
                        + "as the shape " + Arrays.toString(shape) + "), got " + describe(data));
            }
            if (!values.isEmpty() && values.get(0) instanceof List) {
                if (shape.length < 2) throw tooDeep();
                nested(values, 0, "data");
            } else {
                for (int i = 0; i < values.size(); i++) {
                    if (values.get(i) instanceof List) {
                        throw bad(source, what + ": \"data\" mixes values and arrays (element " + i + " is an array); send "
                                + "it flat in row-major order, or nested exactly as the shape " + Arrays.toString(shape));
                    }
                }
                if (values.size() != n) {
                    throw bad(source, what + ": \"data\" has " + values.size() + " values but shape " + Arrays.toString(shape)
                            + " needs " + n);
                }
                for (Object v : values) element(v, "data[" + at + "]");
            }
            return array;
        }

        private void nested(List<?> values, int dim, String path) {
            if (values.size() != shape[dim]) {
                throw bad(source, what + ": nested \"data\" does not match the shape " + Arrays.toString(shape) + ": " + path
                        + " has " + values.size() + " entries but dimension " + dim + " has size " + shape[dim]);
            }
            boolean last = dim == shape.length - 1;
            for (int i = 0; i < values.size(); i++) {
                Object v = values.get(i);
                String here = path + "[" + i + "]";
                if (!last) {
                    if (!(v instanceof List<?> inner)) {
                        throw bad(source, what + ": nested \"data\" must follow the shape " + Arrays.toString(shape) + ": "
                                + here + " should be an array of " + shape[dim + 1] + " entries, got " + describe(v));
                    }
                    nested(inner, dim + 1, here);
                } else {
                    if (v instanceof List) throw tooDeep();
                    element(v, here);
                }
            }
        }

        private BadInputException tooDeep() {
            return bad(source, what + ": \"data\" is nested deeper than the shape " + Arrays.toString(shape) + " (rank "
                    + shape.length + "); send it flat in row-major order, or nested exactly as the shape");
        }

        private void element(Object v, String path) {
            Scalar s = v instanceof Scalar sc ? sc : null;
            int i = at++;
            JsonToken t = s == null ? null : s.token;
            switch (type) {
                case BOOL -> {
                    if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) throw wrong(v, path, "true or false");
                    ((boolean[]) array)[i] = t == JsonToken.VALUE_TRUE;
                }
                case UINT8 -> ((byte[]) array)[i] = (byte) integer(s, v, path, 0, 255);
                case INT8 -> ((byte[]) array)[i] = (byte) integer(s, v, path, Byte.MIN_VALUE, Byte.MAX_VALUE);
                case INT16 -> ((short[]) array)[i] = (short) integer(s, v, path, Short.MIN_VALUE, Short.MAX_VALUE);
                case INT32 -> ((int[]) array)[i] = (int) integer(s, v, path, Integer.MIN_VALUE, Integer.MAX_VALUE);
                case INT64 -> ((long[]) array)[i] = integer(s, v, path, Long.MIN_VALUE, Long.MAX_VALUE);
                case FP32 -> {
                    double d = real(s, v, path, Float.toString(Float.MAX_VALUE));
                    // From the decimal text, not through double: the server parses FP32 the same way.
                    float f = Double.isFinite(d) ? Float.parseFloat(s.text) : (float) d;
                    if (Float.isInfinite(f) && Double.isFinite(d)) throw wrong(v, path, number(Float.toString(Float.MAX_VALUE)));
                    ((float[]) array)[i] = f;
                }
                case FP64 -> ((double[]) array)[i] = real(s, v, path, Double.toString(Double.MAX_VALUE));
                default -> throw new IllegalStateException(type.name());
            }
        }

        private long integer(Scalar s, Object v, String path, long min, long max) {
            Long value = s != null && s.token == JsonToken.VALUE_NUMBER_INT ? parseLong(s.text) : null;
            if (value == null || value < min || value > max) throw wrong(v, path, "an integer from " + min + " to " + max);
            return value;
        }

        /** A number or non-finite string as a double; finite numbers too large for a double are refused. */
        private double real(Scalar s, Object v, String path, String max) {
            if (s != null && (s.token == JsonToken.VALUE_NUMBER_INT || s.token == JsonToken.VALUE_NUMBER_FLOAT)) {
                double d = Double.parseDouble(s.text);
                boolean nonFinite = s.text.contains("NaN") || s.text.contains("Infinity");
                if (!Double.isInfinite(d) || nonFinite) return d;
            } else if (s != null && s.token == JsonToken.VALUE_STRING) {
                switch (s.text) {
                    case "NaN": return Double.NaN;
                    case "Infinity": return Double.POSITIVE_INFINITY;
                    case "-Infinity": return Double.NEGATIVE_INFINITY;
                    default: break;
                }
            }
            throw wrong(v, path, number(max));
        }

        private static String number(String max) {
            return "a number within ±" + max + " or \"NaN\", \"Infinity\", \"-Infinity\"";
        }

        private BadInputException wrong(Object v, String path, String expected) {
            return bad(source, what + " " + path + ": expected " + type + ", " + expected + ", but got " + describe(v));
        }
    }
}
