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
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
 * bodies; and Triton's binary tensor data extension, which KServe clients such as tritonclient use: tensors as raw
 * bytes after the JSON (see {@link #parseRequest(InputStream, long, long, ModelSpec, long)} and
 * {@link #response(String, String, String, List, Set)}). Pure functions, no web framework.
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
 *   <li>Binary tensor data: the values' raw bytes, little-endian, row-major, BOOL one byte (0 or 1), BYTES elements
 *   each a 4-byte little-endian length and that many bytes of UTF-8 ({@link RawTensors}). In a request an input has
 *   {@code "parameters": {"binary_data_size": S}} instead of {@code data}, and the {@value #HEADER_LENGTH} header
 *   gives the JSON part's length; in a response likewise, for the outputs asked for with
 *   {@code "binary_data": true} (or all, with the request's {@code "binary_data_output": true}).</li>
 * </ul>
 */
public final class InferenceProtocol {

    /**
     * The HTTP header of the binary tensor data extension: the length in bytes of the JSON part of a request or
     * response body, which raw tensor data follows.
     */
    public static final String HEADER_LENGTH = "Inference-Header-Content-Length";

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
        return parseRequest(body == null ? 0 : body.length, null, spec, maxElements, () -> JSON.createParser(body));
    }

    /**
     * {@link #parseRequest(byte[], ModelSpec, long)} reading the body while it decodes it: the server passes the
     * request's buffered bytes as they are, so the body is never copied whole; only its tensors are built.
     *
     * @param bodyBytes the body's length in bytes
     */
    public static InferRequest parseRequest(InputStream body, long bodyBytes, ModelSpec spec, long maxElements) {
        return parseRequest(bodyBytes, null, spec, maxElements, () -> JSON.createParser(body));
    }

    /**
     * {@link #parseRequest(InputStream, long, ModelSpec, long)} with the binary tensor data extension: the body's
     * first {@code jsonBytes} bytes are the JSON inference header, and the raw data of the inputs whose
     * {@code "parameters"} give a {@code binary_data_size} follows it, input after input in the order of
     * {@code "inputs"}, in {@link RawTensors}' encoding. Inputs with JSON {@code "data"} may be mixed in. The JSON part
     * is read as it streams, then each binary input's bytes straight into its tensor.
     *
     * @param jsonBytes the JSON part's length, what {@link #jsonHeaderBytes} reads from the request's
     *                  {@value #HEADER_LENGTH} header; -1 when the request has none: then the whole body is JSON, and
     *                  an input with {@code binary_data_size} is refused
     * @throws IllegalArgumentException when {@code jsonBytes} is 0 or more than {@code bodyBytes} (which
     *                                  {@link #jsonHeaderBytes} refuses)
     */
    public static InferRequest parseRequest(InputStream body, long bodyBytes, long jsonBytes, ModelSpec spec,
                                            long maxElements) {
        if (jsonBytes < 0) return parseRequest(body, bodyBytes, spec, maxElements);
        if (jsonBytes == 0 || jsonBytes > bodyBytes) {
            throw new IllegalArgumentException("a JSON part of " + jsonBytes + " bytes in a body of " + bodyBytes);
        }
        BinaryBody binary = new BinaryBody(new JsonPart(body, jsonBytes), body, jsonBytes, bodyBytes - jsonBytes);
        return parseRequest(jsonBytes, binary, spec, maxElements, () -> JSON.createParser(binary.json()));
    }

    /**
     * The length of a request's JSON part, from its {@value #HEADER_LENGTH} header (the binary tensor data
     * extension), for {@link #parseRequest(InputStream, long, long, ModelSpec, long)}.
     *
     * @param value     the header's value; null when the request has no such header
     * @param bodyBytes the body's length in bytes
     * @return the JSON part's length, from 1 to {@code bodyBytes}; -1 when {@code value} is null (all of the body is JSON)
     * @throws BadRequestException when the value is not a whole number, is 0, or runs past the body
     */
    public static long jsonHeaderBytes(String value, long bodyBytes) {
        if (value == null) return -1;
        String v = value.strip();
        String expected = "; it must be the length in bytes of the JSON inference header that starts the body, the raw "
                + "tensor data of the inputs with binary_data_size following it";
        if (v.startsWith("-") && !v.isEmpty() && WHOLE_NUMBER.matcher(v.substring(1)).matches()) {
            throw bad(HEADER_LENGTH + " is " + clip(v) + ", a negative length" + expected);
        }
        if (!WHOLE_NUMBER.matcher(v).matches()) {
            throw bad(HEADER_LENGTH + " is '" + clip(value) + "', not a whole number" + expected);
        }
        long n = v.length() > 18 ? Long.MAX_VALUE : Long.parseLong(v);
        if (n == 0) {
            throw bad(HEADER_LENGTH + " is 0, so the body has no JSON inference header {\"inputs\": [...]}" + expected);
        }
        if (n > bodyBytes) {
            throw bad(HEADER_LENGTH + " is " + clip(v) + ", past the end of the " + bodyBytes + "-byte body" + expected);
        }
        return n;
    }

    private static final Pattern WHOLE_NUMBER = Pattern.compile("[0-9]+");

    /** Opens a parser on the request body. */
    private interface BodyParser {
        JsonParser open() throws IOException;
    }

    /**
     * A body with the binary tensor data extension.
     *
     * @param json      its first {@code jsonBytes} bytes, the JSON part
     * @param tail      the body, read on from where {@code json} ends
     * @param tailBytes how many bytes follow the JSON part
     */
    private record BinaryBody(JsonPart json, InputStream tail, long jsonBytes, long tailBytes) {
    }

    /**
     * The first bytes of the body, the JSON part: the JSON parser reads ahead in blocks, and must not take the raw
     * bytes after it. Closing it reads to its end and leaves the body open.
     */
    private static final class JsonPart extends FilterInputStream {
        private long left;

        JsonPart(InputStream body, long bytes) {
            super(body);
            this.left = bytes;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) return -1;
            int b = in.read();
            if (b >= 0) left--;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            if (left <= 0) return -1;
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) left -= n;
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = in.skip(Math.min(n, left));
            left -= skipped;
            return skipped;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(in.available(), left);
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        @Override
        public void close() throws IOException {
            in.skipNBytes(left);
            left = 0;
        }
    }

    /**
     * @param jsonBytes the JSON part's length (all of the body's without binary data)
     * @param binary    the body's binary data; null when it has none (no {@value #HEADER_LENGTH} header)
     */
    private static InferRequest parseRequest(long jsonBytes, BinaryBody binary, ModelSpec spec, long maxElements,
                                             BodyParser body) {
        Objects.requireNonNull(spec, "spec");
        if (jsonBytes == 0) {
            throw new BadRequestException("the request body is empty; expected a JSON object such as {\"inputs\": "
                    + "[{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}]}");
        }
        try (JsonParser p = body.open()) {
            return new RequestReader(p, jsonBytes, binary, spec, Math.min(maxElements, ARRAY_LIMIT)).read();
        } catch (StreamConstraintsException e) {
            throw new BadRequestException("the request body exceeds a limit of the JSON parser: " + jacksonMessage(e));
        } catch (JsonProcessingException e) {
            String part = binary == null ? "" : " (its JSON part, the first " + binary.jsonBytes() + " bytes as "
                    + HEADER_LENGTH + " says)";
            throw new BadRequestException("the request body" + part + " is not valid JSON: " + jacksonMessage(e)
                    + at(e.getLocation()));
        } catch (IOException e) {
            throw new BadRequestException("cannot read the request body: " + e.getMessage());
        }
    }

    /** One request being read; holds the inputs decoded so far. */
    private static final class RequestReader {
        private final JsonParser p;
        /** The JSON part's length. */
        private final long jsonBytes;
        /** The binary data after the JSON; null when the request has none. */
        private final BinaryBody binary;
        private final ModelSpec spec;
        private final long limit;
        private final Map<String, HostTensor> inputs = new HashMap<>();
        /** The names of the inputs read so far, JSON or binary. */
        private final Set<String> names = new HashSet<>();
        /** Inputs whose values are binary data, in the order of "inputs", the order of their bytes. */
        private final List<BinaryInput> binaryInputs = new ArrayList<>();
        /** The sum of their binary_data_size so far. */
        private long binaryBytes;
        /** The request's binary_data_output: outputs are binary unless their own binary_data says otherwise. */
        private boolean binaryOutputs;
        /** Each requested output's binary_data parameter, where it has one. */
        private final Map<String, Boolean> binaryOutput = new HashMap<>();

        RequestReader(JsonParser p, long jsonBytes, BinaryBody binary, ModelSpec spec, long limit) {
            this.p = p;
            this.jsonBytes = jsonBytes;
            this.binary = binary;
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
                    case "parameters" -> readRequestParameters(t);
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
            if (binary != null) readBinaryData();
            return new InferRequest(id, inModelOrder(spec, inputs), outputs, binaryOutputs(outputs));
        }

        /** The outputs to answer as binary data: those asked for (or all), per binary_data_output and binary_data. */
        private Set<String> binaryOutputs(Set<String> outputs) {
            if (!binaryOutputs && binaryOutput.isEmpty()) return Set.of();
            Set<String> binaryOnes = new LinkedHashSet<>();
            Iterable<String> answered = outputs.isEmpty() ? spec.outputs().stream().map(TensorSpec::name).toList() : outputs;
            for (String name : answered) if (binaryOutput.getOrDefault(name, binaryOutputs)) binaryOnes.add(name);
            return binaryOnes;
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
            long binarySize = -1;
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
                    case "parameters" -> binarySize = readInputParameters(t, i, name);
                    case "data" -> {
                        hasData = true;
                        if (binarySize >= 0) throw dataAndBinary(label(i, name));
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
            if (binarySize >= 0) {
                if (hasData) throw dataAndBinary(what);
                binaryInput(name, datatype, shape, binarySize);
                return;
            }
            if (!hasData) {
                throw bad(what + " has no \"data\"; send the values as a JSON array in \"data\", or as binary tensor data: "
                        + "\"parameters\": {\"binary_data_size\": BYTES} on the input, its raw bytes after the JSON, and the "
                        + "JSON's length in the " + HEADER_LENGTH + " header");
            }
            if (tensor == null) {
                Target target = target(name, datatype, shape);
                try (JsonParser buffered = pending.asParserOnFirstToken()) {
                    tensor = DataReader.decode(buffered, target, true);
                }
            }
            inputs.put(name, tensor);
            names.add(name);
        }

        private static BadRequestException dataAndBinary(String what) {
            return bad(what + " has both \"data\" and binary_data_size; give its values one way: as a JSON array in "
                    + "\"data\", or as binary data after the JSON with \"parameters\": {\"binary_data_size\": BYTES}");
        }

        /** Checks an input against the model and that the body can hold its values; says how many it needs. */
        private Target target(String name, String datatype, long[] shape) {
            if (names.contains(name)) throw bad("input '" + clip(name) + "' is given twice in \"inputs\"");
            CheckedInput c = checkInput(spec, name, datatype, shape, limit);
            // n values take at least 2n + 1 bytes ("[1,2]"): refuse before allocating for data that cannot be there.
            if (c.elements() > (jsonBytes - 1) / 2) {
                String body = binary == null ? "the whole request body (" + jsonBytes + " bytes)"
                        : "the request's JSON part (" + jsonBytes + " bytes)";
                throw bad(c.what() + ": shape " + fmt(shape) + " needs " + c.elements() + " values in \"data\", more "
                        + "than " + body + " can hold");
            }
            return new Target(name, c.what(), c.type(), shape, c.elements());
        }

        /**
         * An input whose values come as binary data: checks it against the model, that its binary_data_size is what
         * its shape needs, and that the body holds it after the binary inputs before it; its bytes are read once the
         * JSON part has been.
         */
        private void binaryInput(String name, String datatype, long[] shape, long size) {
            if (names.contains(name)) throw bad("input '" + clip(name) + "' is given twice in \"inputs\"");
            CheckedInput c = checkInput(spec, name, datatype, shape, limit);
            int width = RawTensors.elementBytes(c.type());
            long n = c.elements();
            if (width > 0 && size != n * width) {
                throw bad(c.what() + ": binary_data_size is " + size + " bytes, but shape " + fmt(shape) + " of "
                        + c.type() + " needs " + n + " values of " + width + " byte" + (width == 1 ? "" : "s") + " = "
                        + n * width + " bytes; binary data is the values' raw little-endian bytes, row-major");
            }
            if (width < 0 && size < 4 * n) {
                throw bad(c.what() + ": binary_data_size is " + size + " bytes, too few for the " + n + " BYTES elements "
                        + "of shape " + fmt(shape) + ": each takes at least 4 bytes, its length (little-endian) before its "
                        + "bytes");
            }
            if (size > ARRAY_LIMIT) {
                throw bad(c.what() + ": binary_data_size is " + size + " bytes, more than one tensor's data can be ("
                        + ARRAY_LIMIT + " bytes)");
            }
            long left = binary.tailBytes() - binaryBytes;
            if (size > left) {
                throw bad("the request body is truncated: " + c.what() + "'s binary data (binary_data_size " + size
                        + ") runs past its end: " + binary.tailBytes() + " bytes follow the " + binary.jsonBytes()
                        + "-byte JSON part, and the binary inputs before it take " + binaryBytes + ", leaving " + left
                        + "; send every binary input's bytes after the JSON, in the order of \"inputs\"");
            }
            binaryBytes += size;
            binaryInputs.add(new BinaryInput(name, c, shape, (int) size));
            names.add(name);
        }

        /** The binary data after the JSON part, each input's bytes in turn, decoded into its tensor. */
        private void readBinaryData() throws IOException {
            long extra = binary.tailBytes() - binaryBytes;
            if (extra > 0) {
                throw bad("the request body has " + extra + " bytes left over after the binary data of its inputs: "
                        + binary.tailBytes() + " bytes follow the " + binary.jsonBytes() + "-byte JSON part (" + HEADER_LENGTH
                        + "), but the inputs' binary_data_size add up to " + binaryBytes + "; the header must give the "
                        + "JSON's length, and the bytes after it be exactly the binary inputs' data");
            }
            binary.json().close();  // reads to its end, should the parser not have
            for (BinaryInput b : binaryInputs) {
                byte[] raw = binary.tail().readNBytes(b.size());
                if (raw.length < b.size()) {
                    throw bad("the request body ended " + raw.length + " bytes into the " + b.size() + " bytes of "
                            + b.input().what() + "'s binary data; send all of each binary input's bytes");
                }
                Object data = RawTensors.decode(b.input().type(), b.input().elements(), ByteBuffer.wrap(raw),
                        b.input().what() + " (binary data)");
                inputs.put(b.name(), new HostTensor(b.name(), b.input().type(), b.shape(), data));
            }
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

        /**
         * The request's parameters: {@code binary_data_output} (true or false) asks for every output as binary data;
         * the others are accepted and ignored.
         */
        private void readRequestParameters(JsonToken t) throws IOException {
            String what = "the request's \"parameters\"";
            if (!startParameters(t, what)) return;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                t = p.nextToken();
                if (key.equals("binary_data_output")) binaryOutputs = bool(t, what + ": binary_data_output");
                else p.skipChildren();
            }
        }

        /**
         * An input's parameters: its {@code binary_data_size} (the binary tensor data extension), or -1 when it has
         * none; the others are accepted and ignored.
         */
        private long readInputParameters(JsonToken t, int i, String name) throws IOException {
            String what = "\"parameters\" of " + label(i, name);
            if (!startParameters(t, what)) return -1;
            long size = -1;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                t = p.nextToken();
                if (!key.equals("binary_data_size")) {
                    p.skipChildren();
                    continue;
                }
                if (binary == null) {
                    throw bad(label(i, name) + " has binary_data_size, but the request has no " + HEADER_LENGTH
                            + " header; to send binary tensor data, give the length in bytes of the JSON part in that "
                            + "header and the inputs' raw bytes after the JSON; or send the values as a JSON array in "
                            + "\"data\"");
                }
                if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        || p.getLongValue() < 0) {
                    throw bad(what + ": binary_data_size must be a whole number of bytes, 0 or more, got "
                            + describe(p, t));
                }
                size = p.getLongValue();
            }
            return size;
        }

        /** Whether a parameters object follows (null is none); anything else is refused. */
        private boolean startParameters(JsonToken t, String what) throws IOException {
            if (t == JsonToken.VALUE_NULL) return false;
            if (t != JsonToken.START_OBJECT) throw bad(what + " must be a JSON object, got " + describe(p, t));
            return true;
        }

        private boolean bool(JsonToken t, String what) throws IOException {
            if (t == JsonToken.VALUE_TRUE) return true;
            if (t == JsonToken.VALUE_FALSE) return false;
            throw bad(what + " must be true or false, got " + describe(p, t));
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
                Boolean binaryData = null;
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    t = p.nextToken();
                    if (field.equals("name")) {
                        if (t != JsonToken.VALUE_STRING) {
                            throw bad("outputs[" + i + "]: \"name\" must be a string, got " + describe(p, t));
                        }
                        name = p.getText();
                    } else if (field.equals("parameters")) {
                        String what = "\"parameters\" of outputs[" + i + "]";
                        if (!startParameters(t, what)) continue;
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String key = p.currentName();
                            t = p.nextToken();
                            if (key.equals("binary_data")) binaryData = bool(t, what + ": binary_data");
                            else p.skipChildren();  // such as "classification": not done, the output comes whole
                        }
                    } else {
                        p.skipChildren();
                    }
                }
                if (name == null) throw bad("outputs[" + i + "] has no \"name\"; " + modelOutputs(spec));
                checkOutput(spec, name);
                outputs.add(name);
                if (binaryData != null) binaryOutput.put(name, binaryData);
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

    /** An input whose values come as binary data, {@code size} bytes of it. */
    private record BinaryInput(String name, CheckedInput input, long[] shape, int size) {
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
        return response(modelName, modelVersion, id, outputs, Set.of()).bytes();
    }

    /**
     * {@link #response(String, String, String, List)} with the outputs named in {@code binary} as binary tensor data:
     * in the JSON such an output has {@code "parameters": {"binary_data_size": S}} in place of {@code "data"}, and its
     * S raw bytes ({@link RawTensors}' encoding) follow the JSON, output after output in the order of
     * {@code "outputs"}. Send the {@value #HEADER_LENGTH} header with the JSON's length when {@link Body#binary()}.
     *
     * @param binary the outputs to send as binary data, as {@link InferRequest#binaryOutputs()} has them; when empty,
     *               the body is JSON alone
     */
    public static Body response(String modelName, String modelVersion, String id, List<HostTensor> outputs,
                                Set<String> binary) {
        byte[] json = write(estimate(outputs, binary), g -> {
            g.writeStartObject();
            g.writeStringField("model_name", modelName);
            if (modelVersion != null) g.writeStringField("model_version", modelVersion);
            if (id != null) g.writeStringField("id", id);
            writeTensors(g, "outputs", outputs, false, binary);
            g.writeEndObject();
        });
        return withBinaryData(json, outputs, binary);
    }

    /**
     * A request or response body: JSON alone ({@code jsonBytes} -1), or with the binary tensor data extension a JSON
     * part of {@code jsonBytes} bytes that raw tensor data follows; {@code jsonBytes} is then the value of the
     * {@value #HEADER_LENGTH} header that goes with the body.
     */
    public record Body(byte[] bytes, int jsonBytes) {
        /** Whether binary tensor data follows the JSON (even none, when the binary tensors are empty). */
        public boolean binary() {
            return jsonBytes >= 0;
        }
    }

    /** {@code json} followed by the raw data of the tensors named in {@code binary}, in the order of {@code tensors}. */
    private static Body withBinaryData(byte[] json, List<HostTensor> tensors, Set<String> binary) {
        if (tensors.stream().noneMatch(t -> binary.contains(t.name()))) return new Body(json, -1);
        int size = json.length;
        for (HostTensor t : tensors) if (binary.contains(t.name())) size = Math.addExact(size, RawTensors.encodedBytes(t));
        ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN).put(json);
        for (HostTensor t : tensors) if (binary.contains(t.name())) RawTensors.encode(t, out);
        return new Body(out.array(), json.length);
    }

    /**
     * An inference request, what a client sends and {@link #parseRequest} reads: {@code {"id", "inputs": [{"name",
     * "shape", "datatype", "data"}]}}, data flat in row-major order and written as in {@link #response}; {@code id}
     * is left out when null.
     */
    public static byte[] request(String id, List<HostTensor> inputs) {
        return request(id, inputs, Set.of(), false).bytes();
    }

    /**
     * An inference request with the binary tensor data extension, as a client sends it: {@link #request(String, List)}
     * in which the inputs named in {@code binary} have {@code "parameters": {"binary_data_size": S}} in place of
     * {@code "data"}, their raw bytes following the JSON in input order; with {@code binaryOutputs} the request asks
     * for every output as binary data ({@code "parameters": {"binary_data_output": true}}). Send the
     * {@value #HEADER_LENGTH} header with {@link Body#jsonBytes()} when {@link Body#binary()}.
     */
    public static Body request(String id, List<HostTensor> inputs, Set<String> binary, boolean binaryOutputs) {
        byte[] json = write(estimate(inputs, binary), g -> {
            g.writeStartObject();
            if (id != null) g.writeStringField("id", id);
            if (binaryOutputs) {
                g.writeObjectFieldStart("parameters");
                g.writeBooleanField("binary_data_output", true);
                g.writeEndObject();
            }
            writeTensors(g, "inputs", inputs, true, binary);
            g.writeEndObject();
        });
        return withBinaryData(json, inputs, binary);
    }

    /** A first guess at the size of a body's JSON, for its buffer; the tensors in {@code binary} are not in it. */
    private static int estimate(List<HostTensor> tensors, Set<String> binary) {
        long estimate = 128;
        for (HostTensor t : tensors) estimate += 96 + (binary.contains(t.name()) ? 0 : 14L * Array.getLength(t.data()));
        return (int) Math.min(estimate, 1 << 26);
    }

    /**
     * {@code "field": [{"name", "datatype", "shape", "data"}, ...]}; with {@code shapeFirst} (as requests are written)
     * the shape comes before the datatype. The tensors named in {@code binary} have {@code "parameters":
     * {"binary_data_size": S}} in place of their data.
     */
    private static void writeTensors(JsonGenerator g, String field, List<HostTensor> tensors, boolean shapeFirst,
                                     Set<String> binary) throws IOException {
        g.writeArrayFieldStart(field);
        for (HostTensor t : tensors) {
            g.writeStartObject();
            g.writeStringField("name", t.name());
            if (!shapeFirst) g.writeStringField("datatype", t.type().protocolName());
            g.writeFieldName("shape");
            g.writeArray(t.shape(), 0, t.shape().length);
            if (shapeFirst) g.writeStringField("datatype", t.type().protocolName());
            if (binary.contains(t.name())) {
                g.writeObjectFieldStart("parameters");
                g.writeNumberField("binary_data_size", RawTensors.encodedBytes(t));
                g.writeEndObject();
            } else {
                g.writeFieldName("data");
                writeData(g, t);
            }
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
