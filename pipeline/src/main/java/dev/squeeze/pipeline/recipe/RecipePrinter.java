package dev.squeeze.pipeline.recipe;

import dev.squeeze.core.settings.SettingSpec;
import dev.squeeze.pipeline.recipe.RecipeSchema.Key;
import dev.squeeze.pipeline.recipe.RecipeSchema.Section;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.resolver.Resolver;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The fully resolved recipe as YAML: every key, each with its description as a comment. What
 * {@code squeeze run --explain} prints; {@link RecipeParser} reads it back to an equal {@link Recipe}.
 */
public final class RecipePrinter {
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./][A-Za-z0-9_./+@-]*");
    private static final Resolver RESOLVER = new Resolver();
    private static final int MAX_COMMENT_COLUMN = 36;

    private RecipePrinter() {
    }

    /** Every key of {@code recipe}, section by section, with comments; ends with a newline. */
    public static String yaml(Recipe recipe) {
        Map<String, Object> values = recipe.values();
        StringBuilder out = new StringBuilder();
        out.append("# Squeeze recipe, fully resolved: every key with the value it will run with.\n");
        out.append("# Recipe hash ").append(Recipes.hash(recipe))
                .append(" (artifacts are kept under it; name and serve are not part of it).\n\n");
        block(out, "", RecipeSchema.topLevelKeys(), values);
        for (Section section : RecipeSchema.sections()) {
            out.append('\n').append("# ").append(section.description()).append('\n');
            out.append(section.name()).append(":\n");
            block(out, "  ", section.keys(), values);
        }
        return out.toString();
    }

    private static void block(StringBuilder out, String indent, List<Key> keys, Map<String, Object> values) {
        List<String> lines = new ArrayList<>();
        int width = 0;
        for (Key key : keys) {
            String line = indent + key.name() + ": " + scalar(values.get(key.path()));
            lines.add(line);
            if (line.length() < MAX_COMMENT_COLUMN) width = Math.max(width, line.length());
        }
        for (int i = 0; i < keys.size(); i++) {
            String line = lines.get(i);
            out.append(line).append(" ".repeat(Math.max(1, width - line.length() + 2)))
                    .append("# ").append(keys.get(i).description()).append('\n');
        }
    }

    /** One value as a YAML scalar: {@code null}, {@code true}, {@code 30}, {@code 0.001}, {@code lenet-300-100}, {@code "0"}. */
    static String scalar(Object value) {
        if (value == null) return "null";
        if (value instanceof Double d) return RecipeSchema.number(d);
        if (value instanceof Enum<?> || value instanceof List<?>) value = SettingSpec.text(value);
        if (value instanceof String s) {
            boolean plain = PLAIN.matcher(s).matches() && RESOLVER.resolve(NodeId.scalar, s, true).equals(Tag.STR);
            return plain ? s : quote(s);
        }
        return value.toString();
    }

    /** A double-quoted YAML/JSON-style string with escapes. */
    static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        return out.append('"').toString();
    }
}
