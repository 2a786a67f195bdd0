package dev.squeeze.core.settings;

import dev.squeeze.core.BadInputException;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One setting as {@link Setting} declares it on a record component, with the rules every way of giving it shares:
 * parsing a text ({@link #parse}), checking a value ({@link #check}), and the words for both ({@link #requirement()}).
 * Messages name where the value came from, as the caller says: {@code --epochs}, {@code recipe.yaml line 4:
 * train.epochs}, {@code --grid key 'lr'}; so a recipe's mistake is never reported as a flag the user did not type.
 *
 * @param name         kebab-case name: {@code lr-decay}
 * @param component    the record component it sets: {@code lrDecay}
 * @param type         what kind of value it holds
 * @param javaType     the component's type
 * @param elementType  a list's element type ({@code String}, {@code Integer}, or {@code Object}: an integer where the
 *                     text is one, else a name), else null
 * @param nullable     whether null is a value (reference types only: a model name, an optional budget)
 * @param defaultValue the default, as the component holds it (boxed), or null
 * @param hashedAs     what configuration hashes compare it against ({@link Setting#hashedAs()})
 * @param choices      the texts an enum or a string with choices takes, canonical, in order; empty for any
 * @param min          lower bound of a number, or null
 * @param max          upper bound of a number, or null
 * @param help         the description
 * @param label        the placeholder in {@code --help}
 * @param check        a string's (or list element's) check
 * @param sweep        whether a sweep may vary it
 */
public record SettingSpec(String name, String component, Type type, Class<?> javaType, Class<?> elementType,
                          boolean nullable, Object defaultValue, Object hashedAs, List<String> choices,
                          Double min, boolean minExclusive, Double max, boolean maxExclusive,
                          String help, String label, SettingCheck check, boolean sweep) {

    /**
     * The kinds of value a setting holds. Integers are whole numbers (1.0 is accepted, 1.5 is not).
     * {@code NUMBER_OR_TEXT} (a component of type {@code Object}) holds a number, by the rules of {@code NUMBER}, or a
     * text its check {@linkplain SettingCheck#claims claims} (canonical, by the check): an accuracy budget in points,
     * or a bound on a measured figure.
     */
    public enum Type { STRING, INTEGER, LONG, NUMBER, BOOLEAN, ENUM, LIST, NUMBER_OR_TEXT }

    public SettingSpec {
        choices = List.copyOf(choices);
        Objects.requireNonNull(check, "check");
    }

    /** The setting {@code component} declares; null when it carries no {@link Setting}. */
    static SettingSpec of(RecordComponent component) {
        Setting s = component.getAnnotation(Setting.class);
        if (s == null) return null;
        String where = component.getDeclaringRecord().getSimpleName() + "." + component.getName();
        Class<?> javaType = component.getType();
        Type type = typeOf(javaType, where);
        Class<?> element = type == Type.LIST ? elementOf(component, where) : null;
        List<String> choices = javaType.isEnum()
                ? Arrays.stream(javaType.getEnumConstants()).map(e -> label((Enum<?>) e)).toList()
                : List.of(s.choices());
        SettingCheck check;
        try {
            check = s.check().getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(where + ": cannot make its check " + s.check().getName(), e);
        }
        String name = s.name().isEmpty() ? kebab(component.getName()) : s.name();
        Double min = Double.isInfinite(s.min()) ? null : s.min();
        Double max = Double.isInfinite(s.max()) ? null : s.max();
        SettingSpec spec = new SettingSpec(name, component.getName(), type, javaType, element, !javaType.isPrimitive(),
                null, null, choices, min, s.minExclusive(), max, s.maxExclusive(), s.help(),
                s.label().isEmpty() ? defaultLabel(type, javaType) : s.label(), check, s.sweep());
        Object def = s.defaultValue().equals(Setting.NO_DEFAULT) ? null : spec.parse(s.defaultValue(), where + "'s default");
        if (def == null && javaType.isPrimitive()) {
            throw new IllegalStateException(where + ": a " + javaType + " setting needs a default");
        }
        Object hashed = s.hashedAs().equals(Setting.SAME) ? def : spec.parse(s.hashedAs(), where + "'s hashedAs");
        // Null is a value only of a setting with no default (no model chosen, no budget).
        return new SettingSpec(name, component.getName(), type, javaType, element, def == null, def, hashed, choices, min,
                s.minExclusive(), max, s.maxExclusive(), s.help(), spec.label(), check, s.sweep());
    }

    /**
     * An on/off setting that belongs to no settings record: a recipe section's {@code enabled} switch, whose help and
     * default differ from section to section.
     */
    public static SettingSpec onOff(String name, String help, boolean defaultValue) {
        return new SettingSpec(name, name, Type.BOOLEAN, boolean.class, null, false, defaultValue, defaultValue, List.of(),
                null, false, null, false, help, defaultLabel(Type.BOOLEAN, boolean.class), new Setting.NoCheck(), false);
    }

    /** This setting with another default (and hash base): a recipe section that starts a stage elsewhere. */
    public SettingSpec withDefault(Object def, Object hashed) {
        return new SettingSpec(name, component, type, javaType, elementType, nullable, def, hashed, choices, min,
                minExclusive, max, maxExclusive, help, label, check, sweep);
    }

    /** The setting as a flag: {@code --lr-decay}. */
    public String flag() {
        return "--" + name;
    }

    /**
     * The setting named both ways a user gives it, for advice in messages the engine writes whatever the value came
     * from: {@code --lr or train.lr} (a flag, or the key of the recipe section {@code section}).
     */
    public String mention(String section) {
        return flag() + " or " + section + "." + key();
    }

    /** The setting as a recipe key: {@code lr_decay}. */
    public String key() {
        return name.replace('-', '_');
    }

    /**
     * The value {@code text} stands for. {@code where} names the setting as the user gave it ({@code --epochs},
     * {@code train.epochs}) and starts the message of the {@link BadInputException} thrown when it cannot be one:
     * "--epochs must be an integer >= 1, got '0'".
     */
    public Object parse(String text, String where) {
        return parse(text, false, where);
    }

    /** {@link #parse(String, String)}, where {@code isNull} says the text stands for null (YAML's {@code ~}). */
    public Object parse(String text, boolean isNull, String where) {
        if (isNull || text == null) {
            if (nullable) return null;
            throw refused(where, text == null || text.isEmpty() ? "nothing" : "null");
        }
        String trimmed = text.trim();
        if (type == Type.LIST) {
            List<Object> values = new ArrayList<>();
            for (String part : trimmed.split(",", -1)) {
                String item = part.trim();
                if (item.isEmpty()) {
                    if (trimmed.isEmpty()) break; // an empty list
                    throw refused(where, "'" + text + "'");
                }
                values.add(element(item, where, text));
            }
            return List.copyOf(values);
        }
        if (trimmed.isEmpty()) throw refused(where, "''");
        return switch (type) {
            case STRING -> string(trimmed, where, text);
            case BOOLEAN -> {
                if (trimmed.equalsIgnoreCase("true")) yield Boolean.TRUE;
                if (trimmed.equalsIgnoreCase("false")) yield Boolean.FALSE;
                throw refused(where, "'" + text + "'");
            }
            case ENUM -> enumValue(trimmed, where, text);
            case INTEGER, LONG -> {
                BigDecimal d = decimal(trimmed);
                long value;
                try {
                    if (d == null) throw refused(where, "'" + text + "'");
                    value = d.stripTrailingZeros().longValueExact();
                } catch (ArithmeticException e) {
                    throw refused(where, "'" + text + "'");
                }
                if (!inRange(value) || (type == Type.INTEGER && (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE))) {
                    throw refused(where, "'" + text + "'");
                }
                yield type == Type.INTEGER ? (Object) (int) value : (Object) value;
            }
            case NUMBER -> number(trimmed, where, text);
            case NUMBER_OR_TEXT -> {
                if (!check.claims(trimmed)) yield number(trimmed, where, text);
                try {
                    yield check.apply(trimmed);
                } catch (RuntimeException e) {
                    throw new BadInputException(where + " must be " + check.accepts() + ", got '" + text + "'");
                }
            }
            default -> throw new IllegalStateException(type.toString());
        };
    }

    /**
     * Checks a value a program built (not parsed from text): null, range and choices. Not the string check: that reads
     * the user's text, and a program's strings (a model an import named) are the services' to resolve. Throws a
     * {@link BadInputException} that starts with {@code where}.
     */
    public void check(Object value, String where) {
        if (value == null) {
            if (!nullable) throw refused(where, "null");
            return;
        }
        switch (type) {
            case INTEGER, LONG -> {
                if (!inRange(((Number) value).doubleValue())) throw refused(where, text(value));
            }
            case NUMBER, NUMBER_OR_TEXT -> {
                if (!(value instanceof Number)) return; // a text: its check read it where it came in
                double d = ((Number) value).doubleValue();
                if (!Double.isFinite(d) || !inRange(d)) throw refused(where, text(value));
            }
            case STRING -> {
                if (!choices.isEmpty() && !choices.contains(value)) throw refused(where, "'" + value + "'");
            }
            default -> {
            }
        }
    }

    /**
     * What the value must be, as in "--epochs must be <i>an integer &gt;= 1</i>". A number-or-text setting is worded as
     * its number here; a text its check claims is refused in the check's words.
     */
    public String requirement() {
        String what = switch (type) {
            case STRING -> !choices.isEmpty() ? "one of " + String.join(", ", choices) : check.accepts();
            case BOOLEAN -> "true or false";
            case ENUM -> "one of " + String.join(", ", choices);
            case INTEGER, LONG -> "an integer" + rangeText();
            case NUMBER, NUMBER_OR_TEXT -> "a number" + rangeText();
            case LIST -> "a comma-separated list of " + (elementType == Integer.class ? "integers" + rangeText()
                    : elementType == Object.class ? "integers" + rangeText() + " or names"
                    : check instanceof Setting.NoCheck ? "names" : "values, each " + check.accepts());
        };
        return nullable && type != Type.LIST ? what + ", or null" : what;
    }

    /** The type column of a reference: "integer &gt;= 1", "one of auto, always, never", "string, or null". */
    public String typeName() {
        String what = switch (type) {
            case STRING -> !choices.isEmpty() ? "one of " + String.join(", ", choices)
                    : check instanceof Setting.NoCheck ? "string" : "string: " + check.accepts();
            case BOOLEAN -> "boolean";
            case ENUM -> "one of " + String.join(", ", choices);
            case INTEGER, LONG -> "integer" + rangeText();
            case NUMBER, NUMBER_OR_TEXT -> "number" + rangeText();
            case LIST -> "list of " + (elementType == Integer.class ? "integers"
                    : elementType == Object.class ? "integers or names" : "strings");
        };
        return nullable && type != Type.LIST ? what + ", or null" : what;
    }

    /** A value as the user writes it: {@code 0.001}, {@code auto}, {@code a,b}, {@code null}. */
    public static String text(Object value) {
        if (value == null) return "null";
        if (value instanceof Double d) return number(d);
        if (value instanceof Float f) return number(f);
        if (value instanceof Enum<?> e) return label(e);
        if (value instanceof List<?> list) return String.join(",", list.stream().map(SettingSpec::text).toList());
        return value.toString();
    }

    /** The default as the user writes it. */
    public String defaultText() {
        return text(defaultValue);
    }

    /** A number's shortest exact decimal, no exponent: {@code 0.001}, {@code 4}. */
    public static String number(double value) {
        if (value == 0) return "0";
        if (!Double.isFinite(value)) return Double.toString(value);
        return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }

    /** An enum constant as users write it: lower case, dashes. */
    public static String label(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** {@code learningRate} as {@code learning-rate}. */
    static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    private double number(String trimmed, String where, String text) {
        BigDecimal d = decimal(trimmed);
        double value = d == null ? Double.NaN : d.doubleValue();
        if (!Double.isFinite(value) || !inRange(value)) throw refused(where, "'" + text + "'");
        return value;
    }

    private Object element(String item, String where, String whole) {
        // A mixed list reads a number as an integer (checked against the range) and anything else as a name.
        if (elementType == Integer.class || (elementType == Object.class && decimal(item) != null)) {
            BigDecimal d = decimal(item);
            try {
                if (d == null) throw refused(where, "'" + whole + "'");
                int value = d.stripTrailingZeros().intValueExact();
                if (!inRange(value)) throw refused(where, "'" + whole + "'");
                return value;
            } catch (ArithmeticException e) {
                throw refused(where, "'" + whole + "'");
            }
        }
        return string(item, where, whole); // a name: the same check as a string setting's, refusing the whole list
    }

    private String string(String trimmed, String where, String text) {
        if (!choices.isEmpty()) {
            String lower = trimmed.toLowerCase(Locale.ROOT);
            if (choices.contains(lower)) return lower;
            throw refused(where, "'" + text + "'");
        }
        try {
            return check.apply(trimmed);
        } catch (RuntimeException e) {
            throw refused(where, "'" + text + "'");
        }
    }

    private Object enumValue(String trimmed, String where, String text) {
        String wanted = trimmed.toLowerCase(Locale.ROOT).replace('_', '-');
        for (Object constant : javaType.getEnumConstants()) {
            if (label((Enum<?>) constant).equals(wanted)) return constant;
        }
        Method parse = parseMethod(javaType);
        if (parse != null) {
            try {
                Object value = parse.invoke(null, trimmed);
                if (value != null) return value;
            } catch (IllegalAccessException | InvocationTargetException e) {
                // refused below, in this setting's words
            }
        }
        throw refused(where, "'" + text + "'");
    }

    private BadInputException refused(String where, String got) {
        return new BadInputException(where + " must be " + requirement() + ", got " + got);
    }

    private String rangeText() {
        if (min != null && max != null) {
            if (!minExclusive && !maxExclusive) return " from " + number(min) + " to " + number(max);
            return " " + (minExclusive ? "> " : ">= ") + number(min) + " and " + (maxExclusive ? "< " : "<= ") + number(max);
        }
        if (min != null) return " " + (minExclusive ? "> " : ">= ") + number(min);
        if (max != null) return " " + (maxExclusive ? "< " : "<= ") + number(max);
        return "";
    }

    private boolean inRange(double value) {
        if (min != null && (minExclusive ? !(value > min) : !(value >= min))) return false;
        return max == null || (maxExclusive ? value < max : value <= max);
    }

    private static BigDecimal decimal(String text) {
        try {
            return new BigDecimal(text);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Type typeOf(Class<?> t, String where) {
        if (t == int.class || t == Integer.class) return Type.INTEGER;
        if (t == long.class || t == Long.class) return Type.LONG;
        if (t == double.class || t == Double.class) return Type.NUMBER;
        if (t == boolean.class || t == Boolean.class) return Type.BOOLEAN;
        if (t == String.class) return Type.STRING;
        if (t.isEnum()) return Type.ENUM;
        if (t == List.class) return Type.LIST;
        if (t == Object.class) return Type.NUMBER_OR_TEXT;
        throw new IllegalStateException(where + ": a setting cannot be a " + t.getName());
    }

    private static Class<?> elementOf(RecordComponent component, String where) {
        if (component.getGenericType() instanceof ParameterizedType p && p.getActualTypeArguments()[0] instanceof Class<?> c
                && (c == String.class || c == Integer.class || c == Object.class)) {
            return c;
        }
        throw new IllegalStateException(where + ": a list setting holds strings, integers, or both (Object)");
    }

    private static Method parseMethod(Class<?> enumType) {
        try {
            Method m = enumType.getMethod("parse", String.class);
            return Modifier.isStatic(m.getModifiers()) && m.getReturnType() == enumType ? m : null;
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    private static String defaultLabel(Type type, Class<?> javaType) {
        return switch (type) {
            case INTEGER, LONG -> "N";
            case NUMBER, NUMBER_OR_TEXT -> "X";
            case BOOLEAN -> "true|false";
            case ENUM -> String.join("|", Arrays.stream(javaType.getEnumConstants()).map(e -> label((Enum<?>) e)).toList());
            case LIST -> "A,B";
            case STRING -> "TEXT";
        };
    }
}
