package dev.squeeze.pipeline.recipe;

import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.settings.SettingSpec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Recipe helpers: the configuration hash that keys a recipe's artifacts, the built-in recipes. */
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
     * canonical JSON of only the keys that differ from their {@link RecipeSchema} defaults, section by section
     * ({@code {"prune":{"levels":2},"train":{"model":"lenet-300-100"}}}, keys in camel case). So the same resolved
     * recipe hashes the same however it was written (key order, {@code 1e-3} or {@code 0.001}, defaults spelled out or
     * not), and adding a key with a default leaves every existing hash unchanged. Blind to {@code name} and
     * {@code serve}, which do not change what the pipeline produces.
     */
    public static ConfigHash configHash(Recipe recipe) {
        return ConfigHash.of(identity(recipe), identity(DEFAULTS));
    }

    /** The recipe as the tree its hash is taken over: section to camel-case key to value; name and serve left out. */
    private static Map<String, Object> identity(Recipe recipe) {
        Map<String, Object> tree = new LinkedHashMap<>();
        recipe.values().forEach((path, value) -> {
            int dot = path.indexOf('.');
            String section = dot < 0 ? null : path.substring(0, dot);
            if (path.equals("name") || "serve".equals(section)) return;
            Object hashed = value instanceof Enum<?> e ? SettingSpec.label(e) : value;
            if (section == null) {
                tree.put(camel(path), hashed);
            } else {
                @SuppressWarnings("unchecked")
                Map<String, Object> inner = (Map<String, Object>) tree.computeIfAbsent(section, s -> new LinkedHashMap<>());
                inner.put(camel(path.substring(dot + 1)), hashed);
            }
        });
        return tree;
    }

    /** {@code lr_decay} as {@code lrDecay}: the recipe's hashes name keys as its first version's record did. */
    private static String camel(String key) {
        StringBuilder out = new StringBuilder();
        boolean up = false;
        for (char c : key.toCharArray()) {
            if (c == '_') {
                up = true;
            } else {
                out.append(up ? Character.toUpperCase(c) : c);
                up = false;
            }
        }
        return out.toString();
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
        return new Recipe(values);
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
}
