package dev.squeeze.compress.ledger;

import java.io.File;
import java.lang.reflect.Array;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Canonical JSON text of configuration values: the same value always gives the same characters,
 * on any JDK, so the text can be hashed ({@link ConfigHash}) and compared.
 *
 * <p>Rules, close to RFC 8785 (JSON Canonicalization Scheme):
 * <ul>
 *   <li>records and maps are objects with keys sorted by {@link String#compareTo}; no whitespace;</li>
 *   <li>integral numbers ({@code byte short int long BigInteger}) are exact decimal integers;</li>
 *   <li>{@code float}, {@code double} and {@code BigDecimal} use the shortest decimal that reads back as the
 *       same value, written the way ECMAScript writes numbers: {@code 0.001} (so {@code 1e-3} and
 *       {@code 0.001} are one value), {@code 100} for {@code 100.0}, {@code 1e-7}, {@code 1e+21};
 *       NaN and the infinities, which JSON lacks, become the strings {@code "NaN"}, {@code "Infinity"},
 *       {@code "-Infinity"};</li>
 *   <li>enums are their {@link Enum#name()}; arrays and lists keep their order; sets are sorted by their
 *       elements' canonical text; {@link Optional#empty()} is {@code null};</li>
 *   <li>strings escape {@code " \ } and control characters only; other characters are written as is (UTF-8).</li>
 * </ul>
 * Anything else (an arbitrary object whose {@code toString} may hold an identity hash) is refused with an
 * {@link IllegalArgumentException}: a hash that silently changes between runs is worse than an error.
 */
public final class CanonicalJson {

    private CanonicalJson() {
    }

    /** The canonical JSON text of {@code value}. */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        append(out, value);
        return out.toString();
    }

    /** Appends the canonical JSON text of {@code value} to {@code out}. */
    public static void append(StringBuilder out, Object value) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof CharSequence || value instanceof Character) {
            appendString(out, value.toString());
        } else if (value instanceof Boolean) {
            out.append(value);
        } else if (value instanceof Number n) {
            appendNumber(out, n);
        } else if (value instanceof Enum<?> e) {
            appendString(out, e.name());
        } else if (value instanceof Path || value instanceof URI || value instanceof File) {
            // Their text is the value; normalising separators is the caller's business.
            appendString(out, value.toString());
        } else if (value instanceof Optional<?> o) {
            append(out, o.orElse(null));
        } else if (value instanceof Record r) {
            appendObject(out, components(r));
        } else if (value instanceof Map<?, ?> m) {
            Map<String, Object> sorted = new TreeMap<>();
            m.forEach((k, v) -> {
                if (sorted.put(String.valueOf(k), v) != null) {
                    throw new IllegalArgumentException("map keys " + k + " collide as JSON text");
                }
            });
            appendObject(out, sorted);
        } else if (value instanceof Set<?> s) {
            // A set's iteration order is not part of its value, so sort by canonical text.
            List<String> items = new ArrayList<>();
            for (Object item : s) items.add(write(item));
            items.sort(null);
            out.append('[').append(String.join(",", items)).append(']');
        } else if (value instanceof Collection<?> c) {
            appendList(out, new ArrayList<>(c));
        } else if (value.getClass().isArray()) {
            List<Object> items = new ArrayList<>();
            for (int i = 0, n = Array.getLength(value); i < n; i++) items.add(Array.get(value, i));
            appendList(out, items);
        } else {
            throw new IllegalArgumentException("cannot write a " + value.getClass().getName()
                    + " as canonical JSON; use strings, numbers, booleans, enums, records, arrays, lists, sets or maps");
        }
    }

    /**
     * Appends a JSON object whose keys are written in {@code fields}' iteration order (pass a sorted map for
     * canonical text, or a {@link java.util.LinkedHashMap} for a human-chosen order).
     */
    public static void appendObject(StringBuilder out, Map<String, ?> fields) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, ?> field : fields.entrySet()) {
            if (!first) out.append(',');
            first = false;
            appendString(out, field.getKey());
            out.append(':');
            append(out, field.getValue());
        }
        out.append('}');
    }

    /** A record's components by name, sorted; accessors of non-public records are opened reflectively. */
    static Map<String, Object> components(Record record) {
        Map<String, Object> fields = new TreeMap<>();
        for (RecordComponent component : record.getClass().getRecordComponents()) {
            fields.put(component.getName(), read(record, component));
        }
        return fields;
    }

    static Object read(Record record, RecordComponent component) {
        Method accessor = component.getAccessor();
        try {
            accessor.setAccessible(true);
            return accessor.invoke(record);
        } catch (IllegalAccessException | InvocationTargetException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read " + record.getClass().getSimpleName() + "."
                    + component.getName() + ": " + e, e);
        }
    }

    private static void appendList(StringBuilder out, List<?> items) {
        out.append('[');
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) out.append(',');
            append(out, items.get(i));
        }
        out.append(']');
    }

    /** JSON string literal; escapes only what JSON requires, so the text stays readable. */
    public static void appendString(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }

    private static void appendNumber(StringBuilder out, Number n) {
        if (n instanceof Byte || n instanceof Short || n instanceof Integer || n instanceof Long
                || n instanceof BigInteger) {
            out.append(n);
        } else if (n instanceof Double d) {
            if (!Double.isFinite(d)) {
                appendString(out, d.toString());
            } else {
                out.append(ecmaScript(shortest(new BigDecimal(d), 17, b -> b.doubleValue() == d)));
            }
        } else if (n instanceof Float f) {
            if (!Float.isFinite(f)) {
                appendString(out, f.toString());
            } else {
                // Shortest at float precision, so 0.1f is 0.1 and not 0.10000000149011612.
                out.append(ecmaScript(shortest(new BigDecimal(f), 9, b -> b.floatValue() == f)));
            }
        } else if (n instanceof BigDecimal b) {
            out.append(ecmaScript(b));
        } else {
            throw new IllegalArgumentException("cannot write a " + n.getClass().getName() + " as canonical JSON");
        }
    }

    /**
     * The first decimal of 1, 2, ... significant digits that reads back as the same binary value.
     * Double.toString is not used: its output changed in JDK 19 (JDK-4511638), and hashes must not.
     * BigDecimal rounding and conversion are exactly specified, so this is the same on every JDK.
     */
    private static BigDecimal shortest(BigDecimal exact, int maxDigits, java.util.function.Predicate<BigDecimal> readsBack) {
        if (exact.signum() == 0) return BigDecimal.ZERO;
        for (int digits = 1; digits < maxDigits; digits++) {
            BigDecimal candidate = exact.round(new MathContext(digits, RoundingMode.HALF_EVEN));
            if (readsBack.test(candidate)) return candidate;
        }
        return exact.round(new MathContext(maxDigits, RoundingMode.HALF_EVEN));
    }

    /** ECMAScript's Number::toString layout (also RFC 8785's): plain between 1e-7 and 1e21, else d.ddde±x. */
    private static String ecmaScript(BigDecimal value) {
        if (value.signum() == 0) return "0"; // also -0.0, as in RFC 8785
        BigDecimal stripped = value.stripTrailingZeros();
        String sign = stripped.signum() < 0 ? "-" : "";
        String digits = stripped.unscaledValue().abs().toString();
        int k = digits.length();
        int n = k - stripped.scale(); // value = 0.digits * 10^n
        StringBuilder s = new StringBuilder(sign);
        if (k <= n && n <= 21) {
            s.append(digits).append("0".repeat(n - k));
        } else if (0 < n && n <= 21) {
            s.append(digits, 0, n).append('.').append(digits, n, k);
        } else if (-6 < n && n <= 0) {
            s.append("0.").append("0".repeat(-n)).append(digits);
        } else {
            s.append(digits.charAt(0));
            if (k > 1) s.append('.').append(digits, 1, k);
            s.append('e').append(n - 1 >= 0 ? "+" : "-").append(Math.abs(n - 1));
        }
        return s.toString();
    }
}
