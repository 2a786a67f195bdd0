package dev.squeeze.core.settings;

import dev.squeeze.core.BadInputException;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A stage's settings: the {@link Setting}-annotated components of its settings record, read once per record class.
 * Everything that offers settings to the user is made from this: the command's options, the recipe section, the
 * sweep's keys, the checks. Adding a setting to a stage is one annotated component; the component's default leaves
 * every existing configuration hash unchanged, since hashes count only the settings that differ from their
 * {@link SettingSpec#hashedAs()}.
 *
 * <p>Values are set through the record's canonical constructor, so its own normalisation still runs.
 *
 * @param <R> the settings record
 */
public final class StageSettings<R extends Record> {
    private static final ClassValue<StageSettings<?>> CACHE = new ClassValue<>() {
        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        protected StageSettings<?> computeValue(Class<?> type) {
            return new StageSettings(type);
        }
    };

    private final Class<R> type;
    private final RecordComponent[] components;
    private final Constructor<R> constructor;
    private final List<SettingSpec> settings;
    private final Map<String, SettingSpec> byName = new LinkedHashMap<>();
    private final Map<String, Integer> index = new LinkedHashMap<>();

    private StageSettings(Class<R> type) {
        if (!type.isRecord()) throw new IllegalArgumentException(type.getName() + " is not a record");
        this.type = type;
        this.components = type.getRecordComponents();
        try {
            this.constructor = type.getDeclaredConstructor(
                    Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new));
            constructor.setAccessible(true);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(type.getName() + " has no canonical constructor", e);
        }
        List<SettingSpec> list = new ArrayList<>();
        for (int i = 0; i < components.length; i++) {
            components[i].getAccessor().setAccessible(true); // a test's private record, say
            index.put(components[i].getName(), i);
            SettingSpec spec = SettingSpec.of(components[i]);
            if (spec == null) continue;
            if (byName.put(spec.name(), spec) != null) {
                throw new IllegalStateException(type.getSimpleName() + " has two settings named " + spec.name());
            }
            list.add(spec);
        }
        this.settings = List.copyOf(list);
    }

    /** The settings {@code type} declares. */
    @SuppressWarnings("unchecked")
    public static <R extends Record> StageSettings<R> of(Class<R> type) {
        return (StageSettings<R>) CACHE.get(type);
    }

    public Class<R> type() {
        return type;
    }

    /** The settings, in the record's order. */
    public List<SettingSpec> settings() {
        return settings;
    }

    /** The setting called {@code name} ({@code lr-decay}). */
    public Optional<SettingSpec> setting(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** Every setting at its default; components that are not settings are null (or zero). */
    public R defaults() {
        return build(Map.of());
    }

    /**
     * What configuration hashes are taken against: every setting at its {@link SettingSpec#hashedAs()}, the other
     * components null.
     */
    public R hashBase() {
        Object[] args = new Object[components.length];
        for (int i = 0; i < args.length; i++) args[i] = zero(components[i].getType());
        for (SettingSpec s : settings) args[index.get(s.component())] = s.hashedAs();
        return construct(args);
    }

    /**
     * The record with the given values, by setting name or component name; what is not given is at its default
     * (settings) or null (other components).
     */
    public R build(Map<String, ?> values) {
        Object[] args = new Object[components.length];
        for (int i = 0; i < args.length; i++) args[i] = zero(components[i].getType());
        for (SettingSpec s : settings) args[index.get(s.component())] = s.defaultValue();
        values.forEach((name, value) -> args[indexOf(name)] = value);
        return construct(args);
    }

    /** {@code params} with one setting (or component) changed. */
    public R with(R params, String name, Object value) {
        Object[] args = values(params);
        args[indexOf(name)] = value;
        return construct(args);
    }

    /** The value of a setting (or component) in {@code params}. */
    public Object get(R params, String name) {
        return values(params)[indexOf(name)];
    }

    /** Setting name to value, in the record's order. */
    public Map<String, Object> settingValues(R params) {
        Map<String, Object> map = new LinkedHashMap<>();
        Object[] values = values(params);
        for (SettingSpec s : settings) map.put(s.name(), values[index.get(s.component())]);
        return Collections.unmodifiableMap(map);
    }

    /**
     * Checks every setting of {@code params} (and of nested settings records) against its range, choices and check;
     * {@code where} names a setting in the message (as a flag, a recipe key, or just its name).
     *
     * @return {@code params}
     * @throws BadInputException naming the first setting that is out of bounds
     */
    public R check(R params, Function<SettingSpec, String> where) {
        if (settings.isEmpty() && Arrays.stream(components).noneMatch(c -> c.getType().isRecord())) return params;
        Object[] values = values(params);
        for (SettingSpec s : settings) s.check(values[index.get(s.component())], where.apply(s));
        for (Object value : values) {
            if (value instanceof Record nested && value.getClass() != type) checkNested(nested);
        }
        return params;
    }

    /** {@link #check(Record, Function)} naming each setting by its name. */
    public R check(R params) {
        return check(params, SettingSpec::name);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void checkNested(Record nested) {
        StageSettings inner = of(nested.getClass());
        if (!inner.settings.isEmpty()) inner.check(nested);
    }

    private int indexOf(String name) {
        SettingSpec s = byName.get(name);
        Integer i = index.get(s != null ? s.component() : name);
        if (i == null) throw new IllegalArgumentException(type.getSimpleName() + " has no setting or component " + name);
        return i;
    }

    private Object[] values(R params) {
        Object[] values = new Object[components.length];
        for (int i = 0; i < values.length; i++) {
            try {
                values[i] = components[i].getAccessor().invoke(params);
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException("cannot read " + type.getSimpleName() + "." + components[i].getName(), e);
            }
        }
        return values;
    }

    private R construct(Object[] args) {
        try {
            return constructor.newInstance(args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException cause) throw cause; // the record's own BadInputException
            throw new IllegalStateException("cannot build " + type.getSimpleName(), e.getCause());
        } catch (ReflectiveOperationException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot build " + type.getSimpleName() + " from " + Arrays.toString(args), e);
        }
    }

    private static Object zero(Class<?> t) {
        if (!t.isPrimitive()) return null;
        if (t == boolean.class) return false;
        if (t == int.class) return 0;
        if (t == long.class) return 0L;
        if (t == double.class) return 0.0;
        if (t == float.class) return 0f;
        if (t == short.class) return (short) 0;
        if (t == byte.class) return (byte) 0;
        return '\0';
    }
}
