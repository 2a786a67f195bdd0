package dev.squeeze.pipeline.recipe;

import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.core.BadInputException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Recipe helpers: the configuration hash that keys a recipe's artifacts, the built-in recipes, values by path. */
public final class Recipes {
    /** The built-in recipes, resources {@code recipes/NAME.yaml}. */
    public static final List<String> BUILT_IN = List.of("demo", "demo-quick");

    /**
     * The prefix of a recipe's folder, {@code recipe2-<hash>}. The 2 is the hashing rule's version: folders named
     * {@code recipe-<hash>} were keyed by a hash of every key, and are not looked at (their ledger runs still are).
     */
    public static final String FOLDER_PREFIX = "recipe2-";

    /** The recipe of every key's {@link RecipeSchema} default: what {@link #hash(Recipe)} compares with. */
    private static final Recipe DEFAULTS = schemaDefaults();

    private Recipes() {
    }

    /**
     * The recipe's {@link ConfigHash}, the rule every stage's run folder follows: 12 hex characters of SHA-256 over the
     * canonical JSON of only the keys that differ from their {@link RecipeSchema} defaults. So the same resolved recipe
     * hashes the same however it was written (key order, {@code 1e-3} or {@code 0.001}, defaults spelled out or not),
     * and adding a key with a default leaves every existing hash unchanged. Blind to {@code name} and {@code serve},
     * which do not change what the pipeline produces.
     */
    public static ConfigHash configHash(Recipe recipe) {
        Recipe identity = new Recipe(DEFAULTS.name(), recipe.dataset(), recipe.data(), recipe.train(), recipe.doctor(),
                recipe.distill(), recipe.prune(), recipe.quantize(), recipe.export(), recipe.bench(), DEFAULTS.serve());
        return ConfigHash.of(identity, DEFAULTS);
    }

    /** {@link #configHash(Recipe)}'s value: the recipe's identity in its folder name and in {@code --explain}. */
    public static String hash(Recipe recipe) {
        return configHash(recipe).value();
    }

    /** The recipe's folder name, {@value #FOLDER_PREFIX}{@code <hash>}. */
    public static String folderName(Recipe recipe) {
        return FOLDER_PREFIX + hash(recipe);
    }

    /** The recipe of every key's {@link RecipeSchema} default ({@code train.model} and {@code train.from} null). */
    public static Recipe defaults() {
        return DEFAULTS;
    }

    private static Recipe schemaDefaults() {
        Map<String, Object> values = new LinkedHashMap<>();
        for (RecipeSchema.Key key : RecipeSchema.allKeys()) values.put(key.path(), key.defaultValue());
        return fromValues(values);
    }

    /** The text of a built-in recipe ({@link #BUILT_IN}), as shipped, comments and all. */
    public static String builtInText(String name) {
        if (!BUILT_IN.contains(name)) {
            throw new BadInputException("unknown built-in recipe '" + name + "'; built in: " + String.join(", ", BUILT_IN));
        }
        try (InputStream in = Recipes.class.getResourceAsStream("/recipes/" + name + ".yaml")) {
            if (in == null) throw new IllegalStateException("built-in recipe " + name + " missing from the classpath");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read built-in recipe " + name, e);
        }
    }

    /** A built-in recipe ({@link #BUILT_IN}), parsed, with {@code overrides} applied. */
    public static Recipe builtIn(String name, List<String> overrides) {
        return RecipeParser.parse(builtInText(name), name + ".yaml", overrides);
    }

    /**
     * Every value by its dotted path ({@code prune.levels}), in {@link RecipeSchema} order: Strings, Longs for
     * integers, Doubles for numbers, Booleans, nulls.
     */
    public static Map<String, Object> values(Recipe r) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("name", r.name());
        v.put("dataset", r.dataset());
        v.put("data", r.data());
        Recipe.Train t = r.train();
        v.put("train.model", t.model());
        v.put("train.from", t.from());
        v.put("train.epochs", (long) t.epochs());
        v.put("train.batch", (long) t.batch());
        v.put("train.lr", t.lr());
        v.put("train.lr_decay", t.lrDecay());
        v.put("train.seed", t.seed());
        v.put("train.patience", (long) t.patience());
        v.put("doctor.enabled", r.doctor().enabled());
        Recipe.Distill d = r.distill();
        v.put("distill.enabled", d.enabled());
        v.put("distill.student", d.student());
        v.put("distill.temperature", d.temperature());
        v.put("distill.alpha", d.alpha());
        v.put("distill.epochs", (long) d.epochs());
        v.put("distill.lr_decay", d.lrDecay());
        v.put("distill.patience", (long) d.patience());
        Recipe.Prune p = r.prune();
        v.put("prune.enabled", p.enabled());
        v.put("prune.levels", (long) p.levels());
        v.put("prune.rate", p.rate());
        v.put("prune.rewind_to", p.rewindTo());
        v.put("prune.structure", p.structure());
        Recipe.Quantize q = r.quantize();
        v.put("quantize.enabled", q.enabled());
        v.put("quantize.calibration", q.calibration());
        v.put("quantize.granularity", q.granularity());
        v.put("quantize.samples", (long) q.samples());
        v.put("quantize.qat_epochs", (long) q.qatEpochs());
        v.put("quantize.accuracy_budget", q.accuracyBudget());
        v.put("export.enabled", r.export().enabled());
        v.put("export.opset", (long) r.export().opset());
        Recipe.Bench b = r.bench();
        v.put("bench.enabled", b.enabled());
        v.put("bench.window_ms", b.windowMs());
        v.put("bench.warmup_ms", b.warmupMs());
        v.put("bench.max_windows", (long) b.maxWindows());
        Recipe.Serve s = r.serve();
        v.put("serve.enabled", s.enabled());
        v.put("serve.port", (long) s.port());
        v.put("serve.host", s.host());
        return v;
    }

    /** The recipe holding {@code v}, as {@link #values(Recipe)} gives them (every path present). */
    static Recipe fromValues(Map<String, Object> v) {
        return new Recipe(
                str(v, "name"), str(v, "dataset"), str(v, "data"),
                new Recipe.Train(str(v, "train.model"), str(v, "train.from"), i(v, "train.epochs"), i(v, "train.batch"),
                        d(v, "train.lr"), d(v, "train.lr_decay"), l(v, "train.seed"), i(v, "train.patience")),
                new Recipe.Doctor(b(v, "doctor.enabled")),
                new Recipe.Distill(b(v, "distill.enabled"), str(v, "distill.student"), d(v, "distill.temperature"),
                        d(v, "distill.alpha"), i(v, "distill.epochs"), d(v, "distill.lr_decay"), i(v, "distill.patience")),
                new Recipe.Prune(b(v, "prune.enabled"), i(v, "prune.levels"), d(v, "prune.rate"), str(v, "prune.rewind_to"),
                        str(v, "prune.structure")),
                new Recipe.Quantize(b(v, "quantize.enabled"), str(v, "quantize.calibration"), str(v, "quantize.granularity"),
                        i(v, "quantize.samples"), i(v, "quantize.qat_epochs"), (Double) v.get("quantize.accuracy_budget")),
                new Recipe.Export(b(v, "export.enabled"), i(v, "export.opset")),
                new Recipe.Bench(b(v, "bench.enabled"), l(v, "bench.window_ms"), l(v, "bench.warmup_ms"), i(v, "bench.max_windows")),
                new Recipe.Serve(b(v, "serve.enabled"), i(v, "serve.port"), str(v, "serve.host")));
    }

    private static String str(Map<String, Object> v, String path) {
        return (String) v.get(path);
    }

    private static int i(Map<String, Object> v, String path) {
        return Math.toIntExact((Long) v.get(path));
    }

    private static long l(Map<String, Object> v, String path) {
        return (Long) v.get(path);
    }

    private static double d(Map<String, Object> v, String path) {
        return (Double) v.get(path);
    }

    private static boolean b(Map<String, Object> v, String path) {
        return (Boolean) v.get(path);
    }
}
