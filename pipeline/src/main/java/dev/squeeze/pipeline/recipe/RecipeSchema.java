package dev.squeeze.pipeline.recipe;

import dev.squeeze.compress.distill.DistillParams;
import dev.squeeze.compress.onnx.ExportParams;
import dev.squeeze.compress.prune.PruneParams;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.settings.SettingSpec;
import dev.squeeze.core.settings.StageSettings;
import dev.squeeze.pipeline.shrink.ShrinkParams;
import dev.squeeze.serve.bench.BenchmarkOptions;
import dev.squeeze.serve.http.ServeOptions;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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

    /**
     * One key: a setting ({@link SettingSpec}) in a section ({@code section} null at the top level). Its type, default,
     * range, check and description are the setting's, declared once on a stage's settings record (or, for the recipe's
     * own keys, on {@link RecipeKeys}); its name is the setting's in snake case.
     */
    public record Key(String section, SettingSpec setting) {
        /** The key's name in its section: {@code lr_decay}. */
        public String name() {
            return setting.key();
        }

        /** The dotted path: {@code train.epochs}, or {@code name} at the top level. */
        public String path() {
            return section == null ? name() : section + "." + name();
        }

        public String description() {
            return setting.help();
        }

        public Object defaultValue() {
            return setting.defaultValue();
        }

        public boolean nullable() {
            return setting.nullable();
        }

        /** What the value must be, as in "train.epochs must be <i>an integer &gt;= 1</i>". */
        public String requirement() {
            return setting.requirement();
        }

        /** The type column of the reference: "integer &gt;= 1", "one of none, neurons, channels", "string, or null". */
        public String typeName() {
            return setting.typeName();
        }

        /** The default as YAML writes it: {@code 30}, {@code 0.001}, {@code "0"}, {@code null}. */
        public String defaultText() {
            return RecipePrinter.scalar(defaultValue());
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

    /** The student's training settings the distill section sets, in its order; see {@link #distillKeys()}. */
    static final List<String> DISTILL_STUDENT = List.of("epochs", "lr-decay", "patience");
    private static final List<Key> TOP = keys(null, RecipeKeys.Top.class);
    private static final List<Section> SECTIONS = List.of(
            new Section("train", "Train the model to compress, or start from an existing one.", trainKeys()),
            new Section("doctor", "Check model and data for silent training bugs before the long runs.",
                    toggled("doctor", "Run 'squeeze doctor' (overfit one batch, initial loss, init, leakage, labels, lr "
                            + "range test) first.", true, List.of())),
            new Section("distill", "Knowledge distillation: train a smaller student on the trained model's soft labels. "
                    + "The student trains as the train section says, but for the epochs, lr_decay and patience set here.",
                    toggled("distill", "Distill into the student and compress the student instead of the trained model.",
                            false, distillKeys())),
            new Section("prune", "Iterative magnitude pruning with rewinding (lottery tickets).",
                    toggled("prune", "Prune the model level by level, retraining after each.", true, pruneKeys())),
            new Section("quantize", "Post-training int8 quantization, optionally with quantization-aware training.",
                    toggled("quantize", "Quantize weights and activations to int8.", true,
                            // A recipe quantizes the Squeeze model it trained: --mode is for ONNX files.
                            keys("quantize", QuantParams.SETTINGS, Set.of("mode")))),
            new Section("shrink", "Search int8, pruning and distillation from the trained model for the smallest (or "
                    + "fastest) model within an accuracy budget, as 'squeeze shrink' does; the chosen model joins the "
                    + "exported models as 'shrunk'.",
                    toggled("shrink", "Run the search on the trained model.", false,
                            keys("shrink", ShrinkParams.SETTINGS, Set.of()))),
            new Section("export", "Export the final model to ONNX.",
                    toggled("export", "Write the final model (and each earlier stage's) as ONNX.", true,
                            keys("export", ExportParams.SETTINGS, Set.of()))),
            new Section("bench", "Benchmark the exported models with ONNX Runtime: size, latency, throughput, accuracy.",
                    toggled("bench", "Measure every exported model the same way.", true,
                            keys("bench", BenchmarkOptions.SETTINGS, Set.of()))),
            new Section("serve", "Serve the final model over HTTP when the pipeline is done.",
                    toggled("serve", "Start the model server at the end (Ctrl-C stops it).", false,
                            keys("serve", ServeOptions.SETTINGS, Set.of()))));
    private static final Map<String, Key> BY_PATH = new LinkedHashMap<>();

    static {
        for (Key key : TOP) BY_PATH.put(key.path(), key);
        for (Section section : SECTIONS) {
            for (Key key : section.keys()) BY_PATH.put(key.path(), key);
        }
    }

    /**
     * The train section: every training setting ({@link TrainParams}) but the dataset, which is the recipe's
     * top-level key, with {@code from} after {@code model}.
     */
    private static List<Key> trainKeys() {
        List<Key> keys = new ArrayList<>(keys("train", TrainParams.SETTINGS, Set.of("dataset")));
        keys.addAll(1, keys("train", RecipeKeys.Train.class));
        return keys;
    }

    /**
     * The distill section's settings: its student ({@link RecipeKeys.Distill}), distillation's settings
     * ({@link DistillParams}), then the student's training settings a recipe sets apart from the train section's
     * ({@link #DISTILL_STUDENT}; the rest the student takes from the train section). Recipe defaults: alpha 0.5 and the
     * student's slower schedule (lr_decay 0.9, patience 5) are what the distillation measurements settled on
     * (docs/distillation.md: the training defaults made distillation lose), and the demo's table depends on them.
     */
    private static List<Key> distillKeys() {
        List<Key> keys = new ArrayList<>(keys("distill", RecipeKeys.Distill.class));
        keys.addAll(keys("distill", DistillParams.SETTINGS, Set.of(), Map.of("alpha", 0.5)));
        Set<String> shared = TrainParams.SETTINGS.settings().stream().map(SettingSpec::name)
                .filter(name -> !DISTILL_STUDENT.contains(name)).collect(Collectors.toSet());
        Map<String, Key> student = new LinkedHashMap<>();
        for (Key key : keys("distill", TrainParams.SETTINGS, shared, Map.of("lr-decay", 0.9, "patience", 5))) {
            student.put(key.setting().name(), key);
        }
        DISTILL_STUDENT.forEach(name -> keys.add(student.get(name)));
        return keys;
    }

    /**
     * The prune section's settings: every pruning setting ({@link PruneParams}). A recipe prunes 3 levels where
     * {@code squeeze prune} prunes 5: the recipe runs every stage after it, and its demo was tuned (and its hash
     * pinned) at 3.
     */
    private static List<Key> pruneKeys() {
        return keys("prune", PruneParams.SETTINGS, Set.of(), Map.of("levels", 3));
    }

    /** A toggle section: its {@code enabled} switch ({@code help}, default {@code on}), then {@code settings}. */
    private static List<Key> toggled(String section, String help, boolean on, List<Key> settings) {
        List<Key> keys = new ArrayList<>(List.of(new Key(section, SettingSpec.onOff("enabled", help, on))));
        keys.addAll(settings);
        return keys;
    }

    /** The keys of {@code type}'s settings, in {@code section}. */
    private static List<Key> keys(String section, Class<? extends Record> type) {
        return keys(section, StageSettings.of(type), Set.of());
    }

    /** The keys of a stage's settings in {@code section}, but for {@code omitted} (setting names). */
    static List<Key> keys(String section, StageSettings<?> settings, Set<String> omitted) {
        return keys(section, settings, omitted, Map.of());
    }

    /**
     * The keys of a stage's settings in {@code section}, but for {@code omitted}, with the recipe's own defaults for
     * the settings named in {@code recipeDefaults}: where the pipeline starts a stage differently from its command
     * (fewer prune levels in a recipe, say). Say why next to each.
     */
    static List<Key> keys(String section, StageSettings<?> settings, Set<String> omitted, Map<String, ?> recipeDefaults) {
        for (String name : recipeDefaults.keySet()) {
            if (settings.setting(name).isEmpty()) throw new IllegalStateException("no setting " + name + " in " + section);
        }
        return settings.settings().stream().filter(s -> !omitted.contains(s.name()))
                .map(s -> recipeDefaults.containsKey(s.name())
                        ? s.withDefault(recipeDefaults.get(s.name()), recipeDefaults.get(s.name())) : s)
                .map(s -> new Key(section, s)).toList();
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
     * {@code ~} or nothing). Throws {@link BadInputException} with a message like
     * "train.epochs must be an integer >= 1, got 'ten'".
     */
    static Object convert(Key key, String text, boolean isNull) {
        return key.setting().parse(text, isNull, key.path());
    }

    /** A number the way recipes print and hash it: the shortest exact decimal, no exponent ({@code 0.001}, {@code 4}). */
    static String number(double value) {
        return SettingSpec.number(value);
    }

    /** The names, comma-separated, as error messages list them. */
    static String list(List<String> names) {
        return names.stream().collect(Collectors.joining(", "));
    }
}
