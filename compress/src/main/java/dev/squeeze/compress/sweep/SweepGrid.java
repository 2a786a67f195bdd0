package dev.squeeze.compress.sweep;

import dev.squeeze.compress.ledger.CanonicalJson;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.settings.SettingSpec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A hyperparameter grid, {@code lr=1e-3,3e-3,1e-2;batch=32,128}: settings of {@link TrainParams} by their
 * command-line names ({@link #KEYS}), each with the values to try, in the order written.
 *
 * <p>Every value is checked when the grid is parsed, by building a {@link TrainParams} with it (so the rules and
 * messages are the training command's own) and, for {@code model}, by looking it up in the zoo. Numbers are kept
 * in canonical form ({@code 1e-3} and {@code 0.001} are one value, and listing both is an error).
 *
 * <p>{@link #trials} enumerates the full cartesian product, the first key outermost and the last varying fastest.
 * {@link #sample} draws distinct combinations with a seed; it draws from the grid in a canonical order (keys and
 * values sorted), so writing the same grid in another order samples the same combinations.
 */
public final class SweepGrid {

    /** The settings a grid may sweep, by their command-line names: every training setting marked sweepable. */
    public static final List<String> KEYS = TrainParams.SETTINGS.settings().stream().filter(SettingSpec::sweep)
            .map(SettingSpec::name).toList();

    /** Most trials one sweep may run: a larger grid is almost certainly a typo; sample it with --random. */
    public static final int MAX_TRIALS = 10_000;

    private static final String EXAMPLE = "e.g. --grid 'lr=1e-3,3e-3;batch=32,128'";

    /**
     * A swept setting of {@link TrainParams}: parsed and checked by the setting's own rules, so a grid refuses what
     * the training options refuse, in the same words.
     */
    private record Key(SettingSpec setting) {
        String flag() {
            return setting.name();
        }

        static Key of(String name) {
            return TrainParams.SETTINGS.setting(name).filter(SettingSpec::sweep).map(Key::new).orElse(null);
        }

        /** The value {@code text} stands for; a {@link BadInputException} when it cannot be one. */
        Object parse(String text) {
            try {
                return setting.parse(text, "value " + flag() + "=" + text);
            } catch (BadInputException e) {
                throw bad(e.getMessage());
            }
        }

        /** The value as written in labels and the sweep's identity: canonical numbers, strings as given. */
        String text(Object value) {
            return value instanceof String s ? s : CanonicalJson.write(value);
        }

        /** {@code params} with this setting set to {@code value}. */
        TrainParams with(TrainParams params, Object value) {
            return TrainParams.SETTINGS.with(params, setting.name(), value);
        }

        Object get(TrainParams params) {
            return TrainParams.SETTINGS.get(params, setting.name());
        }
    }

    private final Map<Key, List<Object>> values;

    private SweepGrid(Map<Key, List<Object>> values) {
        this.values = values;
    }

    /**
     * Parses {@code key=v1,v2;key2=v3,...}; blanks around the separators are ignored.
     *
     * @throws BadInputException on malformed text, an unknown or repeated key, an empty or repeated value, or a
     *                           value the setting does not accept; the message names the problem and the valid keys
     */
    public static SweepGrid parse(String text) {
        if (text == null || text.isBlank()) throw bad("the grid is empty");
        Map<Key, List<Object>> values = new LinkedHashMap<>();
        for (String entry : text.split(";")) {
            if (entry.isBlank()) continue; // a trailing ';' is harmless
            int equals = entry.indexOf('=');
            if (equals < 0) throw bad("'" + entry.strip() + "' is not key=v1,v2,...");
            String flag = entry.substring(0, equals).strip();
            if (flag.isEmpty()) throw bad("'" + entry.strip() + "' has no key before '='");
            Key key = Key.of(flag.toLowerCase(Locale.ROOT));
            if (key == null) throw bad("unknown key '" + flag + "'");
            if (values.containsKey(key)) throw bad("key '" + key.flag() + "' is given twice");
            String list = entry.substring(equals + 1);
            if (list.isBlank()) throw bad("key '" + key.flag() + "' has no values");
            List<Object> parsed = new ArrayList<>();
            for (String raw : list.split(",", -1)) {
                String value = raw.strip();
                if (value.isEmpty()) throw bad("key '" + key.flag() + "' has an empty value in '" + list.strip() + "'");
                Object v = key.parse(value);
                if (parsed.contains(v)) throw bad("key '" + key.flag() + "' lists " + key.text(v) + " twice");
                parsed.add(v);
            }
            values.put(key, List.copyOf(parsed));
        }
        if (values.isEmpty()) throw bad("the grid is empty");
        return new SweepGrid(Collections.unmodifiableMap(values));
    }

    /** The swept keys, in the order written. */
    public List<String> keys() {
        return values.keySet().stream().map(k -> k.flag()).toList();
    }

    /** Whether the grid sweeps {@code key} (a name from {@link #KEYS}). */
    public boolean sweeps(String key) {
        Key k = Key.of(key);
        return k != null && values.containsKey(k);
    }

    /** Key to the texts of its values, both in the order written. */
    public Map<String, List<String>> values() {
        Map<String, List<String>> texts = new LinkedHashMap<>();
        values.forEach((key, list) -> texts.put(key.flag(), list.stream().map(key::text).toList()));
        return Collections.unmodifiableMap(texts);
    }

    /** How many combinations the grid has. */
    public long size() {
        long size = 1;
        for (List<Object> list : values.values()) {
            try {
                size = Math.multiplyExact(size, list.size());
            } catch (ArithmeticException e) {
                return Long.MAX_VALUE;
            }
        }
        return size;
    }

    /**
     * The grid with keys and values sorted, {@code batch=32,128;lr=0.001,0.003}: the same for every way of writing
     * the same grid, so it can name the sweep.
     */
    public String canonicalText() {
        return canonical().entrySet().stream()
                .map(e -> e.getKey().flag() + "=" + e.getValue().stream().map(e.getKey()::text).collect(Collectors.joining(",")))
                .collect(Collectors.joining(";"));
    }

    /**
     * {@code base} with every swept setting back at its default: the part of the base settings that a sweep's
     * trials actually use (a base {@code --lr} is overridden when the grid sweeps {@code lr}).
     */
    public TrainParams unswept(TrainParams base) {
        TrainParams params = base;
        for (Key key : values.keySet()) params = key.with(params, key.get(TrainParams.HASH_BASE));
        return params;
    }

    /**
     * Every combination applied to {@code base}, the first key outermost.
     *
     * @throws BadInputException if the grid has more than {@link #MAX_TRIALS} combinations
     */
    public List<SweepTrial> trials(TrainParams base) {
        long size = size();
        if (size > MAX_TRIALS) {
            throw new BadInputException(String.format(Locale.ROOT, "the grid has %,d combinations, more than the "
                    + "%,d one sweep may run; sample some with --random N", size, MAX_TRIALS));
        }
        List<Key> keys = List.copyOf(values.keySet());
        List<Map<Key, Object>> combinations = new ArrayList<>();
        for (long i = 0; i < size; i++) combinations.add(combination(values, keys, i));
        return trials(base, combinations);
    }

    /**
     * {@code n} distinct combinations drawn with {@code seed}, in grid order; the whole grid when {@code n} is at
     * least its size (the caller says so: {@link SweepParams#randomCoversGrid()}).
     */
    public List<SweepTrial> sample(TrainParams base, int n, long seed) {
        if (n < 1) throw new BadInputException("--random must be at least 1, got " + n);
        long size = size();
        if (n >= size) return trials(base);
        if (n > MAX_TRIALS) {
            throw new BadInputException(String.format(Locale.ROOT, "--random %,d is more than the %,d trials one "
                    + "sweep may run", n, MAX_TRIALS));
        }
        Map<Key, List<Object>> canonical = canonical();
        List<Key> canonicalKeys = List.copyOf(canonical.keySet());
        Random random = new Random(seed);
        Set<Long> drawn = new LinkedHashSet<>();
        while (drawn.size() < n) drawn.add(random.nextLong(size));
        List<Map<Key, Object>> combinations = new ArrayList<>();
        for (long index : drawn) combinations.add(combination(canonical, canonicalKeys, index));
        // Run and report them in the order the user wrote the grid.
        combinations.sort(Comparator.comparingLong(this::indexOf));
        return trials(base, combinations);
    }

    @Override
    public String toString() {
        return values().entrySet().stream().map(e -> e.getKey() + "=" + String.join(",", e.getValue()))
                .collect(Collectors.joining(";"));
    }

    private List<SweepTrial> trials(TrainParams base, List<Map<Key, Object>> combinations) {
        List<SweepTrial> trials = new ArrayList<>();
        for (Map<Key, Object> combination : combinations) {
            Map<String, String> settings = new LinkedHashMap<>();
            TrainParams params = base;
            for (Key key : values.keySet()) {
                Object value = combination.get(key);
                settings.put(key.flag(), key.text(value));
                params = key.with(params, value);
            }
            trials.add(new SweepTrial(trials.size() + 1, combinations.size(), settings, params));
        }
        return List.copyOf(trials);
    }

    /** Combination number {@code index} of {@code grid} in mixed radix, the last key varying fastest. */
    private static Map<Key, Object> combination(Map<Key, List<Object>> grid, List<Key> keys, long index) {
        Map<Key, Object> combination = new LinkedHashMap<>();
        for (int k = keys.size() - 1; k >= 0; k--) {
            List<Object> list = grid.get(keys.get(k));
            combination.put(keys.get(k), list.get((int) (index % list.size())));
            index /= list.size();
        }
        return combination;
    }

    /** Where {@code combination} comes in {@link #trials}' order. */
    private long indexOf(Map<Key, Object> combination) {
        long index = 0;
        for (Map.Entry<Key, List<Object>> entry : values.entrySet()) {
            index = index * entry.getValue().size() + entry.getValue().indexOf(combination.get(entry.getKey()));
        }
        return index;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private Map<Key, List<Object>> canonical() {
        Map<Key, List<Object>> sorted = new TreeMap<>(Comparator.comparing((Key k) -> k.flag()));
        values.forEach((key, list) -> {
            List<Object> copy = new ArrayList<>(list);
            copy.sort((a, b) -> ((Comparable) a).compareTo(b)); // one key's values share one type
            sorted.put(key, copy);
        });
        return sorted;
    }

    private static BadInputException bad(String problem) {
        return new BadInputException("bad --grid: " + problem + "; valid keys: " + String.join(", ", KEYS) + " ("
                + EXAMPLE + ")");
    }
}
