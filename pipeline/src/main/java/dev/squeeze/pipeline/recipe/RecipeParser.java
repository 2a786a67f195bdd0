package dev.squeeze.pipeline.recipe;

import dev.squeeze.pipeline.recipe.RecipeSchema.Key;
import dev.squeeze.pipeline.recipe.RecipeSchema.Section;
import dev.squeeze.core.BadInputException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.resolver.Resolver;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a recipe: YAML through SnakeYAML's node API, so that every error names its line, then {@code --set}
 * overrides, then the checks that span keys. Every problem is a {@link BadInputException} whose message starts
 * with where it is: {@code recipe.yaml line 7: unknown key 'epochz' in train; allowed: ...} or
 * {@code --set prune.levelz=5: unknown key 'levelz' in prune; allowed: ...}.
 */
public final class RecipeParser {
    private RecipeParser() {
    }

    /** The recipe in {@code file}, with {@code overrides} ({@code prune.levels=5}, ...) applied in order. */
    public static Recipe parse(Path file, List<String> overrides) {
        String text;
        try {
            text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BadInputException("recipe file not found: " + file);
        } catch (IOException e) {
            throw new BadInputException("cannot read the recipe " + file + ": " + e.getMessage(), e);
        }
        return parse(text, file.toString(), overrides);
    }

    /**
     * The recipe written in {@code yaml}; {@code sourceName} (a file name) starts every error message.
     * {@code overrides} may be null.
     */
    public static Recipe parse(String yaml, String sourceName, List<String> overrides) {
        State state = new State(sourceName);
        Node root = compose(yaml, sourceName);
        if (root != null) state.readRoot(root);
        if (overrides != null) {
            for (String override : overrides) state.override(override);
        }
        return state.build(root == null);
    }

    private static Node compose(String yaml, String sourceName) {
        try {
            // compose() only builds nodes (nothing is constructed); duplicate keys are checked while reading them.
            return new Yaml(new SafeConstructor(new LoaderOptions())).compose(new StringReader(yaml));
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String problem = e.getProblem() != null ? e.getProblem() : e.getMessage();
            String where = mark == null ? sourceName : sourceName + " line " + (mark.getLine() + 1);
            String text = oneLine(problem);
            if (e.getContext() != null && e.getContextMark() != null) {
                String context = oneLine(e.getContext()) + " on line " + (e.getContextMark().getLine() + 1);
                text = text.startsWith("but ") ? context + ", " + text : text + " (" + context + ")";
            }
            throw new BadInputException(where + ": malformed YAML: " + text, e);
        } catch (YAMLException e) {
            throw new BadInputException(sourceName + ": malformed YAML: " + oneLine(e.getMessage()), e);
        }
    }

    private static String oneLine(String text) {
        return text == null ? "" : text.replaceAll("\\s*\\R\\s*", " ").trim();
    }

    /** The values as they resolve, path by path, and where each was last set. */
    private static final class State {
        private final String source;
        private final Map<String, Object> values = new LinkedHashMap<>();
        private final Map<String, Origin> origin = new HashMap<>();
        private int seq;
        private Integer trainLine;

        State(String source) {
            this.source = source;
            for (Key key : RecipeSchema.allKeys()) values.put(key.path(), key.defaultValue());
        }

        private String at(Node node) {
            return source + " line " + (node.getStartMark().getLine() + 1);
        }

        private BadInputException error(Node node, String message) {
            return new BadInputException(at(node) + ": " + message);
        }

        void readRoot(Node root) {
            if (!(root instanceof MappingNode mapping)) {
                throw error(root, "a recipe is a mapping of keys and sections (" + RecipeSchema.list(RecipeSchema.topLevelNames())
                        + "), got " + describe(root));
            }
            Map<String, Node> seen = new HashMap<>();
            for (NodeTuple tuple : mapping.getValue()) {
                Node keyNode = tuple.getKeyNode();
                String name = keyName(keyNode, "the recipe");
                Node previous = seen.put(name, keyNode);
                Optional<Section> section = RecipeSchema.section(name);
                if (previous != null) {
                    throw error(keyNode, "duplicate " + (section.isPresent() ? "section" : "key") + " '" + name
                            + "' (first on line " + (previous.getStartMark().getLine() + 1) + ")");
                }
                Node value = tuple.getValueNode();
                if (section.isPresent()) {
                    readSection(section.get(), keyNode, value);
                } else {
                    Optional<Key> key = RecipeSchema.key(name).filter(k -> k.section() == null);
                    if (key.isEmpty()) {
                        throw error(keyNode, "unknown section '" + name + "'; allowed: "
                                + RecipeSchema.list(RecipeSchema.topLevelNames()) + suggest(name, RecipeSchema.topLevelNames()));
                    }
                    set(key.get(), value);
                }
            }
        }

        private void readSection(Section section, Node keyNode, Node value) {
            if (section.name().equals("train")) trainLine = keyNode.getStartMark().getLine() + 1;
            if (value instanceof ScalarNode scalar && section.toggle() && !isNull(scalar)) {
                Key enabled = section.keys().get(0);
                String text = scalar.getValue();
                if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
                    set(enabled, value);
                    return;
                }
            }
            if (!(value instanceof MappingNode mapping)) {
                String shape = section.toggle()
                        ? section.name() + " must be a mapping of its keys (" + RecipeSchema.list(section.keyNames())
                        + ") or true/false"
                        : section.name() + " must be a mapping of its keys (" + RecipeSchema.list(section.keyNames()) + ")";
                throw error(value instanceof ScalarNode && isNull((ScalarNode) value) ? keyNode : value,
                        shape + ", got " + describe(value));
            }
            Map<String, Node> seen = new HashMap<>();
            boolean enabledGiven = false;
            for (NodeTuple tuple : mapping.getValue()) {
                Node k = tuple.getKeyNode();
                String name = keyName(k, section.name());
                Node previous = seen.put(name, k);
                if (previous != null) {
                    throw error(k, "duplicate key '" + name + "' in " + section.name() + " (first on line "
                            + (previous.getStartMark().getLine() + 1) + ")");
                }
                Optional<Key> key = section.key(name);
                if (key.isEmpty()) {
                    throw error(k, "unknown key '" + name + "' in " + section.name() + "; allowed: "
                            + RecipeSchema.list(section.keyNames()) + suggest(name, section.keyNames()));
                }
                if (name.equals("enabled")) enabledGiven = true;
                set(key.get(), tuple.getValueNode());
            }
            if (section.toggle() && !enabledGiven) {
                Key enabled = section.keys().get(0);
                values.put(enabled.path(), Boolean.TRUE);
                origin.put(enabled.path(), new Origin(at(keyNode), ++seq));
            }
        }

        private String keyName(Node keyNode, String where) {
            if (keyNode instanceof ScalarNode scalar && !isNull(scalar)) return scalar.getValue();
            throw error(keyNode, "keys in " + where + " must be plain names, got " + describe(keyNode));
        }

        private void set(Key key, Node value) {
            if (!(value instanceof ScalarNode scalar)) {
                throw error(value, key.path() + " must be " + key.requirement() + ", got " + describe(value));
            }
            try {
                values.put(key.path(), RecipeSchema.convert(key, scalar.getValue(), isNull(scalar)));
            } catch (BadInputException e) {
                throw error(value, e.getMessage());
            }
            origin.put(key.path(), new Origin(at(value), ++seq));
        }

        void override(String override) {
            String where = "--set " + override;
            int eq = override == null ? -1 : override.indexOf('=');
            if (eq <= 0) {
                throw new BadInputException(where + ": expected KEY=VALUE, e.g. prune.levels=5 or distill=true");
            }
            String path = override.substring(0, eq).trim();
            String text = override.substring(eq + 1).trim();
            boolean isNull = new Resolver().resolve(NodeId.scalar, text, true).equals(Tag.NULL);
            String[] parts = path.split("\\.", -1);
            Key key;
            if (parts.length == 1) {
                Optional<Section> section = RecipeSchema.section(parts[0]);
                if (section.isPresent()) {
                    if (!section.get().toggle()) {
                        throw new BadInputException(where + ": " + parts[0] + " is a section without an on/off switch; set its keys, e.g. "
                                + parts[0] + "." + section.get().keys().get(0).name() + "=...");
                    }
                    key = section.get().keys().get(0);
                    if (!(text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false"))) {
                        throw new BadInputException(where + ": " + parts[0] + " may be set to true or false (or set its keys, e.g. "
                                + parts[0] + ".enabled=true), got '" + text + "'");
                    }
                } else {
                    key = RecipeSchema.key(parts[0]).filter(k -> k.section() == null).orElseThrow(() ->
                            new BadInputException(where + ": unknown key '" + parts[0] + "'; allowed: "
                                    + RecipeSchema.list(RecipeSchema.topLevelNames()) + suggest(parts[0], RecipeSchema.topLevelNames())));
                }
            } else {
                Optional<Section> section = RecipeSchema.section(parts[0]);
                if (section.isEmpty()) {
                    if (RecipeSchema.key(parts[0]).isPresent()) {
                        throw new BadInputException(where + ": " + parts[0] + " is a key, not a section; write " + parts[0] + "=VALUE");
                    }
                    throw new BadInputException(where + ": unknown section '" + parts[0] + "'; allowed: "
                            + RecipeSchema.list(RecipeSchema.topLevelNames()) + suggest(parts[0], RecipeSchema.topLevelNames()));
                }
                String rest = path.substring(parts[0].length() + 1);
                key = section.get().key(rest).orElseThrow(() -> new BadInputException(where + ": unknown key '" + rest + "' in "
                        + parts[0] + "; allowed: " + RecipeSchema.list(section.get().keyNames())
                        + suggest(rest, section.get().keyNames())));
            }
            try {
                values.put(key.path(), RecipeSchema.convert(key, text, isNull));
            } catch (BadInputException e) {
                throw new BadInputException(where + ": " + e.getMessage());
            }
            origin.put(key.path(), new Origin(where, ++seq));
        }

        Recipe build(boolean empty) {
            String model = (String) values.get("train.model");
            String from = (String) values.get("train.from");
            if (model == null && from == null) {
                String what = "train.model (a zoo model to train, such as lenet-300-100) or train.from (a model file or run id "
                        + "to start from)";
                if (empty && origin.isEmpty()) {
                    throw new BadInputException(source + ": the recipe is empty; a recipe needs at least " + what);
                }
                throw new BadInputException(trainOrigin() + ": the recipe needs " + what);
            }
            if (model != null && from != null) {
                throw new BadInputException(trainOrigin() + ": train.model and train.from are both set; give one: model "
                        + "trains a zoo model from scratch, from starts from a model file or run id "
                        + "(--set train.from=null drops it)");
            }
            Recipe recipe = new Recipe(values);
            // Pruning settings may clash with each other (a control with structured pruning): refused here, where the
            // section was written, rather than when the stage is reached after training.
            try {
                recipe.prune();
            } catch (BadInputException e) {
                throw new BadInputException(sectionOrigin("prune") + ": prune." + e.getMessage());
            }
            return recipe;
        }

        /** Where a setting of {@code section} (not its switch) was last set (an override, a line); else the file. */
        private String sectionOrigin(String section) {
            return origin.entrySet().stream()
                    .filter(e -> e.getKey().startsWith(section + ".") && !e.getKey().equals(section + ".enabled"))
                    .map(Map.Entry::getValue).max(java.util.Comparator.comparingInt(Origin::seq))
                    .map(Origin::where).orElse(source);
        }

        /** Where train.model or train.from was last set (an override, a line); else the train section; else the file. */
        private String trainOrigin() {
            Origin last = null;
            for (String path : List.of("train.model", "train.from")) {
                Origin o = origin.get(path);
                if (o != null && (last == null || o.seq() > last.seq())) last = o;
            }
            if (last != null) return last.where();
            return trainLine != null ? source + " line " + trainLine : source;
        }
    }

    private record Origin(String where, int seq) {
    }

    private static boolean isNull(ScalarNode scalar) {
        return Tag.NULL.equals(scalar.getTag());
    }

    private static String describe(Node node) {
        if (node instanceof ScalarNode scalar) {
            return isNull(scalar) ? (scalar.getValue().isEmpty() ? "nothing" : "null") : "'" + scalar.getValue() + "'";
        }
        return node.getNodeId() == NodeId.sequence ? "a list" : "a mapping";
    }

    /** " (did you mean 'epochs'?)" when a name is an edit or two (one for short names) from a known one. */
    private static String suggest(String name, List<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int d = distance(name.toLowerCase(Locale.ROOT), candidate);
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        return best != null && bestDistance <= (name.length() <= 4 ? 1 : 2)
                ? " (did you mean '" + best + "'?)" : "";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        int[] before = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    cur[j] = Math.min(cur[j], before[j - 2] + 1);
                }
            }
            int[] t = before;
            before = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
