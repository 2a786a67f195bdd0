package dev.squeeze.serve.runtime;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Open Inference Protocol codec against real ONNX Runtime sessions: every carried type round-trips from a JSON
 * request through an Identity model to a JSON response, and every client mistake is a BadRequestException that says
 * what was wrong.
 */
class InferenceProtocolTest {
    private static final long LIMIT = 1 << 20;
    /** Strict JSON (no NaN tokens): what any client's parser accepts. */
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    static Path dir;

    private static final Map<TensorType, LoadedModel> IDENTITY = new EnumMap<>(TensorType.class);
    private static LoadedModel two;
    private static LoadedModel cube;
    private static final List<LoadedModel> ALL = new ArrayList<>();

    @BeforeAll
    static void load() {
        for (TensorType t : TensorType.values()) {
            if (t.carried()) IDENTITY.put(t, load("id_" + t, TestModels.identity(dir.resolve("id_" + t), t, -1, 2)));
        }
        two = load("two", TestModels.twoInputs(dir.resolve("two")));
        cube = load("cube", TestModels.identity(dir.resolve("cube"), TensorType.INT64, -1, 2, 2));
    }

    private static LoadedModel load(String name, Path file) {
        LoadedModel m = LoadedModel.load(name, 1, file, ModelConfig.DEFAULTS);
        ALL.add(m);
        return m;
    }

    @AfterAll
    static void close() {
        ALL.forEach(LoadedModel::close);
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A one-input request for the identity models (input x). */
    private static String request(TensorType type, String shape, String data) {
        return "{\"inputs\": [{\"name\": \"x\", \"shape\": " + shape + ", \"datatype\": \"" + type + "\", \"data\": "
                + data + "}]}";
    }

    private static InferRequest parse(LoadedModel m, String json) {
        return InferenceProtocol.parseRequest(utf8(json), m.spec(), LIMIT);
    }

    /** Request, run, response: what a client gets back. */
    private static byte[] infer(LoadedModel m, String json) throws Exception {
        InferRequest r = parse(m, json);
        List<HostTensor> out = m.run(r.inputs(), r.outputs());
        return InferenceProtocol.response(m.name(), "1", r.id(), out);
    }

    private static JsonNode tree(byte[] json) throws IOException {
        return MAPPER.readTree(json);
    }

    /** The raw token texts of each output's data (exact decimal text, strings without quotes). */
    private static Map<String, List<String>> rawData(byte[] response) throws IOException {
        Map<String, List<String>> out = new LinkedHashMap<>();
        try (JsonParser p = new JsonFactory().createParser(response)) {
            String name = null;
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                if (t != JsonToken.FIELD_NAME) continue;
                String field = p.currentName();
                p.nextToken();
                if (field.equals("name")) name = p.getText();
                if (field.equals("data")) {
                    List<String> values = new ArrayList<>();
                    while (p.nextToken() != JsonToken.END_ARRAY) values.add(p.getText());
                    out.put(name, values);
                }
            }
        }
        return out;
    }

    private static void assertBad(LoadedModel m, String json, String... expected) {
        assertBad(m, json, LIMIT, expected);
    }

    private static void assertBad(LoadedModel m, String json, long limit, String... expected) {
        BadRequestException e = assertThrows(BadRequestException.class,
                () -> InferenceProtocol.parseRequest(utf8(json), m.spec(), limit), json);
        for (String s : expected) {
            assertTrue(e.getMessage().contains(s), () -> "message \"" + e.getMessage() + "\" lacks \"" + s + "\"");
        }
    }

    // ---- round trips of every carried type ----------------------------------------------------------------------

    @Test
    void everyCarriedTypeRunsThroughIdentity() throws Exception {
        // The fixture loads an Identity model per carried type; each must also run.
        assertEquals(11, IDENTITY.size());
        for (Map.Entry<TensorType, LoadedModel> e : IDENTITY.entrySet()) {
            LoadedModel m = e.getValue();
            assertEquals(List.of(new TensorSpec("x", e.getKey(), new long[]{-1, 2})), m.spec().inputs());
            String data = switch (e.getKey()) {
                case BOOL -> "[true, false]";
                case BYTES -> "[\"a\", \"b\"]";
                default -> "[1, 0]";
            };
            JsonNode out = tree(infer(m, request(e.getKey(), "[1, 2]", data))).get("outputs").get(0);
            assertEquals(e.getKey().name(), out.get("datatype").asText());
            assertEquals("[1,2]", out.get("shape").toString());
        }
    }

    @Test
    void boolRoundTrip() throws Exception {
        InferRequest r = parse(IDENTITY.get(TensorType.BOOL), request(TensorType.BOOL, "[2, 2]", "[true, false, false, true]"));
        assertArrayEquals(new boolean[]{true, false, false, true}, (boolean[]) r.inputs().get(0).data());
        JsonNode out = tree(infer(IDENTITY.get(TensorType.BOOL), request(TensorType.BOOL, "[2, 2]", "[true, false, false, true]")));
        assertEquals("[true,false,false,true]", out.at("/outputs/0/data").toString());
    }

    @Test
    void integerTypesRoundTripAtTheirLimits() throws Exception {
        Map<TensorType, String> data = Map.of(
                TensorType.UINT8, "[0,1,127,128,200,255]",
                TensorType.INT8, "[-128,-1,0,1,100,127]",
                TensorType.INT16, "[-32768,-1,0,1,1000,32767]",
                TensorType.INT32, "[-2147483648,-1,0,1,123456789,2147483647]",
                TensorType.INT64, "[-9223372036854775808,-9007199254740993,9007199254740993,0,1,9223372036854775807]");
        for (Map.Entry<TensorType, String> e : data.entrySet()) {
            byte[] response = infer(IDENTITY.get(e.getKey()), request(e.getKey(), "[3, 2]", e.getValue()));
            JsonNode out = tree(response).at("/outputs/0");
            assertEquals(e.getKey().name(), out.get("datatype").asText());
            assertEquals("[3,2]", out.get("shape").toString());
            assertEquals(e.getValue(), out.get("data").toString(), e.getKey().name());
            for (JsonNode v : out.get("data")) assertTrue(v.isIntegralNumber(), e.getKey() + " " + v);
        }
        // The Java side: UINT8 255 is the byte -1, INT64 beyond 2^53 is exact.
        InferRequest u8 = parse(IDENTITY.get(TensorType.UINT8), request(TensorType.UINT8, "[1, 2]", "[255, 128]"));
        assertArrayEquals(new byte[]{-1, -128}, (byte[]) u8.inputs().get(0).data());
        InferRequest i64 = parse(IDENTITY.get(TensorType.INT64), request(TensorType.INT64, "[1, 2]", "[9007199254740993, -1]"));
        assertArrayEquals(new long[]{9007199254740993L, -1}, (long[]) i64.inputs().get(0).data());
    }

    @Test
    void fp32RoundTripsExactly() throws Exception {
        String[] values = {"0.1", "-3.4028235E38", "1.4E-45", "1.0000001", "123456.79", "1e-40", "3", "-0.0"};
        byte[] response = infer(IDENTITY.get(TensorType.FP32), request(TensorType.FP32, "[4, 2]", "[" + String.join(",", values) + "]"));
        List<String> got = rawData(response).get("y");
        for (int i = 0; i < values.length; i++) {
            assertEquals(Float.floatToIntBits(Float.parseFloat(values[i])), Float.floatToIntBits(Float.parseFloat(got.get(i))),
                    values[i] + " came back as " + got.get(i));
        }
        tree(response);
    }

    @Test
    void fp32IsParsedFromTheDecimalTextNotThroughDouble() {
        // Just below the midpoint between 1+2^-23 and 1+2^-22: correct rounding gives 1+2^-23; through double it would
        // land on the midpoint and round to even, 1+2^-22.
        String tricky = "1.00000017881393432617187499";
        float[] streamed = (float[]) parse(IDENTITY.get(TensorType.FP32), request(TensorType.FP32, "[1, 2]", "[" + tricky + ", 0]"))
                .inputs().get(0).data();
        assertEquals(Float.intBitsToFloat(0x3F800001), streamed[0]);
        // The same when the data comes before the datatype and shape (buffered, then decoded).
        String reordered = "{\"inputs\": [{\"data\": [" + tricky + ", 0], \"datatype\": \"FP32\", \"shape\": [1, 2], \"name\": \"x\"}]}";
        float[] buffered = (float[]) parse(IDENTITY.get(TensorType.FP32), reordered).inputs().get(0).data();
        assertEquals(Float.intBitsToFloat(0x3F800001), buffered[0]);
    }

    @Test
    void fp64RoundTripsExactly() throws Exception {
        String[] values = {"0.1", "1.7976931348623157E308", "4.9E-324", "-0.0", "3.141592653589793", "1e300"};
        byte[] response = infer(IDENTITY.get(TensorType.FP64), request(TensorType.FP64, "[3, 2]", "[" + String.join(",", values) + "]"));
        List<String> got = rawData(response).get("y");
        for (int i = 0; i < values.length; i++) {
            assertEquals(Double.doubleToLongBits(Double.parseDouble(values[i])), Double.doubleToLongBits(Double.parseDouble(got.get(i))),
                    values[i] + " came back as " + got.get(i));
        }
    }

    @Test
    void fp16ValuesRoundToNearestEvenAndComeBackAsNumbers() throws Exception {
        String[] values = {"0.1", "65504", "-2.5", "5.960464477539063E-8", "0.333333", "-0.0", "2049", "2051", "1e-8", "65519",
                "2049.0000000000000001", "2048.9999999999999999"};
        int[] bits = {0x2E66, 0x7BFF, 0xC100, 0x0001, 0x3555, 0x8000, 0x6800, 0x6802, 0x0000, 0x7BFF, 0x6801, 0x6800};
        checkHalf(TensorType.FP16, values, bits);
    }

    @Test
    void bf16ValuesRoundToNearestEvenAndComeBackAsNumbers() throws Exception {
        String[] values = {"1.0", "1.00390625", "1.01171875", "-3.0", "3.3895313892515355E38", "1e-40", "0.1", "-0.0",
                "1.0039062500000000001", "1.0039062499999999999"};
        int[] bits = {0x3F80, 0x3F80, 0x3F82, 0xC040, 0x7F7F, 0x0001, 0x3DCD, 0x8000, 0x3F81, 0x3F80};
        checkHalf(TensorType.BF16, values, bits);
    }

    private static void checkHalf(TensorType type, String[] values, int[] bits) throws Exception {
        LoadedModel m = IDENTITY.get(type);
        String json = request(type, "[" + values.length / 2 + ", 2]", "[" + String.join(",", values) + "]");
        InferRequest r = parse(m, json);
        short[] in = (short[]) r.inputs().get(0).data();
        String reordered = "{\"inputs\": [{\"data\": [" + String.join(",", values) + "], \"name\": \"x\", \"datatype\": \""
                + type + "\", \"shape\": [" + values.length / 2 + ", 2]}]}";
        short[] buffered = (short[]) parse(m, reordered).inputs().get(0).data();
        List<HostTensor> out = m.run(r.inputs(), r.outputs());
        short[] ran = (short[]) out.get(0).data();
        List<String> got = rawData(InferenceProtocol.response(m.name(), "1", null, out)).get("y");
        for (int i = 0; i < values.length; i++) {
            String what = type + " " + values[i];
            assertEquals(bits[i], in[i] & 0xFFFF, what + ": " + Integer.toHexString(in[i] & 0xFFFF));
            assertEquals(bits[i], buffered[i] & 0xFFFF, what + " (buffered)");
            assertEquals(bits[i], ran[i] & 0xFFFF, what + " (from the model)");
            float expected = type == TensorType.FP16 ? InferenceProtocol.fp16ToFloat((short) bits[i])
                    : InferenceProtocol.bf16ToFloat((short) bits[i]);
            assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(Float.parseFloat(got.get(i))), what + " came back as " + got.get(i));
            // and the number sent back decodes to the same bits
            short again = type == TensorType.FP16 ? InferenceProtocol.fp16(Double.parseDouble(got.get(i)))
                    : InferenceProtocol.bf16(Double.parseDouble(got.get(i)));
            assertEquals(bits[i], again & 0xFFFF, what);
        }
    }

    @Test
    void halfConversionsMatchOnnxRuntimeCast() throws Exception {
        try (LoadedModel toHalf = LoadedModel.load("cast16", 1, TestModels.cast(dir.resolve("cast16"), TensorType.FP32, TensorType.FP16, -1), ModelConfig.DEFAULTS);
             LoadedModel toBf = LoadedModel.load("castbf", 1, TestModels.cast(dir.resolve("castbf"), TensorType.FP32, TensorType.BF16, -1), ModelConfig.DEFAULTS)) {
            Random random = new Random(7);
            int n = 60_000;
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                float v;
                switch (i % 4) {
                    case 0 -> v = Float.intBitsToFloat(random.nextInt()); // any float
                    case 1 -> v = (float) (random.nextGaussian() * Math.pow(2, random.nextInt(40) - 26)); // FP16's range
                    case 2 -> { // exactly halfway between two FP16 values
                        int h = random.nextInt(0x7BFF);
                        v = (InferenceProtocol.fp16ToFloat((short) h) + InferenceProtocol.fp16ToFloat((short) (h + 1))) / 2;
                    }
                    default -> { // exactly halfway between two BF16 values
                        int h = random.nextInt(0x7F7F);
                        v = Float.intBitsToFloat((h << 16) | 0x8000);
                    }
                }
                x[i] = Float.isNaN(v) ? 0 : v;
            }
            HostTensor in = new HostTensor("x", TensorType.FP32, new long[]{n}, x);
            short[] ortHalf = (short[]) toHalf.run(List.of(in), Set.of()).get(0).data();
            short[] ortBf = (short[]) toBf.run(List.of(in), Set.of()).get(0).data();
            for (int i = 0; i < n; i++) {
                int i0 = i;
                assertEquals(ortHalf[i] & 0xFFFF, InferenceProtocol.fp16(x[i]) & 0xFFFF, () -> "FP16 of " + x[i0]);
                assertEquals(ortBf[i] & 0xFFFF, InferenceProtocol.bf16(x[i]) & 0xFFFF, () -> "BF16 of " + x[i0]);
                if (Float.isFinite(InferenceProtocol.fp16ToFloat(ortHalf[i]))) {
                    assertEquals(ortHalf[i], InferenceProtocol.fp16(InferenceProtocol.fp16ToFloat(ortHalf[i])));
                }
            }
        }
    }

    @Test
    void stringsRoundTripWithUnicode() throws Exception {
        String[] values = {"héllo", "日本語", "emoji 😀", "", "quote \" backslash \\ newline \n tab \t", "plain"};
        String data = MAPPER.writeValueAsString(values);
        JsonNode out = tree(infer(IDENTITY.get(TensorType.BYTES), request(TensorType.BYTES, "[3, 2]", data)));
        JsonNode got = out.at("/outputs/0/data");
        assertEquals(values.length, got.size());
        for (int i = 0; i < values.length; i++) assertEquals(values[i], got.get(i).asText());
        assertEquals("BYTES", out.at("/outputs/0/datatype").asText());
    }

    @Test
    void nonFiniteFloatsAreStringsInValidJson() throws Exception {
        for (TensorType type : List.of(TensorType.FP16, TensorType.BF16, TensorType.FP32, TensorType.FP64)) {
            String data = "[\"NaN\", \"Infinity\", \"-Infinity\", NaN, Infinity, -Infinity]";
            byte[] response = infer(IDENTITY.get(type), request(type, "[3, 2]", data));
            JsonNode values = tree(response).at("/outputs/0/data"); // strict parser: no bare NaN tokens
            assertEquals("[\"NaN\",\"Infinity\",\"-Infinity\",\"NaN\",\"Infinity\",\"-Infinity\"]", values.toString(), type.name());
        }
    }

    // ---- data layouts, field order, several inputs and outputs ----------------------------------------------------

    @Test
    void nestedDataIsAccepted() throws Exception {
        JsonNode out = tree(infer(IDENTITY.get(TensorType.FP32), request(TensorType.FP32, "[3, 2]", "[[1, 2], [3, 4], [5, 6.5]]")));
        assertEquals("[1.0,2.0,3.0,4.0,5.0,6.5]", out.at("/outputs/0/data").toString());
        assertEquals("[3,2]", out.at("/outputs/0/shape").toString());

        String cubeJson = request(TensorType.INT64, "[2, 2, 2]", "[[[1, 2], [3, 4]], [[5, 6], [7, 9007199254740993]]]");
        assertEquals("[1,2,3,4,5,6,7,9007199254740993]", tree(infer(cube, cubeJson)).at("/outputs/0/data").toString());
        // flat data for the same rank-3 tensor
        assertEquals("[1,2,3,4,5,6,7,8]", tree(infer(cube, request(TensorType.INT64, "[2, 2, 2]", "[1,2,3,4,5,6,7,8]")))
                .at("/outputs/0/data").toString());

        JsonNode strings = tree(infer(IDENTITY.get(TensorType.BYTES), request(TensorType.BYTES, "[2, 2]", "[[\"a\", \"b\"], [\"c\", \"d\"]]")));
        assertEquals("[\"a\",\"b\",\"c\",\"d\"]", strings.at("/outputs/0/data").toString());
        // empty tensors, flat and nested
        assertEquals("[]", tree(infer(IDENTITY.get(TensorType.FP32), request(TensorType.FP32, "[0, 2]", "[]"))).at("/outputs/0/data").toString());
    }

    @Test
    void fieldsMayComeInAnyOrder() throws Exception {
        String json = "{\"outputs\": [{\"name\": \"z\"}], \"inputs\": ["
                + "{\"data\": [[2], [-1]], \"shape\": [2, 1], \"name\": \"k\", \"datatype\": \"INT64\"},"
                + "{\"datatype\": \"FP32\", \"data\": [1, 2, 3, 4, 5, 6], \"name\": \"x\", \"shape\": [2, 3]}], \"id\": \"r1\"}";
        JsonNode out = tree(infer(two, json));
        assertEquals("r1", out.get("id").asText());
        assertEquals(1, out.get("outputs").size());
        assertEquals("[4,-2]", out.at("/outputs/0/data").toString());
    }

    @Test
    void twoInputsOfDifferentTypesComputeTheRightNumbers() throws Exception {
        // k before x in the request; the codec hands them over in the model's order.
        String json = "{\"id\": \"abc-1\", \"inputs\": ["
                + "{\"name\": \"k\", \"shape\": [2, 1], \"datatype\": \"INT64\", \"data\": [2, -1]},"
                + "{\"name\": \"x\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [[1, 2, 3], [4, 5, 6]]}]}";
        InferRequest r = parse(two, json);
        assertEquals("abc-1", r.id());
        assertEquals(List.of("x", "k"), r.inputs().stream().map(HostTensor::name).toList());
        assertTrue(r.outputs().isEmpty());
        JsonNode out = tree(InferenceProtocol.response("two", "3", r.id(), two.run(r.inputs(), r.outputs())));
        assertEquals("two", out.get("model_name").asText());
        assertEquals("3", out.get("model_version").asText());
        assertEquals("abc-1", out.get("id").asText());
        Map<String, JsonNode> byName = new LinkedHashMap<>();
        for (JsonNode o : out.get("outputs")) byName.put(o.get("name").asText(), o);
        assertEquals(Set.of("y", "z"), byName.keySet());
        assertEquals("FP32", byName.get("y").get("datatype").asText());
        assertEquals("[2,3]", byName.get("y").get("shape").toString());
        assertEquals("[2.0,4.0,6.0,-4.0,-5.0,-6.0]", byName.get("y").get("data").toString());
        assertEquals("INT64", byName.get("z").get("datatype").asText());
        assertEquals("[2,1]", byName.get("z").get("shape").toString());
        assertEquals("[4,-2]", byName.get("z").get("data").toString());
    }

    @Test
    void outputsSelectionReturnsOnlyWhatWasAsked() throws Exception {
        String json = "{\"inputs\": ["
                + "{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3]},"
                + "{\"name\": \"k\", \"shape\": [1, 1], \"datatype\": \"INT64\", \"data\": [3]}],"
                + " \"outputs\": [{\"name\": \"y\", \"parameters\": {\"binary_data\": false}}]}";
        InferRequest r = parse(two, json);
        assertEquals(Set.of("y"), r.outputs());
        JsonNode out = tree(InferenceProtocol.response("two", "1", r.id(), two.run(r.inputs(), r.outputs())));
        assertEquals(1, out.get("outputs").size());
        assertEquals("y", out.at("/outputs/0/name").asText());
        assertEquals("[3.0,6.0,9.0]", out.at("/outputs/0/data").toString());
        assertFalse(out.has("id"), "no id in the request, none in the response");
    }

    @Test
    void parametersAndUnknownFieldsAreIgnored() throws Exception {
        String json = "{\"id\": \"p\", \"parameters\": {\"priority\": 1, \"nested\": {\"a\": [1]}}, \"extension\": [1, {\"b\": 2}],"
                + " \"inputs\": [{\"name\": \"x\", \"shape\": [1, 2], \"datatype\": \"FP32\", \"parameters\": {\"foo\": \"bar\"},"
                + " \"extra\": {\"c\": 3}, \"data\": [1, 2]}]}";
        assertEquals("[1.0,2.0]", tree(infer(IDENTITY.get(TensorType.FP32), json)).at("/outputs/0/data").toString());
    }

    // ---- bad requests -------------------------------------------------------------------------------------------

    private static final String K = "{\"name\": \"k\", \"shape\": [1, 1], \"datatype\": \"INT64\", \"data\": [1]}";

    private static String x(String shape, String datatype, String data) {
        return "{\"name\": \"x\", \"shape\": " + shape + ", \"datatype\": \"" + datatype + "\", \"data\": " + data + "}";
    }

    @Test
    void malformedBodies() {
        LoadedModel m = IDENTITY.get(TensorType.FP32);
        assertBad(m, "{\"inputs\": [", "not valid JSON", "line 1");
        assertBad(m, "{\"inputs\": [{\"name\": \"x\",, }]}", "not valid JSON", "line 1, column");
        assertBad(m, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 2], \"datatype\": \"FP32\",\n \"data\": [1, 2,]}]}",
                "not valid JSON", "line 2");
        assertBad(m, "", "empty");
        assertBad(m, "   ", "must be a JSON object", "the end of the body");
        assertBad(m, "[1, 2]", "must be a JSON object", "an array");
        assertBad(m, "\"inputs\"", "must be a JSON object");
        assertBad(m, "{} {}", "goes on after its JSON object");
        assertBad(m, "{\"inputs\": [], \"inputs\": []}", "\"inputs\" twice");
    }

    @Test
    void missingOrEmptyInputs() {
        assertBad(two, "{}", "no \"inputs\"", "x (FP32 [-1, 3])", "k (INT64 [-1, 1])");
        assertBad(two, "{\"inputs\": []}", "\"inputs\" is empty", "x (FP32 [-1, 3])");
        assertBad(two, "{\"inputs\": {}}", "\"inputs\" must be an array");
        assertBad(two, "{\"inputs\": [5]}", "inputs[0] must be a JSON object", "5");
        assertBad(two, "{\"inputs\": [" + x("[1, 3]", "FP32", "[1, 2, 3]") + "]}", "missing input 'k'", "INT64 [-1, 1]");
    }

    @Test
    void inputsMissingAField() {
        LoadedModel m = IDENTITY.get(TensorType.FP32);
        assertBad(m, "{\"inputs\": [{\"shape\": [1, 2], \"datatype\": \"FP32\", \"data\": [1, 2]}]}", "inputs[0] has no \"name\"");
        assertBad(m, "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"data\": [1, 2]}]}", "input 'x' has no \"shape\"");
        assertBad(m, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 2], \"data\": [1, 2]}]}", "input 'x' has no \"datatype\"");
        assertBad(m, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 2], \"datatype\": \"FP32\"}]}", "input 'x' has no \"data\"");
        assertBad(m, "{\"inputs\": [{\"name\": 3, \"shape\": [1, 2], \"datatype\": \"FP32\", \"data\": [1, 2]}]}",
                "\"name\" must be a string", "3");
        assertBad(m, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 2], \"datatype\": \"FP32\", \"data\": [1, 2],"
                + " \"parameters\": {\"binary_data_size\": 8}}]}", "binary", "\"data\"");
    }

    @Test
    void wrongNamesAndDuplicates() {
        assertBad(two, "{\"inputs\": [" + x("[1, 3]", "FP32", "[1, 2, 3]") + ", " + K
                + ", {\"name\": \"q\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}",
                "unknown input 'q'", "x (FP32 [-1, 3])", "k (INT64 [-1, 1])");
        assertBad(two, "{\"inputs\": [" + x("[1, 3]", "FP32", "[1, 2, 3]") + ", " + K + ", " + K + "]}",
                "input 'k' is given twice");
        assertBad(two, "{\"inputs\": [" + x("[1, 3]", "FP32", "[1, 2, 3]") + ", " + K + "], \"outputs\": [{\"name\": \"w\"}]}",
                "unknown output 'w'", "y (FP32 [-1, 3])", "z (INT64 [-1, 1])");
        assertBad(two, "{\"inputs\": [" + x("[1, 3]", "FP32", "[1, 2, 3]") + ", " + K + "], \"outputs\": [{}]}",
                "outputs[0] has no \"name\"");
        assertBad(two, "{\"inputs\": [" + x("[1, 3]", "FP32", "[1, 2, 3]") + ", " + K + "], \"id\": 5}", "\"id\" must be a string");
    }

    @Test
    void datatypes() {
        assertBad(two, "{\"inputs\": [" + x("[1, 3]", "FP64", "[1, 2, 3]") + ", " + K + "]}",
                "input 'x' has datatype FP64", "model's input 'x' is FP32");
        assertBad(two, "{\"inputs\": [" + x("[1, 3]", "FLOAT32", "[1, 2, 3]") + ", " + K + "]}",
                "unknown datatype 'FLOAT32'", "BOOL, UINT8", "FP32");
        assertBad(two, "{\"inputs\": [" + x("[1, 3]", "fp32", "[1, 2, 3]") + ", " + K + "]}",
                "unknown datatype 'fp32'", "upper case: FP32");
        assertBad(two, "{\"inputs\": [" + x("[1, 3]", "UINT16", "[1, 2, 3]") + ", " + K + "]}", "datatype UINT16", "FP32");
    }

    @Test
    void shapes() {
        assertBad(two, "{\"inputs\": [" + x("[3]", "FP32", "[1, 2, 3]") + ", " + K + "]}",
                "shape [3] has rank 1", "[-1, 3]", "rank 2");
        assertBad(two, "{\"inputs\": [" + x("[2, 4]", "FP32", "[1, 2, 3, 4, 5, 6, 7, 8]") + ", " + K + "]}",
                "shape [2, 4] does not match", "[-1, 3]", "dimension 1 is 4 but must be 3");
        assertBad(two, "{\"inputs\": [" + x("[-1, 3]", "FP32", "[1, 2, 3]") + ", " + K + "]}", "negative dimension", "-1");
        assertBad(two, "{\"inputs\": [" + x("[1.5, 3]", "FP32", "[1, 2, 3]") + ", " + K + "]}", "integer dimension sizes", "1.5");
        assertBad(two, "{\"inputs\": [" + x("[\"1\", 3]", "FP32", "[1, 2, 3]") + ", " + K + "]}", "integer dimension sizes");
        assertBad(two, "{\"inputs\": [" + x("[99999999999999999999, 3]", "FP32", "[1, 2, 3]") + ", " + K + "]}",
                "integer dimension sizes");
        assertBad(two, "{\"inputs\": [" + x("3", "FP32", "[1, 2, 3]") + ", " + K + "]}", "\"shape\" must be an array");
    }

    @Test
    void elementCounts() {
        LoadedModel m = IDENTITY.get(TensorType.FP32);
        assertBad(m, request(TensorType.FP32, "[3, 2]", "[1, 2, 3, 4, 5]"), "has 5 values but shape [3, 2] needs 6");
        assertBad(m, request(TensorType.FP32, "[3, 2]", "[1, 2, 3, 4, 5, 6, 7]"), "has 7 values but shape [3, 2] needs 6");
        assertBad(m, request(TensorType.FP32, "[9223372036854775807, 2]", "[1, 2]"), "too many elements", "[9223372036854775807, 2]");
        assertBad(m, request(TensorType.FP32, "[4611686018427387904, 2]", "[1, 2]"), "too many elements");
        assertBad(m, request(TensorType.FP32, "[6, 2]", "[1,2,3,4,5,6,7,8,9,10,11,12]"), 10,
                "too many elements: 12", "the limit is 10");
        assertBad(m, request(TensorType.FP32, "[100000, 2]", "[1, 2]"), "needs 200000 values", "request body");
        assertBad(m, request(TensorType.FP32, "[1, 2]", "{\"a\": 1}"), "\"data\" must be a JSON array", "an object");
        assertBad(m, request(TensorType.FP32, "[1, 2]", "5"), "\"data\" must be a JSON array");
    }

    @Test
    void nestedDataMustFollowTheShape() {
        LoadedModel m = IDENTITY.get(TensorType.FP32);
        assertBad(m, request(TensorType.FP32, "[2, 2]", "[[1, 2], [3]]"), "data[1] has 1 entries but dimension 1 has size 2");
        assertBad(m, request(TensorType.FP32, "[2, 2]", "[[1, 2], [3, 4], [5, 6]]"), "data has 3 entries but dimension 0 has size 2");
        assertBad(m, request(TensorType.FP32, "[2, 2]", "[[1, 2], 3, 4]"), "data[1] should be an array of 2");
        assertBad(m, request(TensorType.FP32, "[2, 2]", "[1, 2, [3, 4]]"), "mixes values and arrays");
        assertBad(m, request(TensorType.FP32, "[2, 2]", "[[[1, 2]], [[3, 4]]]"), "nested deeper than the shape [2, 2]", "data[0][0]");
        assertBad(m, request(TensorType.FP32, "[2, 2]", "[[1, \"a\"], [3, 4]]"), "element 1 (data[0][1])", "the string \"a\"");
        assertBad(cube, request(TensorType.INT64, "[2, 2, 2]", "[[[1, 2], [3, 4]], [[5, 6], [7, 1.5]]]"),
                "element 7 (data[1][1][1])", "1.5");
    }

    @Test
    void valuesOutsideTheirType() {
        Object[][] cases = {
                {TensorType.UINT8, "300", "element 2", "UINT8", "an integer from 0 to 255", "got 300"},
                {TensorType.UINT8, "-1", "element 2", "0 to 255", "got -1"},
                {TensorType.INT8, "128", "element 2", "INT8", "an integer from -128 to 127", "got 128"},
                {TensorType.INT8, "-129", "element 2", "-128 to 127"},
                {TensorType.INT16, "40000", "element 2", "-32768 to 32767"},
                {TensorType.INT32, "1.5", "element 2", "INT32", "-2147483648 to 2147483647", "got 1.5"},
                {TensorType.INT32, "2147483648", "element 2", "-2147483648 to 2147483647"},
                {TensorType.INT32, "\"abc\"", "element 2", "the string \"abc\""},
                {TensorType.INT32, "1e3", "element 2", "got 1e3"},
                {TensorType.INT64, "null", "element 2", "INT64", "got null"},
                {TensorType.INT64, "9223372036854775808", "element 2", "-9223372036854775808 to 9223372036854775807"},
                {TensorType.INT64, "true", "element 2", "got true"},
                {TensorType.BOOL, "1", "element 2", "BOOL, true or false", "got 1"},
                {TensorType.BOOL, "\"true\"", "element 2", "true or false"},
                {TensorType.BYTES, "5", "element 2", "BYTES, a string", "got 5"},
                {TensorType.BYTES, "null", "element 2", "a string", "got null"},
                {TensorType.FP32, "1e39", "element 2", "FP32", "3.4028235E38", "got 1e39"},
                {TensorType.FP32, "\"abc\"", "element 2", "FP32", "the string \"abc\""},
                {TensorType.FP32, "\"nan\"", "element 2", "\"NaN\""},
                {TensorType.FP32, "[1]", "mixes values and arrays"},
                {TensorType.FP32, "{}", "element 2", "an object"},
                {TensorType.FP64, "1e400", "element 2", "FP64", "got 1e400"},
                {TensorType.FP16, "65520", "element 2", "FP16", "65504", "got 65520"},
                {TensorType.FP16, "1e6", "element 2", "65504"},
                {TensorType.BF16, "3.4e38", "element 2", "BF16", "3.3895314E38"},
                {TensorType.FP16, "null", "element 2", "got null"},
        };
        for (Object[] c : cases) {
            TensorType type = (TensorType) c[0];
            String first = type == TensorType.BOOL ? "true" : type == TensorType.BYTES ? "\"a\"" : "1";
            String data = "[" + first + ", " + first + ", " + c[1] + ", " + first + "]";
            String[] expected = new String[c.length - 1];
            expected[0] = "input 'x'";
            for (int i = 2; i < c.length; i++) expected[i - 1] = (String) c[i];
            assertBad(IDENTITY.get(type), request(type, "[2, 2]", data), expected);
            // the same when the data is buffered because it comes first
            String reordered = "{\"inputs\": [{\"data\": " + data + ", \"name\": \"x\", \"shape\": [2, 2], \"datatype\": \"" + type + "\"}]}";
            assertBad(IDENTITY.get(type), reordered, expected);
        }
    }

    @Test
    void noMutationOfAValidRequestEscapesAsAnythingButBadRequest() throws Exception {
        String valid = "{\"id\": \"f\", \"inputs\": ["
                + "{\"name\": \"x\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [[1.5, -2, 3e2], [4, 5, 6]]},"
                + "{\"name\": \"k\", \"shape\": [2, 1], \"datatype\": \"INT64\", \"data\": [2, -9007199254740993]}],"
                + " \"outputs\": [{\"name\": \"y\"}, {\"name\": \"z\"}]}";
        String alphabet = "{}[]\",:0123456789-+.eE aNxkyzIF\\u";
        Random random = new Random(11);
        int ok = 0;
        for (int round = 0; round < 5000; round++) {
            StringBuilder b = new StringBuilder(valid);
            int edits = 1 + random.nextInt(3);
            for (int e = 0; e < edits && b.length() > 0; e++) {
                int at = random.nextInt(b.length());
                switch (random.nextInt(4)) {
                    case 0 -> b.deleteCharAt(at);
                    case 1 -> b.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
                    case 2 -> b.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length())));
                    default -> b.setLength(at);
                }
            }
            String json = b.toString();
            try {
                InferRequest r = parse(two, json);
                two.run(r.inputs(), r.outputs());
                ok++;
            } catch (BadRequestException expected) {
                assertFalse(expected.getMessage() == null || expected.getMessage().isBlank(), json);
            } catch (ai.onnxruntime.OrtException modelError) {
                // a well-formed request the model itself refuses (x and k with different batch sizes): not the codec's
            } catch (Throwable t) {
                fail("mutated request " + json + " escaped as " + t, t);
            }
        }
        assertTrue(ok > 0, "some mutations stay valid");
    }

    // ---- metadata and errors ------------------------------------------------------------------------------------

    @Test
    void metadataListsInputsAndOutputsWithDynamicDimensions() throws Exception {
        Path file = TestModels.graph("with_classes")
                .input("x", TensorType.FP32, -1, 4)
                .node("Identity", List.of("x"), List.of("y"))
                .output("y", TensorType.FP32, -1, 4)
                .metadata("classes", "cat,dog,bird,fish")
                .writeTo(dir.resolve("meta"));
        try (LoadedModel m = LoadedModel.load("meta", 1, file, ModelConfig.DEFAULTS)) {
            JsonNode meta = tree(InferenceProtocol.metadata("meta", List.of("1", "2"), m.spec(), m.metadata()));
            assertEquals("meta", meta.get("name").asText());
            assertEquals("[\"1\",\"2\"]", meta.get("versions").toString());
            assertEquals("onnxruntime_onnx", meta.get("platform").asText());
            assertEquals("[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,4]}]", meta.get("inputs").toString());
            assertEquals("[{\"name\":\"y\",\"datatype\":\"FP32\",\"shape\":[-1,4]}]", meta.get("outputs").toString());
            assertEquals("cat,dog,bird,fish", meta.at("/parameters/classes").asText());
        }
        JsonNode twoMeta = tree(InferenceProtocol.metadata("two", List.of("1"), two.spec(), Map.of()));
        assertEquals("[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,3]},{\"name\":\"k\",\"datatype\":\"INT64\",\"shape\":[-1,1]}]",
                twoMeta.get("inputs").toString());
        assertEquals(2, twoMeta.get("outputs").size());
        assertFalse(twoMeta.has("parameters"));
    }

    @Test
    void errorBodyIsValidJson() throws Exception {
        String message = "input 'x': \"quoted\", back\\slash, newline\n, unicode é";
        JsonNode e = tree(InferenceProtocol.error(message));
        assertEquals(message, e.get("error").asText());
        assertEquals(1, e.size());
        assertEquals("unknown error", tree(InferenceProtocol.error(null)).get("error").asText());
    }

    @Test
    void longOrOddClientTextIsClippedAndStillMakesAValidErrorBody() throws Exception {
        String odd = "\\\"}\\n" + "x".repeat(500);
        BadRequestException e = assertThrows(BadRequestException.class,
                () -> parse(IDENTITY.get(TensorType.INT32), request(TensorType.INT32, "[1, 2]", "[1, \"" + odd + "\"]")));
        assertTrue(e.getMessage().contains("element 1"), e.getMessage());
        assertTrue(e.getMessage().length() < 400, e.getMessage());
        assertEquals(e.getMessage(), tree(InferenceProtocol.error(e.getMessage())).get("error").asText());
    }

    @Test
    void responseWithoutVersionOrId() throws Exception {
        HostTensor t = new HostTensor("y", TensorType.UINT8, new long[]{3}, new byte[]{0, (byte) 255, 7});
        JsonNode r = tree(InferenceProtocol.response("m", null, null, List.of(t)));
        assertEquals("m", r.get("model_name").asText());
        assertFalse(r.has("model_version"));
        assertFalse(r.has("id"));
        assertEquals("[0,255,7]", r.at("/outputs/0/data").toString());
        assertNull(r.get("parameters"));
    }

    @Test
    void requestsParseBackToTheSameTensors() {
        float nan = Float.NaN;
        float inf = Float.POSITIVE_INFINITY;
        short[] halves = {InferenceProtocol.fp16(1.5), InferenceProtocol.fp16(-65504), InferenceProtocol.fp16(6e-8),
                InferenceProtocol.fp16(Double.NaN), InferenceProtocol.fp16(Double.NEGATIVE_INFINITY)};
        short[] brains = {InferenceProtocol.bf16(0.1), InferenceProtocol.bf16(-3e38),
                InferenceProtocol.bf16(Double.NaN), InferenceProtocol.bf16(Double.POSITIVE_INFINITY)};
        List<HostTensor> tensors = List.of(
                new HostTensor("bool", TensorType.BOOL, new long[]{2, 2}, new boolean[]{true, false, false, true}),
                new HostTensor("uint8", TensorType.UINT8, new long[]{3}, new byte[]{0, 7, (byte) 255}),
                new HostTensor("int8", TensorType.INT8, new long[]{3}, new byte[]{Byte.MIN_VALUE, 0, Byte.MAX_VALUE}),
                new HostTensor("int16", TensorType.INT16, new long[]{2}, new short[]{Short.MIN_VALUE, Short.MAX_VALUE}),
                new HostTensor("int32", TensorType.INT32, new long[]{1, 2}, new int[]{Integer.MIN_VALUE, -1}),
                new HostTensor("int64", TensorType.INT64, new long[]{3},
                        new long[]{Long.MIN_VALUE, (1L << 53) + 1, Long.MAX_VALUE}),
                new HostTensor("fp16", TensorType.FP16, new long[]{5}, halves),
                new HostTensor("bf16", TensorType.BF16, new long[]{4}, brains),
                new HostTensor("fp32", TensorType.FP32, new long[]{2, 3},
                        new float[]{0.1f, -0f, Float.MIN_VALUE, Float.MAX_VALUE, nan, -inf}),
                new HostTensor("fp64", TensorType.FP64, new long[]{4},
                        new double[]{0.1, Double.MIN_VALUE, -Double.MAX_VALUE, Double.NaN}),
                new HostTensor("bytes", TensorType.BYTES, new long[]{3},
                        new String[]{"", "héllo 日本語 😀", "quote \" \\ \n"}),
                new HostTensor("scalar", TensorType.INT32, new long[0], new int[]{Integer.MAX_VALUE}),
                new HostTensor("empty", TensorType.FP32, new long[]{0, 4}, new float[0]));
        List<TensorSpec> specs = tensors.stream().map(t -> new TensorSpec(t.name(), t.type(), t.shape())).toList();
        ModelSpec spec = new ModelSpec(specs, List.of());

        for (String id : new String[]{"request-7", null}) {
            InferRequest back = InferenceProtocol.parseRequest(InferenceProtocol.request(id, tensors), spec, LIMIT);
            assertEquals(id, back.id());
            assertEquals(Set.of(), back.outputs());
            assertEquals(tensors.size(), back.inputs().size());
            for (int i = 0; i < tensors.size(); i++) {
                HostTensor want = tensors.get(i);
                HostTensor got = back.inputs().get(i);
                assertEquals(want.name(), got.name());
                assertEquals(want.type(), got.type(), want.name());
                assertArrayEquals(want.shape(), got.shape(), want.name());
                // Arrays.equals compares floats by their bits: NaN equals NaN, -0.0 differs from 0.0.
                assertTrue(Arrays.deepEquals(new Object[]{want.data()}, new Object[]{got.data()}),
                        () -> want.name() + ": " + Arrays.deepToString(new Object[]{got.data()}));
            }
        }
    }

    @Test
    void scaleModelFromTestModels() throws Exception {
        try (LoadedModel m = LoadedModel.load("scale", 1, TestModels.scale(dir.resolve("scale"), 2.5f, -1, 2), ModelConfig.DEFAULTS)) {
            assertEquals("[2.5,-5.0]", tree(infer(m, request(TensorType.FP32, "[1, 2]", "[1, -2]"))).at("/outputs/0/data").toString());
        }
    }

    // ---- binary tensor data extension -----------------------------------------------------------------------------

    /** One tensor of every carried type, with the values at each type's edges. */
    private static List<HostTensor> everyType() {
        short[] halves = {InferenceProtocol.fp16(1.5), InferenceProtocol.fp16(-65504), InferenceProtocol.fp16(Double.NaN)};
        short[] brains = {InferenceProtocol.bf16(0.1), InferenceProtocol.bf16(Double.NEGATIVE_INFINITY)};
        return List.of(
                new HostTensor("bool", TensorType.BOOL, new long[]{2, 2}, new boolean[]{true, false, false, true}),
                new HostTensor("uint8", TensorType.UINT8, new long[]{3}, new byte[]{0, 7, (byte) 255}),
                new HostTensor("int8", TensorType.INT8, new long[]{3}, new byte[]{Byte.MIN_VALUE, 0, Byte.MAX_VALUE}),
                new HostTensor("int16", TensorType.INT16, new long[]{2}, new short[]{Short.MIN_VALUE, Short.MAX_VALUE}),
                new HostTensor("int32", TensorType.INT32, new long[]{1, 2}, new int[]{Integer.MIN_VALUE, -1}),
                new HostTensor("int64", TensorType.INT64, new long[]{2}, new long[]{Long.MIN_VALUE, (1L << 53) + 1}),
                new HostTensor("fp16", TensorType.FP16, new long[]{3}, halves),
                new HostTensor("bf16", TensorType.BF16, new long[]{2}, brains),
                new HostTensor("fp32", TensorType.FP32, new long[]{2, 2}, new float[]{0.1f, -0f, Float.MIN_VALUE, Float.NaN}),
                new HostTensor("fp64", TensorType.FP64, new long[]{2}, new double[]{Double.MAX_VALUE, -0.0}),
                new HostTensor("bytes", TensorType.BYTES, new long[]{3}, new String[]{"", "héllo 日本語 😀", "a\u0000b"}),
                new HostTensor("scalar", TensorType.INT32, new long[0], new int[]{42}),
                new HostTensor("empty", TensorType.FP32, new long[]{0, 4}, new float[0]));
    }

    private static ModelSpec specOf(List<HostTensor> tensors) {
        List<TensorSpec> specs = tensors.stream().map(t -> new TensorSpec(t.name(), t.type(), t.shape())).toList();
        return new ModelSpec(specs, specs);
    }

    /** Parses a body as the server does, with the {@code Inference-Header-Content-Length} header {@code header}. */
    private static InferRequest parseBinary(ModelSpec spec, String header, byte[] body) {
        return InferenceProtocol.parseRequest(new java.io.ByteArrayInputStream(body), body.length,
                InferenceProtocol.jsonHeaderBytes(header, body.length), spec, LIMIT);
    }

    private static InferRequest parseBinary(ModelSpec spec, InferenceProtocol.Body body) {
        return parseBinary(spec, body.binary() ? Integer.toString(body.jsonBytes()) : null, body.bytes());
    }

    /** {@code json} followed by the raw bytes, and the header that says where the JSON ends. */
    private static byte[] body(String json, byte[]... raw) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.writeBytes(utf8(json));
        for (byte[] r : raw) out.writeBytes(r);
        return out.toByteArray();
    }

    private static String length(String json) {
        return Integer.toString(utf8(json).length);
    }

    private static byte[] fp32(float... values) {
        return RawTensors.encode(new HostTensor("f", TensorType.FP32, new long[]{values.length}, values));
    }

    private static byte[] int64(long... values) {
        return RawTensors.encode(new HostTensor("l", TensorType.INT64, new long[]{values.length}, values));
    }

    private static void assertBadBinary(ModelSpec spec, String header, byte[] body, String... expected) {
        BadRequestException e = assertThrows(BadRequestException.class, () -> parseBinary(spec, header, body),
                () -> new String(body, StandardCharsets.ISO_8859_1));
        for (String s : expected) {
            assertTrue(e.getMessage().contains(s), () -> "message \"" + e.getMessage() + "\" lacks \"" + s + "\"");
        }
    }

    private static void assertSameTensors(List<HostTensor> want, List<HostTensor> got) {
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
            HostTensor w = want.get(i);
            HostTensor g = got.get(i);
            assertTrue(ResponseTensors.same(w, g), () -> w + " came back as " + g + ": "
                    + Arrays.deepToString(new Object[]{g.data()}));
        }
    }

    @Test
    void everyCarriedTypeParsesBackFromBinaryDataAloneOrMixedWithJson() {
        List<HostTensor> tensors = everyType();
        ModelSpec spec = specOf(tensors);
        Set<String> all = new java.util.LinkedHashSet<>(tensors.stream().map(HostTensor::name).toList());
        Set<String> everyOther = new java.util.LinkedHashSet<>();
        for (int i = 0; i < tensors.size(); i += 2) everyOther.add(tensors.get(i).name());
        for (Set<String> binary : List.of(all, everyOther, Set.<String>of())) {
            InferenceProtocol.Body body = InferenceProtocol.request("b-1", tensors, binary, false);
            assertEquals(!binary.isEmpty(), body.binary(), binary.toString());
            InferRequest back = parseBinary(spec, body);
            assertEquals("b-1", back.id());
            assertSameTensors(tensors, back.inputs());
            assertEquals(Set.of(), back.binaryOutputs(), "no binary outputs asked for");
        }
        // The raw bytes follow the JSON in input order, each exactly its RawTensors encoding.
        InferenceProtocol.Body body = InferenceProtocol.request(null, tensors, all, false);
        int at = body.jsonBytes();
        for (HostTensor t : tensors) {
            byte[] raw = RawTensors.encode(t);
            assertArrayEquals(raw, Arrays.copyOfRange(body.bytes(), at, at + raw.length), t.name());
            at += raw.length;
        }
        assertEquals(body.bytes().length, at);
    }

    @Test
    void binaryInputsFeedARealModelInTheModelsOrder() throws Exception {
        // k (JSON) before x (binary): the tail holds only x's bytes.
        String json = "{\"inputs\": [{\"name\": \"k\", \"shape\": [2, 1], \"datatype\": \"INT64\", \"data\": [2, -1]},"
                + " {\"name\": \"x\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"parameters\": {\"binary_data_size\": 24}}]}";
        InferRequest r = parseBinary(two.spec(), length(json), body(json, fp32(1, 2, 3, 4, 5, 6)));
        assertEquals(List.of("x", "k"), r.inputs().stream().map(HostTensor::name).toList());
        Map<String, HostTensor> out = ResponseTensors.outputs(InferenceProtocol.response("two", "1", null,
                two.run(r.inputs(), r.outputs())), -1);
        assertArrayEquals(new float[]{2, 4, 6, -4, -5, -6}, (float[]) out.get("y").data());
        assertArrayEquals(new long[]{4, -2}, (long[]) out.get("z").data());
        // binary_data_size in any position among the input's fields, parameters first
        String first = "{\"inputs\": [{\"parameters\": {\"binary_data_size\": 8}, \"name\": \"k\", \"shape\": [1, 1],"
                + " \"datatype\": \"INT64\"}, {\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 3],"
                + " \"parameters\": {\"other\": [1], \"binary_data_size\": 12}}]}";
        InferRequest both = parseBinary(two.spec(), length(first), body(first, int64(7), fp32(1f, 0.5f, -2f)));
        assertArrayEquals(new float[]{1, 0.5f, -2}, (float[]) both.inputs().get(0).data());
        assertArrayEquals(new long[]{7}, (long[]) both.inputs().get(1).data());
        // A header without binary inputs: the JSON is the whole body, as without the header.
        String plain = "{\"inputs\": [" + x("[1, 3]", "FP32", "[1, 2, 3]") + ", " + K + "]}";
        assertSameTensors(parse(two, plain).inputs(), parseBinary(two.spec(), length(plain), utf8(plain)).inputs());
    }

    @Test
    void binaryOutputsAreAskedPerOutputOrForAll() throws Exception {
        String inputs = "\"inputs\": [" + x("[1, 3]", "FP32", "[1, 2, 3]") + ", " + K + "]";
        Map<String, Set<String>> cases = new LinkedHashMap<>();
        cases.put("{" + inputs + "}", Set.of());
        cases.put("{\"parameters\": {\"binary_data_output\": true}, " + inputs + "}", Set.of("y", "z"));
        cases.put("{" + inputs + ", \"parameters\": {\"binary_data_output\": false}}", Set.of());
        cases.put("{" + inputs + ", \"outputs\": [{\"name\": \"z\", \"parameters\": {\"binary_data\": true}}, {\"name\": \"y\"}]}",
                Set.of("z"));
        cases.put("{" + inputs + ", \"outputs\": [{\"name\": \"z\"}], \"parameters\": {\"binary_data_output\": true}}",
                Set.of("z"));
        cases.put("{\"parameters\": {\"binary_data_output\": true}, " + inputs + ", \"outputs\": [{\"name\": \"y\","
                + " \"parameters\": {\"binary_data\": false}}, {\"name\": \"z\"}]}", Set.of("z"));
        for (Map.Entry<String, Set<String>> c : cases.entrySet()) {
            InferRequest r = parse(two, c.getKey());
            assertEquals(c.getValue(), r.binaryOutputs(), c.getKey());
            List<HostTensor> outputs = two.run(r.inputs(), r.outputs());
            InferenceProtocol.Body body = InferenceProtocol.response("two", "1", "7", outputs, r.binaryOutputs());
            assertEquals(!c.getValue().isEmpty(), body.binary(), c.getKey());
            JsonNode json = ResponseTensors.json(body.bytes(), body.jsonBytes());
            assertEquals("7", json.path("id").asText());
            for (JsonNode o : json.path("outputs")) {
                boolean binary = c.getValue().contains(o.path("name").asText());
                assertEquals(binary, o.path("parameters").has("binary_data_size"), o.toString());
                assertEquals(!binary, o.has("data"), o.toString());
            }
            // Binary or JSON, the values are the same.
            assertSameTensors(outputs, List.copyOf(ResponseTensors.outputs(body.bytes(), body.jsonBytes()).values()));
        }
    }

    @Test
    void everyCarriedTypeComesBackAsBinaryOutputThroughIdentity() throws Exception {
        for (Map.Entry<TensorType, LoadedModel> e : IDENTITY.entrySet()) {
            String typeName = e.getKey().name().toLowerCase(java.util.Locale.ROOT);
            HostTensor in = everyType().stream().filter(t -> t.name().equals(typeName)).findFirst().orElseThrow();
            // The identity models take [batch, 2]: reshape the test values to two columns.
            int n = java.lang.reflect.Array.getLength(in.data()) / 2 * 2;
            Object data = java.lang.reflect.Array.newInstance(in.data().getClass().getComponentType(), n);
            System.arraycopy(in.data(), 0, data, 0, n);
            HostTensor x = new HostTensor("x", e.getKey(), new long[]{n / 2, 2}, data);
            InferRequest r = parseBinary(e.getValue().spec(), InferenceProtocol.request(null, List.of(x), Set.of("x"), true));
            assertEquals(Set.of("y"), r.binaryOutputs());
            List<HostTensor> out = e.getValue().run(r.inputs(), r.outputs());
            InferenceProtocol.Body body = InferenceProtocol.response("id", "1", null, out, r.binaryOutputs());
            HostTensor y = ResponseTensors.outputs(body.bytes(), body.jsonBytes()).get("y");
            assertTrue(ResponseTensors.same(new HostTensor("y", x.type(), x.shape(), x.data()), y), e.getKey().toString());
        }
    }

    @Test
    void theHeaderLengthMustBeAWholeNumberWithinTheBody() {
        assertEquals(-1, InferenceProtocol.jsonHeaderBytes(null, 10));
        assertEquals(7, InferenceProtocol.jsonHeaderBytes(" 7 ", 10));
        assertEquals(10, InferenceProtocol.jsonHeaderBytes("10", 10));
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("abc", "not a whole number");
        refused.put("", "not a whole number");
        refused.put("1.5", "not a whole number");
        refused.put("0x10", "not a whole number");
        refused.put("-3", "a negative length");
        refused.put("0", "is 0");
        refused.put("11", "past the end of the 10-byte body");
        refused.put("99999999999999999999999", "past the end");
        for (Map.Entry<String, String> c : refused.entrySet()) {
            var e = assertThrows(BadRequestException.class, () -> InferenceProtocol.jsonHeaderBytes(c.getKey(), 10), c.getKey());
            assertTrue(e.getMessage().contains(c.getValue()) && e.getMessage().contains("Inference-Header-Content-Length")
                    && e.getMessage().contains("length in bytes of the JSON"), e.getMessage());
        }
    }

    @Test
    void badBinaryRequestsSayWhatIsWrongAndWhatToDo() {
        ModelSpec spec = two.spec();
        String k = "{\"name\": \"k\", \"shape\": [1, 1], \"datatype\": \"INT64\", \"data\": [1]}";
        String xBinary = "{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"parameters\": {\"binary_data_size\": %s}}";
        String json = "{\"inputs\": [" + String.format(xBinary, 12) + ", " + k + "]}";
        byte[] x = fp32(1, 2, 3);
        assertEquals(3, parseBinary(spec, length(json), body(json, x)).inputs().get(0).shape()[1]);

        // a size that disagrees with the shape: 8 bytes for 3 FP32 values
        String eight = "{\"inputs\": [" + String.format(xBinary, 8) + ", " + k + "]}";
        assertBadBinary(spec, length(eight), body(eight, fp32(1, 2)), "input 'x'", "binary_data_size is 8 bytes",
                "needs 3 values of 4 bytes = 12 bytes");
        // the header's length past the body, or cutting the JSON short
        assertBadBinary(spec, "500", body(json, x), "past the end of the " + (utf8(json).length + 12) + "-byte body");
        assertBadBinary(spec, Integer.toString(utf8(json).length - 3), body(json, x), "not valid JSON",
                "first " + (utf8(json).length - 3) + " bytes", "Inference-Header-Content-Length");
        assertBadBinary(spec, "twelve", body(json, x), "not a whole number");
        assertBadBinary(spec, "-12", body(json, x), "negative");
        // a truncated body: the binary data ends before the inputs' sizes do
        assertBadBinary(spec, length(json), body(json, fp32(1, 2)), "truncated", "input 'x'", "binary_data_size 12",
                "8 bytes follow the " + utf8(json).length + "-byte JSON part");
        String twoBinary = "{\"inputs\": [" + String.format(xBinary, 12) + ", {\"name\": \"k\", \"shape\": [1, 1],"
                + " \"datatype\": \"INT64\", \"parameters\": {\"binary_data_size\": 8}}]}";
        assertBadBinary(spec, length(twoBinary), body(twoBinary, x, new byte[4]), "truncated", "input 'k'",
                "the binary inputs before it take 12, leaving 4");
        // bytes left over after the last binary input
        assertBadBinary(spec, length(json), body(json, x, new byte[]{9, 9}), "2 bytes left over", "add up to 12");
        assertBadBinary(spec, length(json), body(json, x, fp32(4f)), "4 bytes left over");
        // binary_data_size and data on one input, in either order
        assertBadBinary(spec, length(json), body("{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\","
                + " \"data\": [1, 2, 3], \"parameters\": {\"binary_data_size\": 12}}, " + k + "]}", x), "both \"data\" and binary_data_size");
        String dataAfter = "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\","
                + " \"parameters\": {\"binary_data_size\": 12}, \"data\": [1, 2, 3]}, " + k + "]}";
        assertBadBinary(spec, length(dataAfter), body(dataAfter, x), "both \"data\" and binary_data_size", "give its values one way");
        // binary_data_size that is not a whole number of bytes
        for (String size : List.of("-1", "12.0", "1.2e1", "\"12\"", "null", "true", "[12]", "99999999999999999999")) {
            String bad = "{\"inputs\": [" + String.format(xBinary, size) + ", " + k + "]}";
            assertBadBinary(spec, length(bad), body(bad, x), "binary_data_size must be a whole number of bytes, 0 or more");
        }
        // binary_data_size without the header: today's refusal, saying to send the header
        assertBad(two, json, "input 'x' has binary_data_size, but the request has no Inference-Header-Content-Length header",
                "JSON array in \"data\"");
        // the input checks of every protocol still apply
        String wrongType = "{\"inputs\": [" + String.format(xBinary, 12).replace("FP32", "FP64") + ", " + k + "]}";
        assertBadBinary(spec, length(wrongType), body(wrongType, x), "has datatype FP64 but the model's input 'x' is FP32");
        String twice = "{\"inputs\": [" + String.format(xBinary, 12) + ", " + String.format(xBinary, 12) + ", " + k + "]}";
        assertBadBinary(spec, length(twice), body(twice, x, x), "input 'x' is given twice");
        String missing = "{\"inputs\": [" + String.format(xBinary, 12) + "]}";
        assertBadBinary(spec, length(missing), body(missing, x), "missing input 'k'");
        String noData = "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\"}, " + k + "]}";
        assertBadBinary(spec, length(noData), body(noData), "has no \"data\"", "binary_data_size");
        // parameters that must be booleans
        assertBad(two, "{\"parameters\": {\"binary_data_output\": 1}, \"inputs\": [" + x("[1, 3]", "FP32", "[1, 2, 3]")
                + ", " + k + "]}", "binary_data_output must be true or false, got 1");
        assertBad(two, "{\"inputs\": [" + x("[1, 3]", "FP32", "[1, 2, 3]") + ", " + k + "], \"outputs\": [{\"name\": \"y\","
                + " \"parameters\": {\"binary_data\": \"yes\"}}]}", "outputs[0]", "binary_data must be true or false");
    }

    @Test
    void badBinaryDataOfBytesAndBoolTensors() {
        ModelSpec spec = IDENTITY.get(TensorType.BYTES).spec();
        String json = "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 2], \"datatype\": \"BYTES\", \"parameters\": {\"binary_data_size\": %d}}]}";
        // "hi", "" as two length-prefixed elements
        byte[] good = {2, 0, 0, 0, 'h', 'i', 0, 0, 0, 0};
        String ok = String.format(json, good.length);
        assertArrayEquals(new String[]{"hi", ""}, (String[]) parseBinary(spec, length(ok), body(ok, good)).inputs().get(0).data());
        // an element whose length runs past its data
        byte[] past = {2, 0, 0, 0, 'h', 'i', 9, 0, 0, 0, 'x'};
        String pastJson = String.format(json, past.length);
        assertBadBinary(spec, length(pastJson), body(pastJson, past), "input 'x' (binary data)", "BYTES element 1 says it is 9 bytes long",
                "only 1 bytes follow");
        // too few bytes for the shape's elements, refused before anything is allocated
        String few = String.format(json, 6);
        assertBadBinary(spec, length(few), body(few, new byte[6]), "binary_data_size is 6 bytes, too few for the 2 BYTES elements");
        String huge = "{\"inputs\": [{\"name\": \"x\", \"shape\": [500000, 2], \"datatype\": \"BYTES\", \"parameters\": {\"binary_data_size\": 8}}]}";
        assertBadBinary(spec, length(huge), body(huge, new byte[8]), "too few for the 1000000 BYTES elements");
        // bytes after the last element
        byte[] longer = {2, 0, 0, 0, 'h', 'i', 0, 0, 0, 0, 7};
        String longerJson = String.format(json, longer.length);
        assertBadBinary(spec, length(longerJson), body(longerJson, longer), "1 bytes left after its 2 BYTES elements");
        // BOOL bytes are 0 or 1
        String bool = "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 2], \"datatype\": \"BOOL\", \"parameters\": {\"binary_data_size\": 2}}]}";
        assertBadBinary(IDENTITY.get(TensorType.BOOL).spec(), length(bool), body(bool, new byte[]{1, 2}), "0 (false) or 1 (true)");
    }

    // ---- speed of the common case -------------------------------------------------------------------------------

    @Test
    void aBatchOf256MnistRowsParsesQuickly() throws Exception {
        Path file = TestModels.identity(dir.resolve("mnist"), TensorType.FP32, -1, 784);
        try (LoadedModel m = LoadedModel.load("mnist", 1, file, ModelConfig.DEFAULTS)) {
            Random random = new Random(3);
            float[] values = new float[256 * 784];
            StringBuilder data = new StringBuilder(values.length * 12).append('[');
            for (int i = 0; i < values.length; i++) {
                values[i] = random.nextFloat();
                if (i > 0) data.append(',');
                data.append(values[i]);
            }
            byte[] body = utf8(request(TensorType.FP32, "[256, 784]", data.append(']').toString()));
            InferRequest r = null;
            long best = Long.MAX_VALUE;
            for (int i = 0; i < 15; i++) {
                long t0 = System.nanoTime();
                r = InferenceProtocol.parseRequest(body, m.spec(), LIMIT);
                best = Math.min(best, System.nanoTime() - t0);
            }
            assertArrayEquals(values, (float[]) r.inputs().get(0).data());
            List<HostTensor> out = m.run(r.inputs(), r.outputs());
            byte[] response = null;
            long write = Long.MAX_VALUE;
            for (int i = 0; i < 15; i++) {
                long t0 = System.nanoTime();
                response = InferenceProtocol.response("mnist", "1", null, out);
                write = Math.min(write, System.nanoTime() - t0);
            }
            System.out.printf("256x784 FP32: body %d KB, parse %.2f ms (best of 15), response %d KB written in %.2f ms (best of 15)%n",
                    body.length / 1024, best / 1e6, response.length / 1024, write / 1e6);
            InferenceProtocol.Body binary = InferenceProtocol.request(null, r.inputs(), Set.of("x"), false);
            long binaryBest = Long.MAX_VALUE;
            for (int i = 0; i < 15; i++) {
                long t0 = System.nanoTime();
                r = parseBinary(m.spec(), binary);
                binaryBest = Math.min(binaryBest, System.nanoTime() - t0);
            }
            assertArrayEquals(values, (float[]) r.inputs().get(0).data());
            System.out.printf("256x784 FP32 as binary tensor data: body %d KB, parse %.2f ms (best of 15)%n",
                    binary.bytes().length / 1024, binaryBest / 1e6);
            assertTrue(best < 2_000_000_000L, "parsing took " + best / 1e6 + " ms");
        }
    }
}
