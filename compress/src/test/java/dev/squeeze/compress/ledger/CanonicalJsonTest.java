package dev.squeeze.compress.ledger;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CanonicalJsonTest {

    @Test
    void doublesUseTheShortestTextInEcmaScriptLayout() {
        assertEquals("0.001", CanonicalJson.write(0.001));
        assertEquals(CanonicalJson.write(0.001), CanonicalJson.write(1e-3));
        assertEquals("100", CanonicalJson.write(100.0));
        assertEquals("0", CanonicalJson.write(-0.0));
        assertEquals("-2.5", CanonicalJson.write(-2.5));
        assertEquals("0.000001", CanonicalJson.write(1e-6));
        assertEquals("1e-7", CanonicalJson.write(1e-7));
        assertEquals("1.5e-7", CanonicalJson.write(1.5e-7));
        assertEquals("100000000000000000000", CanonicalJson.write(1e20));
        assertEquals("1e+21", CanonicalJson.write(1e21));
        assertEquals("0.30000000000000004", CanonicalJson.write(0.1 + 0.2));
        assertEquals("5e-324", CanonicalJson.write(Double.MIN_VALUE));
        assertEquals("1.7976931348623157e+308", CanonicalJson.write(Double.MAX_VALUE));
        // JDK 17's Double.toString writes these as 1.9999999999999998E23 and 8.409999999999999E21 (JDK 19
        // changed that), so hashes built on it would differ between JDKs; the canonical text does not.
        assertEquals("2e+23", CanonicalJson.write(2e23));
        assertEquals("8.41e+21", CanonicalJson.write(8.41e21));
        assertEquals("\"NaN\"", CanonicalJson.write(Double.NaN));
        assertEquals("\"-Infinity\"", CanonicalJson.write(Double.NEGATIVE_INFINITY));
    }

    @Test
    void floatsUseFloatPrecision() {
        assertEquals("0.1", CanonicalJson.write(0.1f));
        assertEquals(CanonicalJson.write(0.001), CanonicalJson.write(0.001f));
        assertEquals("16777216", CanonicalJson.write(16777216f));
    }

    @Test
    void doubleTextReadsBackAsTheSameDouble() {
        Random random = new Random(42);
        for (int i = 0; i < 5_000; i++) {
            double d = Double.longBitsToDouble(random.nextLong());
            if (!Double.isFinite(d)) continue;
            assertEquals(d == 0 ? 0.0 : d, Double.parseDouble(CanonicalJson.write(d)), "text of " + d);
            double small = random.nextDouble() * Math.pow(10, random.nextInt(20) - 10);
            assertEquals(small, Double.parseDouble(CanonicalJson.write(small)), "text of " + small);
        }
    }

    @Test
    void integersAreExact() {
        assertEquals("9223372036854775807", CanonicalJson.write(Long.MAX_VALUE));
        assertEquals("-3", CanonicalJson.write((short) -3));
        assertEquals("1.5", CanonicalJson.write(new BigDecimal("1.500")));
    }

    @Test
    void stringsEscapeOnlyWhatJsonRequires() {
        assertEquals("\"a\\\"b\\\\c\\nd\\u0001é\"", CanonicalJson.write("a\"b\\c\nd\u0001é"));
        assertEquals("\"x\"", CanonicalJson.write('x'));
    }

    enum Color { RED }

    record Point(int y, int x) {
    }

    @Test
    void containersAreCanonical() {
        assertEquals("[1,2,3]", CanonicalJson.write(new int[]{1, 2, 3}));
        assertEquals("[\"b\",\"a\"]", CanonicalJson.write(List.of("b", "a")));
        assertEquals("[\"a\",\"b\"]", CanonicalJson.write(Set.of("b", "a")));
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("z", 1);
        map.put("a", List.of(Color.RED));
        assertEquals("{\"a\":[\"RED\"],\"z\":1}", CanonicalJson.write(map));
        assertEquals("{\"x\":2,\"y\":1}", CanonicalJson.write(new Point(1, 2)));
        assertEquals("[null,true]", CanonicalJson.write(List.of(Optional.empty(), Optional.of(true))));
        assertEquals("\"runs/a\"", CanonicalJson.write(Path.of("runs/a")));
    }

    @Test
    void appendObjectKeepsTheGivenOrder() {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", "ab");
        row.put("acc", 0.5);
        StringBuilder out = new StringBuilder();
        CanonicalJson.appendObject(out, row);
        assertEquals("{\"id\":\"ab\",\"acc\":0.5}", out.toString());
    }

    @Test
    void opaqueObjectsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> CanonicalJson.write(new Object()));
        assertThrows(IllegalArgumentException.class, () -> CanonicalJson.write(List.of(new Object())));
    }
}
