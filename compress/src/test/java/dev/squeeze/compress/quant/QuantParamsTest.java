package dev.squeeze.compress.quant;

import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantParamsTest {
    private static final String SOURCE = "ad87d3baea3e";

    /** Quantize run folders are named by these hashes, computed before the settings were declared on the record. */
    @Test
    void hashesArePinned() {
        assertEquals("20f4f36bb92d", ConfigHash.of(QuantParams.DEFAULTS.withSource(SOURCE), QuantParams.DEFAULTS).value());
        ConfigHash tuned = ConfigHash.of(new QuantParams(SOURCE, "entropy", 99.9, 500, Granularity.TENSOR, List.of(6, 0),
                2, 0.5, "auto"), QuantParams.DEFAULTS);
        assertEquals("{\"accuracyBudget\":0.5,\"calibration\":\"entropy\",\"granularity\":\"TENSOR\",\"keepFloat\":[0,6],"
                + "\"percentile\":99.9,\"qatEpochs\":2,\"samples\":500,\"source\":\"ad87d3baea3e\"}", tuned.hashedJson());
        assertEquals("e22c0228e9e2", tuned.value());
    }

    /**
     * --keep-float holds layer indices (DL4J) or node names (ONNX): indices stay integers however they were given, so a
     * list of indices hashes as it did when the setting held only integers.
     */
    @Test
    @SuppressWarnings("unchecked")
    void keepFloatIndicesHashAsBeforeAndNamesFollowThem() {
        var spec = QuantParams.SETTINGS.setting("keep-float").orElseThrow();
        QuantParams fromText = new QuantParams(SOURCE, "entropy", 99.9, 500, Granularity.TENSOR,
                (List<Object>) spec.parse("6, 0", "--keep-float"), 2, 0.5, "auto");
        assertEquals("e22c0228e9e2", ConfigHash.of(fromText, QuantParams.DEFAULTS).value());
        QuantParams asStrings = new QuantParams(SOURCE, "entropy", 99.9, 500, Granularity.TENSOR, List.of("6", "0"), 2,
                0.5, "auto");
        assertEquals("e22c0228e9e2", ConfigHash.of(asStrings, QuantParams.DEFAULTS).value());
        QuantParams mixed = QuantParams.SETTINGS.with(QuantParams.DEFAULTS, "keep-float",
                spec.parse("/ffn/w2/MatMul,10,2,/attn/q/MatMul", "--keep-float"));
        assertEquals(List.of(2, 10, "/attn/q/MatMul", "/ffn/w2/MatMul"), mixed.keepFloat());
        assertEquals("{\"keepFloat\":[2,10,\"/attn/q/MatMul\",\"/ffn/w2/MatMul\"]}",
                ConfigHash.of(mixed, QuantParams.DEFAULTS).hashedJson());
        var e = assertThrows(BadInputException.class, () -> mixed.layerIndices());
        assertTrue(e.getMessage().startsWith("--keep-float /attn/q/MatMul: a Squeeze model's layers are given by index"),
                e.getMessage());
        e = assertThrows(BadInputException.class, () -> spec.parse("0,-1", "--keep-float"));
        assertEquals("--keep-float must be a comma-separated list of integers >= 0 or names, got '0,-1'", e.getMessage());
    }

    /**
     * --accuracy-budget holds points (a Squeeze model's) or a bound on a measured figure (an ONNX file's): points hash
     * as they did when the setting held only points; a figure bound hashes as its canonical text.
     */
    @Test
    void accuracyBudgetIsPointsOrAFigureBoundReadOnceWhereItComesIn() {
        var spec = QuantParams.SETTINGS.setting("accuracy-budget").orElseThrow();
        QuantParams points = new QuantParams(SOURCE, "entropy", 99.9, 500, Granularity.TENSOR, List.of(6, 0), 2,
                spec.parse("0.50", "--accuracy-budget"), "auto");
        assertEquals("e22c0228e9e2", ConfigHash.of(points, QuantParams.DEFAULTS).value());
        assertEquals(0.5, points.budgetPoints());

        QuantParams figure = QuantParams.SETTINGS.with(QuantParams.DEFAULTS.withSource(SOURCE), "accuracy-budget",
                spec.parse(" logits : COSINE >= 0.990 ", "--accuracy-budget"));
        assertEquals("logits:cosine>=0.99", figure.accuracyBudget());
        ConfigHash hash = ConfigHash.of(figure, QuantParams.DEFAULTS);
        assertEquals("{\"accuracyBudget\":\"logits:cosine>=0.99\",\"source\":\"ad87d3baea3e\"}", hash.hashedJson());
        assertEquals("960ec6f6a416", hash.value());
        assertEquals(0.99, figure.figureBudget().bound());
        assertEquals("logits", figure.figureBudget().output());
        var e = assertThrows(BadInputException.class, figure::budgetPoints);
        assertTrue(e.getMessage().startsWith("--accuracy-budget logits:cosine>=0.99 bounds a figure measured on an ONNX "
                + "file's inputs; a Squeeze model's budget is"), e.getMessage());
        assertEquals("top1-drop<=0.5", spec.parse("top1-drop<=.5", "--accuracy-budget"));
        assertEquals("out:0:rel-l2<=0.05", spec.parse("out:0:rel-l2<=5e-2", "--accuracy-budget"), "the last colon");

        // A number is refused in a number's words, as before; a text that is no figure bound, in the figure's.
        e = assertThrows(BadInputException.class, () -> spec.parse("101", "--accuracy-budget"));
        assertEquals("--accuracy-budget must be a number from 0 to 100, or null, got '101'", e.getMessage());
        e = assertThrows(BadInputException.class, () -> spec.parse(".inf", "--accuracy-budget"));
        assertEquals("--accuracy-budget must be a number from 0 to 100, or null, got '.inf'", e.getMessage());
        for (String bad : List.of("cosine<=0.99", "cosine>=1.5", "cosnie>=0.99", "top1-drop<=-1", ":cosine>=0.9",
                "rel-l2<=x", "banana")) {
            e = assertThrows(BadInputException.class, () -> spec.parse(bad, "--accuracy-budget"), bad);
            assertEquals("--accuracy-budget must be points for a Squeeze model (a number from 0 to 100) or, for an ONNX "
                    + "file, a bound on a figure: cosine>=X, cosine-worst>=X, rel-l2<=X, max-abs<=X, top1-drop<=X, "
                    + "accuracy-drop<=X, on the first output or on OUTPUT:FIGURE, got '" + bad + "'", e.getMessage());
        }
    }

    @Test
    void defaultsComeFromTheSettings() {
        assertEquals(new QuantParams(null, "auto", 99.99, 1000, Granularity.CHANNEL, List.of(), 0, null, "auto"),
                QuantParams.DEFAULTS);
        assertEquals(List.of(), QuantParams.SETTINGS.build(Map.of("keep-float", List.of())).keepFloat());
    }

    @Test
    void checksNameTheSetting() {
        var e = assertThrows(BadInputException.class, () -> QuantParams.SETTINGS.check(
                new QuantParams(null, "auto", 50, 1000, Granularity.CHANNEL, List.of(), 0, null, "auto")));
        assertEquals("percentile must be a number > 50 and <= 100, got 50", e.getMessage());
        e = assertThrows(BadInputException.class, () -> QuantParams.SETTINGS.check(
                new QuantParams(null, "kl", 99.99, 1000, Granularity.CHANNEL, List.of(), 0, null, "auto")));
        assertEquals("calibration must be one of auto, minmax, percentile, entropy, got 'kl'", e.getMessage());
        e = assertThrows(BadInputException.class, () -> QuantParams.SETTINGS.check(
                new QuantParams(null, "auto", 99.99, 1000, Granularity.CHANNEL, List.of(), -1, null, "auto")));
        assertEquals("qat-epochs must be an integer >= 0, got -1", e.getMessage());
        e = assertThrows(BadInputException.class, () -> QuantParams.SETTINGS.check(
                new QuantParams(null, "auto", 99.99, 1000, Granularity.CHANNEL, List.of(), 0, 101.0, "auto")));
        assertEquals("accuracy-budget must be a number from 0 to 100, or null, got 101", e.getMessage());
    }
}
