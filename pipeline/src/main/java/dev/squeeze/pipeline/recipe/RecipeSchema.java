package dev.squeeze.pipeline.recipe;

import dev.squeeze.compress.artifacts.RewindPoint;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.DatasetRegistry;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.zoo.ModelZoo;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * Every key a recipe may hold: its type, default, range and a one-line description. The one description of the
 * recipe format: {@link RecipeParser} checks against it, {@link RecipePrinter} comments with it and
 * {@link #markdownReference()} documents it.
 *
 * <p>A recipe is a mapping of three top-level keys ({@code name}, {@code dataset}, {@code data}) and one section
 * per pipeline stage. A section with an {@code enabled} key is a <em>toggle</em>: it may be written as
 * {@code prune: false} or {@code prune: true} (enabled or not, every other key at its default), and writing it
 * out as a mapping without {@code enabled} turns it on.
 */
public final class RecipeSchema {
    /** A key's value type. Integers are whole numbers (1.0 is accepted, 1.5 is not); numbers are decimals. */
    public enum Type { STRING, INTEGER, NUMBER, BOOLEAN, ENUM }

    /**
     * One key. {@code section} is null for a top-level key. Ranges ({@code min}, {@code max}) apply to integers
     * and numbers, null when unbounded. {@code wide} integers are Java longs, the others ints. {@code normalize},
     * when set, checks a string (throwing {@link IllegalArgumentException} with the tail of the message, e.g.
     * "must be ..., got 'x'") and returns its canonical form. {@code hint} says what the check accepts.
     */
    public record Key(String section, String name, Type type, boolean nullable, Object defaultValue, List<String> choices,
                      Double min, boolean minExclusive, Double max, boolean maxExclusive, boolean wide,
                      String description, UnaryOperator<String> normalize, String hint) {
        public Key {
            choices = choices == null ? List.of() : List.copyOf(choices);
        }

        /** The dotted path: {@code train.epochs}, or {@code name} at the top level. */
        public String path() {
            return section == null ? name : section + "." + name;
        }

        /** What the value must be, as in "train.epochs must be <i>an integer &gt;= 1</i>". */
        public String requirement() {
            String what = switch (type) {
                case STRING -> hint != null ? hint : "a non-empty string";
                case BOOLEAN -> "true or false";
                case ENUM -> "one of " + String.join(", ", choices);
                case INTEGER -> "an integer" + rangeText();
                case NUMBER -> "a number" + rangeText();
            };
            return nullable ? what + ", or null" : what;
        }

        /** The type column of the reference: "integer &gt;= 1", "one of none, neurons, channels", "string or null". */
        public String typeName() {
            String what = switch (type) {
                case STRING -> hint != null ? "string: " + hint : "string";
                case BOOLEAN -> "boolean";
                case ENUM -> "one of " + String.join(", ", choices);
                case INTEGER -> "integer" + rangeText();
                case NUMBER -> "number" + rangeText();
            };
            return nullable ? what + ", or null" : what;
        }

        /** The default as YAML writes it: {@code 30}, {@code 0.001}, {@code "0"}, {@code null}. */
        public String defaultText() {
            return RecipePrinter.scalar(defaultValue);
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

        private Key withNormalize(UnaryOperator<String> check, String what) {
            return new Key(section, name, type, nullable, defaultValue, choices, min, minExclusive, max, maxExclusive,
                    wide, description, check, what);
        }
    }

    /**
     * One pipeline stage's section. A {@link #toggle()} section has an {@code enabled} key, its first.
     */
    public record Section(String name, String description, List<Key> keys) {
        public Section {
            keys = List.copyOf(keys);
        }

        public boolean toggle() {
            return !keys.isEmpty() && keys.get(0).name().equals("enabled");
        }

        public Optional<Key> key(String keyName) {
            return keys.stream().filter(k -> k.name().equals(keyName)).findFirst();
        }

        public List<String> keyNames() {
            return keys.stream().map(Key::name).toList();
        }
    }

    private static final List<Key> TOP;
    private static final List<Section> SECTIONS;
    private static final Map<String, Key> BY_PATH = new LinkedHashMap<>();

    static {
        TOP = List.of(
                string(null, "name", "recipe", false,
                        "A label for the recipe's runs and reports; not part of the recipe hash."),
                string(null, "dataset", DatasetRegistry.DEFAULT, false,
                        "The dataset: " + String.join(", ", DatasetRegistry.names()) + ", or a CSV file with a header row.")
                        .withNormalize(RecipeSchema::checkDataset,
                                "a dataset name (" + String.join(", ", DatasetRegistry.names()) + ") or a .csv file"),
                string(null, "data", null, true,
                        "Folder holding the dataset's files; null locates it ($SQUEEZE_DATA, /usr/share/datasets, "
                                + "then a verified download into the cache)."));

        String zoo = String.join(", ", ModelZoo.all().keySet());
        SECTIONS = List.of(
                new Section("train", "Train the model to compress, or start from an existing one.", List.of(
                        string("train", "model", null, true,
                                "Zoo model to train from scratch, e.g. lenet-300-100 ('squeeze models' lists them); "
                                        + "give model or from, not both.")
                                .withNormalize(RecipeSchema::checkModel, "a zoo model (" + zoo + ")"),
                        string("train", "from", null, true,
                                "A squeeze model file or run id (or unique prefix) to start from instead of training; "
                                        + "give model or from, not both."),
                        integer("train", "epochs", 30, 1, null, false,
                                "Most training epochs, early stopping may end sooner; also the retraining epochs of each prune level."),
                        integer("train", "batch", 60, 1, null, false, "Mini-batch size."),
                        number("train", "lr", 1e-3, 0.0, true, null, false, "Adam learning rate."),
                        number("train", "lr_decay", TrainParams.DEFAULT_LR_DECAY, 0.0, true, 1.0, false,
                                "Multiply the learning rate by this after every epoch; 1 keeps it constant."),
                        integer("train", "seed", 42, null, null, true,
                                "Seed for initial weights, dropout and shuffling; same seed, data and threads give the same model."),
                        integer("train", "patience", TrainParams.DEFAULT_PATIENCE, 1, null, false,
                                "Stop after this many epochs in a row whose validation accuracy falls short of the best "
                                        + "by two standard errors or more."))),
                new Section("doctor", "Check model and data for silent training bugs before the long runs.", List.of(
                        bool("doctor", "enabled", true,
                                "Run 'squeeze doctor' (overfit one batch, initial loss, init, leakage, labels, lr range test) first."))),
                new Section("distill", "Knowledge distillation: train a smaller student on the trained model's soft labels.",
                        List.of(
                                bool("distill", "enabled", false,
                                        "Distill into the student and compress the student instead of the trained model."),
                                string("distill", "student", "mlp-100", false, "Zoo model to train as the student.")
                                        .withNormalize(RecipeSchema::checkModel, "a zoo model (" + zoo + ")"),
                                number("distill", "temperature", 4.0, 0.0, true, null, false,
                                        "Softmax temperature of the soft term."),
                                number("distill", "alpha", 0.5, 0.0, false, 1.0, false,
                                        "Weight of the soft term; 1 - alpha weighs the hard labels."),
                                integer("distill", "epochs", 30, 1, null, false, "Most student epochs; early stopping may end sooner."),
                                number("distill", "lr_decay", 0.9, 0.0, true, 1.0, false,
                                        "The student's learning-rate decay per epoch; 1 keeps it constant."),
                                integer("distill", "patience", 5, 1, null, false,
                                        "Stop the student after this many epochs without a better validation accuracy."))),
                new Section("prune", "Iterative magnitude pruning with rewinding (lottery tickets).", List.of(
                        bool("prune", "enabled", true, "Prune the model level by level, retraining after each."),
                        integer("prune", "levels", 3, 1, null, false, "Pruning rounds."),
                        number("prune", "rate", 0.2, 0.0, true, 1.0, true,
                                "Fraction of the surviving weights removed per round."),
                        string("prune", "rewind_to", "0", false,
                                "Rewind survivors to 0 (the initialisation), an iteration (500it) or an epoch (1ep).")
                                .withNormalize(RecipeSchema::checkRewind, "0, an iteration like 500it, or an epoch like 1ep"),
                        choice("prune", "structure", "none", List.of("none", "neurons", "channels"),
                                "none zeros single weights (same file size); neurons/channels remove whole neurons or "
                                        + "conv channels (a smaller, faster model)."))),
                new Section("quantize", "Post-training int8 quantization, optionally with quantization-aware training.",
                        List.of(
                                bool("quantize", "enabled", true, "Quantize weights and activations to int8."),
                                choice("quantize", "calibration", "auto", List.of("auto", "minmax", "percentile", "entropy"),
                                        "How activation ranges are calibrated; auto tries each and keeps the most accurate."),
                                choice("quantize", "granularity", "channel", List.of("channel", "tensor"),
                                        "One weight scale per output channel, or one per layer."),
                                integer("quantize", "samples", 1000, 1, null, false, "Training examples to calibrate on."),
                                integer("quantize", "qat_epochs", 0, 0, null, false,
                                        "Epochs of quantization-aware training after calibration; 0 for none."),
                                number("quantize", "accuracy_budget", null, 0.0, false, 100.0, false,
                                        "Most validation accuracy, in points, int8 may lose; QAT is tried when it loses more. "
                                                + "null: no budget."))),
                new Section("export", "Export the final model to ONNX.", List.of(
                        bool("export", "enabled", true, "Write the final model (and each earlier stage's) as ONNX."),
                        integer("export", "opset", 17, 13, 21.0, false, "ONNX opset; 13 is the first with per-channel int8."))),
                new Section("bench", "Benchmark the exported models with ONNX Runtime: size, latency, throughput, accuracy.",
                        List.of(
                                bool("bench", "enabled", true, "Measure every exported model the same way."),
                                integer("bench", "window_ms", 1000, 1, null, true, "Measurement window, in milliseconds."),
                                integer("bench", "warmup_ms", 1000, 0, null, true, "Warm-up before measuring, in milliseconds."),
                                integer("bench", "max_windows", 10, 3, null, false,
                                        "Most windows before giving up on stable timings (3 must agree)."))),
                new Section("serve", "Serve the final model over HTTP when the pipeline is done.", List.of(
                        bool("serve", "enabled", false, "Start the model server at the end (Ctrl-C stops it)."),
                        integer("serve", "port", 8080, 0, 65535.0, false, "Port; 0 picks a free one."),
                        string("serve", "host", "127.0.0.1", false, "Address to listen on; 0.0.0.0 for every interface."))));
        for (Key key : TOP) BY_PATH.put(key.path(), key);
        for (Section section : SECTIONS) {
            for (Key key : section.keys()) BY_PATH.put(key.path(), key);
        }
    }

    private RecipeSchema() {
    }

    /** The top-level keys: name, dataset, data. */
    public static List<Key> topLevelKeys() {
        return TOP;
    }

    /** The sections, in pipeline order. */
    public static List<Section> sections() {
        return SECTIONS;
    }

    public static Optional<Section> section(String name) {
        return SECTIONS.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    /** The key at a dotted path ({@code prune.levels}, {@code name}). */
    public static Optional<Key> key(String path) {
        return Optional.ofNullable(BY_PATH.get(path));
    }

    /** Every key, top-level keys first, then section by section. */
    public static List<Key> allKeys() {
        return List.copyOf(BY_PATH.values());
    }

    /** What may stand at the top of a recipe: the top-level keys, then the sections. */
    public static List<String> topLevelNames() {
        List<String> names = new ArrayList<>();
        TOP.forEach(k -> names.add(k.name()));
        SECTIONS.forEach(s -> names.add(s.name()));
        return Collections.unmodifiableList(names);
    }

    /**
     * A Markdown reference of the recipe format, for docs/recipes.md: one table row per key with its type, default and
     * description, and a paragraph on the shorthands.
     */
    public static String markdownReference() {
        StringBuilder md = new StringBuilder();
        md.append("| Key | Type | Default | Description |\n");
        md.append("|---|---|---|---|\n");
        for (Key key : TOP) row(md, key);
        for (Section section : SECTIONS) {
            md.append("| **").append(section.name()).append("** | section | | ").append(cell(section.description()))
                    .append(section.toggle() ? " May be written as `" + section.name() + ": true` or `"
                            + section.name() + ": false`." : "")
                    .append(" |\n");
            for (Key key : section.keys()) row(md, key);
        }
        md.append('\n');
        md.append("Keys are snake_case. Exactly one of `train.model` and `train.from` must be set. A section with an "
                + "`enabled` key may be written as `prune: false` or `prune: true` (every other key at its default); "
                + "written out as a mapping it is enabled unless it says `enabled: false`. Integers may be written "
                + "as `1.0`, numbers as `1e-3`; booleans are `true` or `false`. Override any key on the command line "
                + "with `--set prune.levels=5`, `--set distill=true` or `--set train.from=null`.\n");
        return md.toString();
    }

    private static void row(StringBuilder md, Key key) {
        md.append("| `").append(key.path()).append("` | ").append(cell(key.typeName())).append(" | `")
                .append(key.defaultText()).append("` | ").append(cell(key.description())).append(" |\n");
    }

    private static String cell(String text) {
        return text.replace("|", "\\|");
    }

    // ---- conversion -------------------------------------------------------------------------------------------

    /**
     * The value of {@code key} written as {@code text}; {@code isNull} when YAML wrote null ({@code null},
     * {@code ~} or nothing). Throws {@link IllegalArgumentException} with a message like
     * "train.epochs must be an integer >= 1, got 'ten'".
     */
    static Object convert(Key key, String text, boolean isNull) {
        if (isNull) {
            if (key.nullable()) return null;
            throw problem(key, text.isEmpty() ? "nothing" : "null");
        }
        switch (key.type()) {
            case STRING -> {
                if (text.isEmpty()) throw problem(key, "''");
                if (key.normalize() == null) return text;
                try {
                    return key.normalize().apply(text);
                } catch (IllegalArgumentException | BadInputException e) {
                    throw new IllegalArgumentException(key.path() + " must be " + key.requirement() + ", got '" + text + "'");
                }
            }
            case BOOLEAN -> {
                if (text.equalsIgnoreCase("true")) return Boolean.TRUE;
                if (text.equalsIgnoreCase("false")) return Boolean.FALSE;
                throw problem(key, "'" + text + "'");
            }
            case ENUM -> {
                String lower = text.toLowerCase(Locale.ROOT);
                if (key.choices().contains(lower)) return lower;
                throw problem(key, "'" + text + "'");
            }
            case INTEGER -> {
                BigDecimal d = decimal(text);
                if (d == null) throw problem(key, "'" + text + "'");
                long value;
                try {
                    value = d.stripTrailingZeros().longValueExact();
                } catch (ArithmeticException e) {
                    throw problem(key, "'" + text + "'");
                }
                if (!inRange(key, value) || (!key.wide() && (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE))) {
                    throw problem(key, "'" + text + "'");
                }
                return value;
            }
            case NUMBER -> {
                BigDecimal d = decimal(text);
                double value = d == null ? Double.NaN : d.doubleValue();
                if (!Double.isFinite(value) || !inRange(key, value)) throw problem(key, "'" + text + "'");
                return value;
            }
            default -> throw new IllegalStateException(key.type().toString());
        }
    }

    private static IllegalArgumentException problem(Key key, String got) {
        return new IllegalArgumentException(key.path() + " must be " + key.requirement() + ", got " + got);
    }

    private static BigDecimal decimal(String text) {
        try {
            return new BigDecimal(text.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static boolean inRange(Key key, double value) {
        if (key.min() != null && (key.minExclusive() ? !(value > key.min()) : !(value >= key.min()))) return false;
        return key.max() == null || (key.maxExclusive() ? value < key.max() : value <= key.max());
    }

    /** A number the way recipes print and hash it: the shortest exact decimal, no exponent ({@code 0.001}, {@code 4}). */
    static String number(double value) {
        if (value == 0) return "0";
        return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }

    private static String checkModel(String name) {
        if (!ModelZoo.all().containsKey(name)) throw new IllegalArgumentException(name);
        return name;
    }

    private static String checkDataset(String name) {
        if (Datasets.isCsv(name)) return name;
        return DatasetRegistry.get(name).name();
    }

    private static String checkRewind(String text) {
        return RewindPoint.parse(text).label();
    }

    // ---- key factories ----------------------------------------------------------------------------------------

    private static Key string(String section, String name, String def, boolean nullable, String description) {
        return new Key(section, name, Type.STRING, nullable, def, null, null, false, null, false, false, description, null, null);
    }

    private static Key bool(String section, String name, boolean def, String description) {
        return new Key(section, name, Type.BOOLEAN, false, def, null, null, false, null, false, false, description, null, null);
    }

    private static Key choice(String section, String name, String def, List<String> choices, String description) {
        return new Key(section, name, Type.ENUM, false, def, choices, null, false, null, false, false, description, null, null);
    }

    private static Key integer(String section, String name, long def, Integer min, Double max, boolean wide, String description) {
        return new Key(section, name, Type.INTEGER, false, def, null, min == null ? null : min.doubleValue(), false, max,
                false, wide, description, null, null);
    }

    private static Key number(String section, String name, Double def, Double min, boolean minExclusive, Double max,
                              boolean maxExclusive, String description) {
        return new Key(section, name, Type.NUMBER, def == null, def, null, min, minExclusive, max, maxExclusive, false,
                description, null, null);
    }

    /** The names, comma-separated, as error messages list them. */
    static String list(List<String> names) {
        return names.stream().collect(Collectors.joining(", "));
    }
}
