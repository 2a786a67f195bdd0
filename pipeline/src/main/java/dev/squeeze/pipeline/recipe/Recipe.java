package dev.squeeze.pipeline.recipe;

import dev.squeeze.compress.distill.DistillParams;
import dev.squeeze.compress.onnx.ExportParams;
import dev.squeeze.compress.prune.PruneParams;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.core.settings.SettingSpec;
import dev.squeeze.core.settings.StageSettings;
import dev.squeeze.pipeline.shrink.ShrinkParams;
import dev.squeeze.serve.bench.BenchmarkOptions;
import dev.squeeze.serve.http.ServeOptions;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A fully resolved recipe: every key's value by its dotted path ({@code train.epochs}), defaults filled in, in
 * {@link RecipeSchema} order. Built by {@link RecipeParser}, printed by {@link RecipePrinter}, hashed by
 * {@link Recipes#hash(Recipe)}. A stage's section reads back as the stage's own settings record
 * ({@link #settings}), so a setting added to a stage needs nothing here.
 *
 * @param values every path's value: the setting's own type (Strings, Integers, Longs, Doubles, Booleans, enums,
 *               lists), or null
 */
public record Recipe(Map<String, Object> values) {
    public Recipe {
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** The value at {@code path}. */
    public Object get(String path) {
        if (!values.containsKey(path)) throw new IllegalArgumentException("no recipe key " + path);
        return values.get(path);
    }

    public String name() {
        return (String) get("name");
    }

    public String dataset() {
        return (String) get("dataset");
    }

    public String data() {
        return (String) get("data");
    }

    /** Whether the toggle section {@code section} is on. */
    public boolean enabled(String section) {
        return (Boolean) get(section + ".enabled");
    }

    /**
     * The settings record a section holds: each of {@code settings} read from {@code section.<key>} when the section
     * has that key, else from {@code fixed} (by setting name), else its default.
     */
    public <R extends Record> R settings(String section, StageSettings<R> settings, Map<String, ?> fixed) {
        Map<String, Object> given = new LinkedHashMap<>(fixed);
        for (SettingSpec s : settings.settings()) {
            String path = section + "." + s.key();
            if (values.containsKey(path)) given.put(s.name(), values.get(path));
        }
        return settings.build(given);
    }

    /** The train section's model file or run to start from, or null to train {@link #train()}. */
    public String from() {
        return (String) get("train.from");
    }

    /** The training settings: the train section on the recipe's dataset. */
    public TrainParams train() {
        return settings("train", TrainParams.SETTINGS, Map.of("dataset", dataset()));
    }

    /** A section of the recipe's own keys ({@link RecipeKeys}) as its record. */
    private <R extends Record> R keys(String section, Class<R> type) {
        return settings(section, StageSettings.of(type), Map.of());
    }


    /** The distill section's switch and student. */
    public RecipeKeys.Distill distill() {
        return keys("distill", RecipeKeys.Distill.class);
    }

    /** Distillation's settings (temperature, alpha) in the distill section; teachers and student left to the runner. */
    public DistillParams distillSettings() {
        return settings("distill", DistillParams.SETTINGS, Map.of());
    }

    /**
     * How the student trains: as the train section says, but for its model and the schedule the distill section sets
     * ({@link RecipeSchema#DISTILL_STUDENT}). That schedule (distill.lr_decay) is the student's whole decay, as it was
     * tuned (docs/distillation.md), so the per-examples decay is off.
     */
    public TrainParams distillStudent() {
        Map<String, Object> student = new LinkedHashMap<>(TrainParams.SETTINGS.settingValues(train()));
        student.put("model", distill().student());
        student.put("example-decay", 1.0);
        return settings("distill", TrainParams.SETTINGS, student);
    }

    /** The pruning settings: the prune section (whether it runs is {@link #enabled}{@code ("prune")}). */
    public PruneParams prune() {
        return settings("prune", PruneParams.SETTINGS, Map.of());
    }

    /** The quantization settings: the quantize section (whether it runs is {@link #enabled}{@code ("quantize")}). */
    public QuantParams quantize() {
        return settings("quantize", QuantParams.SETTINGS, Map.of());
    }


    /** The search's settings: the shrink section (whether it runs is {@link #enabled}{@code ("shrink")}). */
    public ShrinkParams shrink() {
        return settings("shrink", ShrinkParams.SETTINGS, Map.of());
    }

    /** The export's settings in the export section; the source is the runner's to give. */
    public ExportParams exportSettings() {
        return settings("export", ExportParams.SETTINGS, Map.of());
    }

    /** How the bench section measures ({@link #enabled} says whether it runs). */
    public BenchmarkOptions bench() {
        return settings("bench", BenchmarkOptions.SETTINGS, Map.of());
    }

    /** How the serve section serves ({@link #enabled} says whether it runs). */
    public ServeOptions serve() {
        return settings("serve", ServeOptions.SETTINGS, Map.of());
    }
}
