package dev.squeeze.serve.runtime;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import dev.squeeze.core.ExportProvenance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The Open Inference Protocol v2 (KServe, Triton) REST/JSON bodies: inference requests decoded into
 * {@link HostTensor}s and checked against a model's {@link ModelSpec}, inference responses, model metadata and error
 * bodies. Pure functions, no web framework.
 *
 * <p>Every client mistake in a request is a {@link BadRequestException} whose message says what was wrong and what
 * is expected; it is meant to be sent back as the HTTP 400 body (see {@link #error}).
 *
 * <p>Requests are read with Jackson's streaming parser straight into the flat Java arrays HostTensor holds; no tree of
 * the body is built. When an input's {@code data} comes before its {@code name}, {@code datatype} or {@code shape}
 * (JSON objects are unordered) the data is buffered as tokens and decoded once the rest of the input has been read.
 *
 * <p>Data encodings, in requests and responses:
 * <ul>
 *   <li>{@code data} is a JSON array, either flat in row-major order or nested exactly as the shape
 *   ({@code [[1, 2, 3], [4, 5, 6]]} for shape {@code [2, 3]}); ragged or partly nested arrays are refused.
 *   Responses are always flat.</li>
 *   <li>BOOL: {@code true}/{@code false}. UINT8, INT8, INT16, INT32, INT64: JSON integers within the type's range
 *   (no fractions, no exponents, no strings). INT64 values beyond 2<sup>53</sup> are written exactly, as Triton does;
 *   JavaScript clients reading them as doubles lose precision.</li>
 *   <li>FP16, BF16, FP32, FP64: JSON numbers, rounded to the type to nearest, ties to even (FP32 is parsed straight
 *   from the decimal text, with no rounding through double). A finite number too large for the type is refused rather
 *   than turned into infinity.</li>
 *   <li>Non-finite values: JSON has no NaN or infinity, so responses write them as the strings {@code "NaN"},
 *   {@code "Infinity"} and {@code "-Infinity"}, which keeps the body valid JSON. Requests accept those strings, and
 *   also the bare tokens {@code NaN}, {@code Infinity}, {@code -Infinity} that Python's {@code json.dumps}
 *   writes.</li>
 *   <li>BYTES: JSON strings (ONNX string tensors), written back as strings.</li>
 * </ul>
 */
public final class InferenceProtocol {

    /** The platform name metadata reports, as Triton's ONNX Runtime backend does. */
    public static final String PLATFORM = "onnxruntime_onnx";

    /** Java arrays cannot hold more elements than this, whatever the server's limit. */
    private static final long ARRAY_LIMIT = Integer.MAX_VALUE - 8;

    /** How much of a client's string (a name, a datatype, a value) an error message quotes. */
    private static final int QUOTE_LIMIT = 60;

    /** Writes a provenance tree as strict JSON: NaN and infinities as strings (Jackson's default). */
    private static final ObjectMapper PROVENANCE_JSON = new ObjectMapper();
    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .enable(StreamReadFeature.USE_FAST_BIG_NUMBER_PARSER)
            .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
            .build();

    private static final String DATATYPES = Arrays.stream(TensorType.values()).filter(TensorType::carried)
            .map(TensorType::protocolName).collect(Collectors.joining(", "));

    private InferenceProtocol() {
    }

    // ---- requests -----------------------------------------------------------------------------------------------

    /**
     * Decodes an inference request ({@code POST /v2/models/{name}/infer}) and checks it against the model.
     *
     * @param body        the request body, JSON in UTF-8 (Jackson also detects UTF-16 and UTF-32)
     * @param spec        the model's inputs and outputs
     * @param maxElements the most elements one input tensor may have (capped at what a Java array can hold)
     * @return the request's id, its tensors in the model's input order, and the outputs asked for (empty for all)
     * @throws BadRequestException for anything the request gets wrong; the message says what and what is expected
     */
    public static InferRequest parseRequest(byte[] body, ModelSpec spec, long maxElements) {
        return parseRequest(body == null ? 0 : body.length, spec, maxElements, () -> JSON.createParser(body));
    }

    /**
     * {@link #parseRequest(byte[], ModelSpec, long)} reading the body while it decodes it: the server passes the
     * request's buffered bytes as they are, so the body is never copied whole; only its tensors are built.
     *
     * @param bodyBytes the body's length in bytes
     */
    public static InferRequest parseRequest(InputStream body, long bodyBytes, ModelSpec spec, long maxElements) {
        return parseRequest(bodyBytes, spec, maxElements, () -> JSON.createParser(body));
    }

    /** Opens a parser on the request body. */
    private interface BodyParser {
        JsonParser open() throws IOException;
    }

    private static InferRequest parseRequest(long bodyBytes, ModelSpec spec, long maxElements, BodyParser body) {
        Objects.requireNonNull(spec, "spec");
        if (bodyBytes == 0) {
            throw new BadRequestException("the request body is empty; expected a JSON object such as {\"inputs\": "
                    + "[{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}]}");
        }
        try (JsonParser p = body.open()) {
            return new RequestReader(p, bodyBytes, spec, Math.min(maxElements, ARRAY_LIMIT)).read();
        } catch (StreamConstraintsException e) {
            throw new BadRequestException("the request body exceeds a limit of the JSON parser: " + jacksonMessage(e));
        } catch (JsonProcessingException e) {
            throw new BadRequestException("the request body is not valid JSON: " + jacksonMessage(e) + at(e.getLocation()));
        } catch (IOException e) {
            throw new BadRequestException("cannot read the request body: " + e.getMessage());
        }
    }

    /** One request being read; holds the inputs decoded so far. */
    private static final class RequestReader {
        private final JsonParser p;
        private final long bodyBytes;
        private final ModelSpec spec;
        private final long limit;
        private final Map<String, HostTensor> inputs = new HashMap<>();

        RequestReader(JsonParser p, long bodyBytes, ModelSpec spec, long limit) {
            this.p = p;
            this.bodyBytes = bodyBytes;
            this.spec = spec;
            this.limit = limit;
        }

        InferRequest read() throws IOException {
            JsonToken t = p.nextToken();
            if (t != JsonToken.START_OBJECT) {
                throw bad("the request body must be a JSON object {\"inputs\": [...]}, got " + describe(p, t));
            }
            String id = null;
            boolean sawInputs = false;
            int inputCount = 0;
            Set<String> outputs = new LinkedHashSet<>();
            Set<String> fields = new HashSet<>();
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                if (!fields.add(field)) throw bad("the request has \"" + clip(field) + "\" twice");
                t = p.nextToken();
                switch (field) {
                    case "id" -> {
                        if (t == JsonToken.VALUE_STRING) id = p.getText();
                        else if (t != JsonToken.VALUE_NULL) throw bad("\"id\" must be a string, got " + describe(p, t));
                    }
                    case "inputs" -> {
                        sawInputs = true;
                        inputCount = readInputs(t);
                    }
                    case "outputs" -> readOutputs(t, outputs);
                    case "parameters" -> skipParameters(t, "the request's \"parameters\"");
                    default -> p.skipChildren();
                }
            }
            t = p.nextToken();
            if (t != null) {
                throw bad("the request body goes on after its JSON object: " + describe(p, t) + at(p.currentTokenLocation()));
            }
            if (!spec.inputs().isEmpty()) {
                if (!sawInputs) throw bad("the request has no \"inputs\"; " + modelInputs());
                if (inputCount == 0) throw bad("\"inputs\" is empty; " + modelInputs());
            }
            return new InferRequest(id, inModelOrder(spec, inputs), outputs);
        }

        private int readInputs(JsonToken t) throws IOException {
            if (t != JsonToken.START_ARRAY) {
                throw bad("\"inputs\" must be an array of tensors [{\"name\", \"shape\", \"datatype\", \"data\"}], got "
                        + describe(p, t));
            }
            int i = 0;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t != JsonToken.START_OBJECT) {
                    throw bad("inputs[" + i + "] must be a JSON object with \"name\", \"shape\", \"datatype\" and "
                            + "\"data\", got " + describe(p, t));
                }
                readInput(i++);
            }
            return i;
        }

        /** One input object, from just after its '{' to its '}'. */
        private void readInput(int i) throws IOException {
            String name = null;
            String datatype = null;
            long[] shape = null;
            boolean hasData = false;
            TokenBuffer pending = null;
            HostTensor tensor = null;
            Set<String> fields = new HashSet<>(8);
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                if (!fields.add(field)) throw bad(label(i, name) + " has \"" + clip(field) + "\" twice");
                t = p.nextToken();
                switch (field) {
                    case "name" -> name = string(t, i, name, "name");
                    case "datatype" -> datatype = string(t, i, name, "datatype");
                    case "shape" -> shape = readShape(t, i, name);
                    case "parameters" -> skipParameters(t, "\"parameters\" of " + label(i, name));
                    case "data" -> {
                        hasData = true;
                        if (name != null && datatype != null && shape != null) {
                            tensor = DataReader.decode(p, target(name, datatype, shape), false);
                        } else {
                            // The data came first: keep its tokens until the input says what they are.
                            pending = new TokenBuffer(p);
                            pending.copyCurrentStructure(p);
                        }
                    }
                    default -> p.skipChildren();
                }
            }
            String what = label(i, name);
            String needs = "; each input needs \"name\", \"shape\", \"datatype\" and \"data\"";
            if (name == null) throw bad(what + " has no \"name\"" + needs);
            if (datatype == null) throw bad(what + " has no \"datatype\"" + needs);
            if (shape == null) throw bad(what + " has no \"shape\"" + needs);
            if (!hasData) {
                throw bad(what + " has no \"data\"; send the values as a JSON array in \"data\" (binary tensor data "
                        + "is not supported)");
            }
            if (tensor == null) {
                Target target = target(name, datatype, shape);
                try (JsonParser buffered = pending.asParserOnFirstToken()) {
                    tensor = DataReader.decode(buffered, target, true);
                }
            }
            inputs.put(name, tensor);
        }

        /** Checks an input against the model and that the body can hold its values; says how many it needs. */
        private Target target(String name, String datatype, long[] shape) {
            if (inputs.containsKey(name)) throw bad("input '" + clip(name) + "' is given twice in \"inputs\"");
            CheckedInput c = checkInput(spec, name, datatype, shape, limit);
            // n values take at least 2n + 1 bytes ("[1,2]"): refuse before allocating for data that cannot be there.
            if (c.elements() > (bodyBytes - 1) / 2) {
                throw bad(c.what() + ": shape " + fmt(shape) + " needs " + c.elements() + " values in \"data\", more "
                        + "than the whole request body (" + bodyBytes + " bytes) can hold");
            }
            return new Target(name, c.what(), c.type(), shape, c.elements());
        }

        private String string(JsonToken t, int i, String name, String field) throws IOException {
            if (t != JsonToken.VALUE_STRING) {
                throw bad(label(i, name) + ": \"" + field + "\" must be a string, got " + describe(p, t));
            }
            return p.getText();
        }

        private long[] readShape(JsonToken t, int i, String name) throws IOException {
            if (t != JsonToken.START_ARRAY) {
                throw bad(label(i, name) + ": \"shape\" must be an array of dimension sizes such as [1, 784], got "
                        + describe(p, t));
            }
            long[] dims = new long[4];
            int rank = 0;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    throw bad(label(i, name) + ": \"shape\" must hold integer dimension sizes, got " + describe(p, t)
                            + " at index " + rank);
                }
                if (rank == dims.length) dims = Arrays.copyOf(dims, rank * 2);
                dims[rank++] = p.getLongValue();
            }
            return Arrays.copyOf(dims, rank);
        }

        /** Parameters are accepted and ignored, except those asking for what this server does not do. */
        private void skipParameters(JsonToken t, String what) throws IOException {
            if (t == JsonToken.VALUE_NULL) return;
            if (t != JsonToken.START_OBJECT) throw bad(what + " must be a JSON object, got " + describe(p, t));
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                if (key.equals("binary_data_size")) {
                    throw bad(what + " has binary_data_size: binary tensor data is not supported; send the values as "
                            + "a JSON array in \"data\"");
                }
                p.skipChildren();
            }
        }

        private void readOutputs(JsonToken t, Set<String> outputs) throws IOException {
            if (t == JsonToken.VALUE_NULL) return;
            if (t != JsonToken.START_ARRAY) {
                throw bad("\"outputs\" must be an array of {\"name\": ...} objects, got " + describe(p, t));
            }
            int i = 0;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t != JsonToken.START_OBJECT) {
                    throw bad("outputs[" + i + "] must be a JSON object {\"name\": ...}, got " + describe(p, t));
                }
                String name = null;
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    t = p.nextToken();
                    if (field.equals("name")) {
                        if (t != JsonToken.VALUE_STRING) {
                            throw bad("outputs[" + i + "]: \"name\" must be a string, got " + describe(p, t));
                        }
                        name = p.getText();
                    } else {
                        // "parameters" such as binary_data: this server always answers in JSON.
                        p.skipChildren();
                    }
                }
                if (name == null) throw bad("outputs[" + i + "] has no \"name\"; " + modelOutputs(spec));
                checkOutput(spec, name);
                outputs.add(name);
                i++;
            }
        }

        private String modelInputs() {
            return InferenceProtocol.modelInputs(spec);
        }

        private static String label(int i, String name) {
            return name == null ? "inputs[" + i + "]" : "input '" + clip(name) + "'";
        }
    }

    /**
     * An input's name, datatype and shape checked against the model's, by {@link #checkInput}.
     *
     * @param what     how error messages name the input ("input 'x'")
     * @param type     its datatype
     * @param elements how many values its data must hold
     */
    public record CheckedInput(String what, TensorType type, int elements) {
    }

    /**
     * Checks one input of a request, in whatever encoding its data comes (JSON, binary tensor data, gRPC), against the
     * model: a known input name, the model's datatype, a shape of the model's rank whose fixed dimensions match, and
     * at most {@code maxElements} values (capped at what a Java array can hold).
     *
     * @throws BadRequestException naming the input, what was wrong and what the model expects
     */
    public static CheckedInput checkInput(ModelSpec spec, String name, String datatype, long[] shape, long maxElements) {
        long limit = Math.min(maxElements, ARRAY_LIMIT);
        String what = "input '" + clip(name) + "'";
        TensorSpec s = spec.input(name);
        if (s == null) throw bad("unknown input '" + clip(name) + "'; " + modelInputs(spec));
        TensorType type = TensorType.ofProtocolName(datatype).orElse(null);
        if (type == null) {
            String upper = datatype.toUpperCase(Locale.ROOT);
            String hint = TensorType.ofProtocolName(upper).isPresent() ? " (datatypes are upper case: " + upper + ")" : "";
            throw bad(what + ": unknown datatype '" + clip(datatype) + "'" + hint + "; the datatypes are " + DATATYPES
                    + ", and the model's input '" + s.name() + "' is " + s.type());
        }
        if (type != s.type()) {
            throw bad(what + " has datatype " + type + " but the model's input '" + s.name() + "' is " + s.type());
        }
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] < 0) {
                throw bad(what + ": shape " + fmt(shape) + " has a negative dimension, " + shape[d] + " at index " + d
                        + "; sizes must be >= 0 (only a model's shape uses -1, for a dimension of any size)");
            }
        }
        long[] want = s.shape();
        if (shape.length != want.length) {
            throw bad(what + ": shape " + fmt(shape) + " has rank " + shape.length + " but the model's input shape is "
                    + fmt(want) + ", rank " + want.length + " (-1 is any size)");
        }
        for (int d = 0; d < shape.length; d++) {
            if (want[d] >= 0 && shape[d] != want[d]) {
                throw bad(what + ": shape " + fmt(shape) + " does not match the model's input shape " + fmt(want)
                        + ": dimension " + d + " is " + shape[d] + " but must be " + want[d] + " (-1 is any size)");
            }
        }
        long n = 1;
        if (Arrays.stream(shape).anyMatch(d -> d == 0)) {
            n = 0;
        } else {
            try {
                for (long d : shape) n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw bad(what + ": too many elements: shape " + fmt(shape) + " has more than " + Long.MAX_VALUE
                        + " elements, the limit is " + limit);
            }
        }
        if (n > limit) throw bad(what + ": too many elements: " + n + " (shape " + fmt(shape) + "), the limit is " + limit);
        return new CheckedInput(what, type, (int) n);
    }

    /**
     * A request's decoded inputs in the model's input order, as {@link InferRequest} holds them.
     *
     * @throws BadRequestException naming the first model input the request lacks
     */
    public static List<HostTensor> inModelOrder(ModelSpec spec, Map<String, HostTensor> inputs) {
        List<HostTensor> ordered = new ArrayList<>(spec.inputs().size());
        for (TensorSpec s : spec.inputs()) {
            HostTensor h = inputs.get(s.name());
            if (h == null) {
                throw bad("missing input '" + s.name() + "' (" + s.type() + " " + fmt(s.shape()) + "); " + modelInputs(spec));
            }
            ordered.add(h);
        }
        return ordered;
    }

    /** @throws BadRequestException when the model has no output {@code name}; the message lists its outputs */
    public static void checkOutput(ModelSpec spec, String name) {
        if (spec.output(name) == null) throw bad("unknown output '" + clip(name) + "' in \"outputs\"; " + modelOutputs(spec));
    }

    private static String modelInputs(ModelSpec spec) {
        return "the model's inputs are " + spec.inputs().stream().map(InferenceProtocol::describe)
                .collect(Collectors.joining(", "));
    }

    private static String modelOutputs(ModelSpec spec) {
        return "the model's outputs are " + spec.outputs().stream().map(InferenceProtocol::describe)
                .collect(Collectors.joining(", "));
    }

    /** An input checked against the model: what its data must be. */
    private record Target(String name, String what, TensorType type, long[] shape, int n) {
    }

    /** Reads one input's {@code data} array into a flat Java array of its type. */
    private abstract static class DataReader {
        final JsonParser p;
        final Target target;
        private boolean nested;
        /** Whether the parser reads buffered tokens rather than the body. */
        private boolean buffered;
        private final long[] index;
        private int at;

        DataReader(JsonParser p, Target target) {
            this.p = p;
            this.target = target;
            this.index = new long[target.shape().length];
        }

        /** Reads element {@code i} (its first token is {@code t}, the parser's current token). */
        abstract void read(JsonToken t, int i) throws IOException;

        abstract Object array();

        /** What an element must be, for error messages. */
        abstract String expected();

        /**
         * Decodes the data whose first token is the parser's current one.
         *
         * @param buffered whether {@code p} reads a {@link TokenBuffer} of the data rather than the body itself
         */
        static HostTensor decode(JsonParser p, Target target, boolean buffered) throws IOException {
            DataReader r = of(p, target);
            r.buffered = buffered;
            JsonToken t = p.currentToken();
            if (t != JsonToken.START_ARRAY) {
                throw bad(target.what() + ": \"data\" must be a JSON array of values (flat in row-major order, or nested "
                        + "as the shape " + fmt(target.shape()) + "), got " + describe(p, t));
            }
            JsonToken first = p.nextToken();
            if (first == JsonToken.START_ARRAY) {
                if (target.shape().length < 2) throw r.tooDeep(0);
                r.nested = true;
                r.nested(0, first);
            } else {
                r.flat(first);
            }
            return new HostTensor(target.name(), target.type(), target.shape(), r.array());
        }

        private void flat(JsonToken first) throws IOException {
            long count = 0;
            int n = target.n();
            for (JsonToken t = first; t != JsonToken.END_ARRAY; t = p.nextToken()) {
                if (t == JsonToken.START_ARRAY) {
                    throw bad(target.what() + ": \"data\" mixes values and arrays (element " + count + " is an array); "
                            + "send it flat in row-major order, or nested exactly as the shape " + fmt(target.shape()));
                }
                if (count < n) read(t, (int) count);
                else p.skipChildren();
                count++;
            }
            if (count != n) {
                throw bad(target.what() + ": \"data\" has " + count + " values but shape " + fmt(target.shape())
                        + " needs " + n);
            }
        }

        /** The elements of one array at dimension {@code dim}, from its first element's token to its ']'. */
        private void nested(int dim, JsonToken first) throws IOException {
            long[] shape = target.shape();
            boolean last = dim == shape.length - 1;
            long count = 0;
            for (JsonToken t = first; t != JsonToken.END_ARRAY; t = p.nextToken()) {
                index[dim] = count;
                if (!last) {
                    if (t != JsonToken.START_ARRAY) {
                        throw bad(target.what() + ": nested \"data\" must follow the shape " + fmt(shape) + ": "
                                + path(dim + 1) + " should be an array of " + shape[dim + 1] + " entries, got "
                                + describe(p, t));
                    }
                    if (count < shape[dim]) nested(dim + 1, p.nextToken());
                    else p.skipChildren();
                } else {
                    if (t == JsonToken.START_ARRAY) throw tooDeep(dim + 1);
                    if (count < shape[dim]) read(t, at++);
                    else p.skipChildren();
                }
                count++;
            }
            if (count != shape[dim]) {
                throw bad(target.what() + ": nested \"data\" does not match the shape " + fmt(shape) + ": " + path(dim)
                        + " has " + count + " entries but dimension " + dim + " has size " + shape[dim]);
            }
        }

        private BadRequestException tooDeep(int dims) {
            return bad(target.what() + ": \"data\" is nested deeper than the shape " + fmt(target.shape()) + " (rank "
                    + target.shape().length + ")" + (dims > 0 ? ": " + path(dims) + " is an array" : "")
                    + "; send it flat in row-major order, or nested exactly as the shape");
        }

        /** {@code data[i][j]} for the first {@code dims} indices of the current position. */
        private String path(int dims) {
            StringBuilder b = new StringBuilder("data");
            for (int d = 0; d < dims; d++) b.append('[').append(index[d]).append(']');
            return b.toString();
        }

        BadRequestException wrong(JsonToken t, int i) throws IOException {
            String where = "";
            if (nested) {
                long[] shape = target.shape();
                long[] idx = new long[shape.length];
                long rest = i;
                for (int d = shape.length - 1; d >= 0; d--) {
                    idx[d] = rest % shape[d];
                    rest /= shape[d];
                }
                StringBuilder b = new StringBuilder(" (data");
                for (long x : idx) b.append('[').append(x).append(']');
                where = b.append(')').toString();
            }
            return bad(target.what() + " element " + i + where + ": expected " + target.type() + ", " + expected()
                    + ", but got " + describe(p, t));
        }

        long integer(JsonToken t, int i, long min, long max) throws IOException {
            if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                long v = p.getLongValue();
                if (v >= min && v <= max) return v;
            }
            throw wrong(t, i);
        }

        float float32(JsonToken t, int i) throws IOException {
            if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
                // A token buffer's getFloatValue() rounds through double; its text is the client's, so parse that.
                float v = buffered && !p.isNaN() ? Float.parseFloat(p.getText()) : p.getFloatValue();
                if (!Float.isInfinite(v) || p.isNaN()) return v;
            } else if (t == JsonToken.VALUE_STRING) {
                switch (p.getText()) {
                    case "NaN": return Float.NaN;
                    case "Infinity": return Float.POSITIVE_INFINITY;
                    case "-Infinity": return Float.NEGATIVE_INFINITY;
                    default: break;
                }
            }
            throw wrong(t, i);
        }

        double float64(JsonToken t, int i) throws IOException {
            if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
                double v = p.getDoubleValue();
                if (!Double.isInfinite(v) || p.isNaN()) return v;
            } else if (t == JsonToken.VALUE_STRING) {
                switch (p.getText()) {
                    case "NaN": return Double.NaN;
                    case "Infinity": return Double.POSITIVE_INFINITY;
                    case "-Infinity": return Double.NEGATIVE_INFINITY;
                    default: break;
                }
            }
            throw wrong(t, i);
        }

        private static DataReader of(JsonParser p, Target target) {
            int n = target.n();
            return switch (target.type()) {
                case BOOL -> new DataReader(p, target) {
                    final boolean[] a = new boolean[n];

                    void read(JsonToken t, int i) throws IOException {
                        if (t == JsonToken.VALUE_TRUE) a[i] = true;
                        else if (t != JsonToken.VALUE_FALSE) throw wrong(t, i);
                    }

                    Object array() {
                        return a;
                    }

                    String expected() {
                        return "true or false";
                    }
                };
                case UINT8 -> bytes(p, target, 0, 255);
                case INT8 -> bytes(p, target, Byte.MIN_VALUE, Byte.MAX_VALUE);
                case INT16 -> new DataReader(p, target) {
                    final short[] a = new short[n];

                    void read(JsonToken t, int i) throws IOException {
                        a[i] = (short) integer(t, i, Short.MIN_VALUE, Short.MAX_VALUE);
                    }

                    Object array() {
                        return a;
                    }

                    String expected() {
                        return range(Short.MIN_VALUE, Short.MAX_VALUE);
                    }
                };
                case INT32 -> new DataReader(p, target) {
                    final int[] a = new int[n];

                    void read(JsonToken t, int i) throws IOException {
                        a[i] = (int) integer(t, i, Integer.MIN_VALUE, Integer.MAX_VALUE);
                    }

                    Object array() {
                        return a;
                    }

                    String expected() {
                        return range(Integer.MIN_VALUE, Integer.MAX_VALUE);
                    }
                };
                case INT64 -> new DataReader(p, target) {
                    final long[] a = new long[n];

                    void read(JsonToken t, int i) throws IOException {
                        a[i] = integer(t, i, Long.MIN_VALUE, Long.MAX_VALUE);
                    }

                    Object array() {
                        return a;
                    }

                    String expected() {
                        return range(Long.MIN_VALUE, Long.MAX_VALUE);
                    }
                };
                case FP16 -> halves(p, target, 5, 10, "65504");
                case BF16 -> halves(p, target, 8, 7, "3.3895314E38");
                case FP32 -> new DataReader(p, target) {
                    final float[] a = new float[n];

                    void read(JsonToken t, int i) throws IOException {
                        a[i] = float32(t, i);
                    }

                    Object array() {
                        return a;
                    }

                    String expected() {
                        return number(Float.toString(Float.MAX_VALUE));
                    }
                };
                case FP64 -> new DataReader(p, target) {
                    final double[] a = new double[n];

                    void read(JsonToken t, int i) throws IOException {
                        a[i] = float64(t, i);
                    }

                    Object array() {
                        return a;
                    }

                    String expected() {
                        return number(Double.toString(Double.MAX_VALUE));
                    }
                };
                case BYTES -> new DataReader(p, target) {
                    final String[] a = new String[n];

                    void read(JsonToken t, int i) throws IOException {
                        if (t != JsonToken.VALUE_STRING) throw wrong(t, i);
                        a[i] = p.getText();
                    }

                    Object array() {
                        return a;
                    }

                    String expected() {
                        return "a string";
                    }
                };
                default -> throw new IllegalStateException(target.type() + " is not carried");
            };
        }

        private static DataReader bytes(JsonParser p, Target target, int min, int max) {
            return new DataReader(p, target) {
                final byte[] a = new byte[target.n()];

                void read(JsonToken t, int i) throws IOException {
                    a[i] = (byte) integer(t, i, min, max);
                }

                Object array() {
                    return a;
                }

                String expected() {
                    return range(min, max);
                }
            };
        }

        /** FP16 or BF16: {@code e} exponent bits, {@code m} mantissa bits, as raw bits in a short. */
        private static DataReader halves(JsonParser p, Target target, int e, int m, String max) {
            return new DataReader(p, target) {
                final short[] a = new short[target.n()];

                void read(JsonToken t, int i) throws IOException {
                    double d = float64(t, i);
                    int bits = toSmallFloat(d, e, m);
                    if (Double.isFinite(d)) {
                        if (isTie(d, e, m) && t != JsonToken.VALUE_STRING) {
                            // The double is exactly halfway between two values of the type; the decimal text may not
                            // be, so round the text rather than the double (no double rounding).
                            int c = p.getDecimalValue().compareTo(new BigDecimal(d));
                            if (c != 0) bits = toSmallFloat(c > 0 ? Math.nextUp(d) : Math.nextDown(d), e, m);
                        }
                        if (((bits >>> m) & ((1 << e) - 1)) == (1 << e) - 1) throw wrong(t, i);
                    }
                    a[i] = (short) bits;
                }

                Object array() {
                    return a;
                }

                String expected() {
                    return number(max);
                }
            };
        }

        private static String range(long min, long max) {
            return "an integer from " + min + " to " + max;
        }

        private static String number(String max) {
            return "a number within ±" + max + " or \"NaN\", \"Infinity\", \"-Infinity\"";
        }
    }

    // ---- responses (and requests, for clients) ----------------------------------------------------------------------

    /**
     * An inference response: {@code {"model_name", "model_version", "id", "outputs": [{"name", "datatype", "shape",
     * "data"}]}}, data flat in row-major order. {@code model_version} and {@code id} are left out when null.
     * Non-finite floats are written as the strings {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}.
     */
    public static byte[] response(String modelName, String modelVersion, String id, List<HostTensor> outputs) {
        return write(estimate(outputs), g -> {
            g.writeStartObject();
            g.writeStringField("model_name", modelName);
            if (modelVersion != null) g.writeStringField("model_version", modelVersion);
            if (id != null) g.writeStringField("id", id);
            writeTensors(g, "outputs", outputs, false);
            g.writeEndObject();
        });
    }

    /**
     * An inference request, what a client sends and {@link #parseRequest} reads: {@code {"id", "inputs": [{"name",
     * "shape", "datatype", "data"}]}}, data flat in row-major order and written as in {@link #response}; {@code id}
     * is left out when null.
     */
    public static byte[] request(String id, List<HostTensor> inputs) {
        return write(estimate(inputs), g -> {
            g.writeStartObject();
            if (id != null) g.writeStringField("id", id);
            writeTensors(g, "inputs", inputs, true);
            g.writeEndObject();
        });
    }

    /** A first guess at a body's size, for its buffer. */
    private static int estimate(List<HostTensor> tensors) {
        long estimate = 128;
        for (HostTensor t : tensors) estimate += 96 + 14L * Array.getLength(t.data());
        return (int) Math.min(estimate, 1 << 26);
    }

    /**
     * {@code "field": [{"name", "datatype", "shape", "data"}, ...]}; with {@code shapeFirst} (as requests are written)
     * the shape comes before the datatype.
     */
    private static void writeTensors(JsonGenerator g, String field, List<HostTensor> tensors, boolean shapeFirst)
            throws IOException {
        g.writeArrayFieldStart(field);
        for (HostTensor t : tensors) {
            g.writeStartObject();
            g.writeStringField("name", t.name());
            if (!shapeFirst) g.writeStringField("datatype", t.type().protocolName());
            g.writeFieldName("shape");
            g.writeArray(t.shape(), 0, t.shape().length);
            if (shapeFirst) g.writeStringField("datatype", t.type().protocolName());
            g.writeFieldName("data");
            writeData(g, t);
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void writeData(JsonGenerator g, HostTensor t) throws IOException {
        Object data = t.data();
        switch (t.type()) {
            case INT32 -> g.writeArray((int[]) data, 0, ((int[]) data).length);
            case INT64 -> g.writeArray((long[]) data, 0, ((long[]) data).length);
            case FP64 -> {
                g.writeStartArray();
                for (double v : (double[]) data) {
                    if (Double.isFinite(v)) g.writeNumber(v);
                    else g.writeString(nonFinite(v));
                }
                g.writeEndArray();
            }
            default -> {
                g.writeStartArray();
                switch (t.type()) {
                    case BOOL -> {
                        for (boolean v : (boolean[]) data) g.writeBoolean(v);
                    }
                    case UINT8 -> {
                        for (byte v : (byte[]) data) g.writeNumber(v & 0xFF);
                    }
                    case INT8 -> {
                        for (byte v : (byte[]) data) g.writeNumber((int) v);
                    }
                    case INT16 -> {
                        for (short v : (short[]) data) g.writeNumber(v);
                    }
                    case FP16 -> {
                        for (short v : (short[]) data) writeFloat(g, fp16ToFloat(v));
                    }
                    case BF16 -> {
                        for (short v : (short[]) data) writeFloat(g, bf16ToFloat(v));
                    }
                    case FP32 -> {
                        for (float v : (float[]) data) writeFloat(g, v);
                    }
                    case BYTES -> {
                        for (String v : (String[]) data) g.writeString(v);
                    }
                    default -> throw new IllegalStateException(t.type() + " is not carried");
                }
                g.writeEndArray();
            }
        }
    }

    private static void writeFloat(JsonGenerator g, float v) throws IOException {
        if (Float.isFinite(v)) g.writeNumber(v);
        else g.writeString(nonFinite(v));
    }

    private static String nonFinite(double v) {
        return Double.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
    }

    // ---- metadata and errors ------------------------------------------------------------------------------------

    /**
     * Model metadata ({@code GET /v2/models/{name}}): {@code {"name", "versions", "platform", "inputs": [{"name",
     * "datatype", "shape"}], "outputs": [...], "parameters": {...}}}, shapes with -1 for dimensions of any size.
     * {@code extra} (such as the ONNX file's metadata: classes, provenance) goes under {@code "parameters"}, which is
     * left out when {@code extra} is null or empty: every value a string, as the protocol's parameters are. When
     * {@code extra} holds a Squeeze provenance ({@link ExportProvenance#METADATA_KEY}) that is a JSON object, it is
     * also given parsed, as the object {@code "provenance"} (an extension of this server; non-finite numbers become
     * the strings {@code "NaN"}, {@code "Infinity"}), so a client reads e.g. {@code provenance.source_sha256},
     * {@code provenance.settings} or {@code provenance.figures.outputs[0].cosineMean} without parsing a string.
     */
    public static byte[] metadata(String modelName, List<String> versions, ModelSpec spec, Map<String, String> extra) {
        return write(512, g -> {
            g.writeStartObject();
            g.writeStringField("name", modelName);
            g.writeArrayFieldStart("versions");
            for (String v : versions) g.writeString(v);
            g.writeEndArray();
            g.writeStringField("platform", PLATFORM);
            writeSpecs(g, "inputs", spec.inputs());
            writeSpecs(g, "outputs", spec.outputs());
            if (extra != null && !extra.isEmpty()) {
                g.writeObjectFieldStart("parameters");
                for (Map.Entry<String, String> e : extra.entrySet()) g.writeStringField(e.getKey(), e.getValue());
                g.writeEndObject();
            }
            Optional<JsonNode> provenance = ExportProvenance.readTree(extra);
            if (provenance.isPresent()) {
                g.writeFieldName("provenance");
                g.writeRawValue(PROVENANCE_JSON.writeValueAsString(provenance.get()));
            }
            g.writeEndObject();
        });
    }

    private static void writeSpecs(JsonGenerator g, String field, List<TensorSpec> specs) throws IOException {
        g.writeArrayFieldStart(field);
        for (TensorSpec s : specs) {
            g.writeStartObject();
            g.writeStringField("name", s.name());
            g.writeStringField("datatype", s.type().protocolName());
            g.writeFieldName("shape");
            g.writeArray(s.shape(), 0, s.shape().length);
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    /** The protocol's error body, {@code {"error": message}}. */
    public static byte[] error(String message) {
        return write(64 + (message == null ? 0 : message.length()), g -> {
            g.writeStartObject();
            g.writeStringField("error", message == null ? "unknown error" : message);
            g.writeEndObject();
        });
    }

    /** What writes one JSON body. */
    private interface BodyWriter {
        void write(JsonGenerator g) throws IOException;
    }

    /** The JSON {@code body} writes, through a buffer of {@code capacity} bytes to start with. */
    private static byte[] write(int capacity, BodyWriter body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(capacity);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory", e);
        }
        return out.toByteArray();
    }

    // ---- half precision -----------------------------------------------------------------------------------------

    /** IEEE 754 binary16 bits of {@code v}, rounded to nearest, ties to even; too large becomes infinity. */
    static short fp16(double v) {
        return (short) toSmallFloat(v, 5, 10);
    }

    /** bfloat16 bits of {@code v}, rounded to nearest, ties to even; too large becomes infinity. */
    static short bf16(double v) {
        return (short) toSmallFloat(v, 8, 7);
    }

    /** The value of binary16 bits (exact: every binary16 value is a float). */
    static float fp16ToFloat(short bits) {
        int b = bits & 0xFFFF;
        int exp = (b >>> 10) & 0x1F;
        int mant = b & 0x3FF;
        float v;
        if (exp == 0x1F) v = mant == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        else if (exp == 0) v = Math.scalb((float) mant, -24);
        else v = Math.scalb((float) (mant | 0x400), exp - 25);
        return (b & 0x8000) != 0 ? -v : v;
    }

    /** The value of bfloat16 bits (the top half of a float's). */
    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * A binary floating-point format with {@code e} exponent bits and {@code m} stored mantissa bits (sign on top),
     * rounding to nearest, ties to even, with subnormals; magnitudes that round beyond the largest finite value become
     * infinity, NaN the quiet NaN.
     */
    static int toSmallFloat(double v, int e, int m) {
        int bias = (1 << (e - 1)) - 1;
        int infinity = ((1 << e) - 1) << m;
        int sign = Double.doubleToRawLongBits(v) < 0 ? 1 << (e + m) : 0;
        if (Double.isNaN(v)) return sign | infinity | (1 << (m - 1));
        double a = Math.abs(v);
        if (a == Double.POSITIVE_INFINITY) return sign | infinity;
        // The exponent of a's leading bit, at least the smallest normal's: subnormals share its spacing.
        int exp = Math.max(Math.getExponent(a), 1 - bias);
        long q = (long) Math.rint(Math.scalb(a, m - exp)); // the mantissa with its leading bit, in units of the spacing
        long bits = ((long) (exp + bias - 1) << m) + q;     // a carry out of the mantissa moves into the exponent
        return bits >= infinity ? sign | infinity : sign | (int) bits;
    }

    /** Whether {@code v} lies exactly halfway between two neighbouring values of the format. */
    static boolean isTie(double v, int e, int m) {
        int bias = (1 << (e - 1)) - 1;
        double a = Math.abs(v);
        int exp = Math.max(Math.getExponent(a), 1 - bias);
        double s = Math.scalb(a, m - exp);
        return s - Math.floor(s) == 0.5;
    }

    // ---- messages -----------------------------------------------------------------------------------------------

    private static BadRequestException bad(String message) {
        return new BadRequestException(message);
    }

    private static String describe(TensorSpec s) {
        return s.name() + " (" + s.type() + " " + fmt(s.shape()) + ")";
    }

    /** A token as an error message shows it. */
    private static String describe(JsonParser p, JsonToken t) throws IOException {
        if (t == null) return "the end of the body";
        return switch (t) {
            case START_ARRAY -> "an array";
            case START_OBJECT -> "an object";
            case VALUE_NULL -> "null";
            case VALUE_TRUE -> "true";
            case VALUE_FALSE -> "false";
            case VALUE_STRING -> "the string \"" + clip(p.getText()) + "\"";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> clip(p.getText());
            default -> t.asString() != null ? "'" + t.asString() + "'" : t.name();
        };
    }

    private static String clip(String s) {
        return s.length() <= QUOTE_LIMIT ? s : s.substring(0, QUOTE_LIMIT) + "...";
    }

    private static String fmt(long[] shape) {
        return Arrays.toString(shape);
    }

    /** Jackson's own message, its source reference shortened to where it points. */
    private static String jacksonMessage(JsonProcessingException e) {
        String m = String.valueOf(e.getOriginalMessage());
        return SOURCE_REFERENCE.matcher(m).replaceAll("line $1, column $2");
    }

    private static final Pattern SOURCE_REFERENCE = Pattern.compile("\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)]");

    private static String at(JsonLocation where) {
        if (where == null || where.getLineNr() < 0) return "";
        return " (at line " + where.getLineNr() + ", column " + where.getColumnNr() + ")";
    }
}
