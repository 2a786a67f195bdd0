package dev.squeeze.cli;

import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.pipeline.recipe.Recipes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Adding a setting to a stage is one annotated component in one file, and it then appears everywhere the stage's
 * settings are offered. The test does exactly that to the real {@code TrainParams}: it adds a test-only component,
 * {@code warmupEpochs}, to a copy of TrainParams' source, compiles it, and loads the whole of Squeeze again over it in
 * a class loader of its own. Nothing else is changed, yet {@code squeeze train --help} offers {@code --warmup-epochs},
 * {@code squeeze run --explain} prints {@code train.warmup_epochs}, a sweep grid may vary {@code warmup-epochs}, bad
 * values are refused in each place's own words, and at its default the setting moves no run folder: the training
 * hash and the demo recipe's hash are the ones the real TrainParams gives.
 */
class AddingASettingTest {
    private static final String ADDED = """
            List<String> augment,
                    @Setting(help = "Epochs of learning-rate warm-up before the schedule starts (test-only).",
                            defaultValue = "0", min = 0)
                    int warmupEpochs) {""";

    @TempDir
    static Path dir;
    private static URLClassLoader squeezeWithTheSetting;

    @BeforeAll
    static void compileTrainParamsWithOneMoreSetting() throws Exception {
        Path source = Path.of("..", "compress", "src", "main", "java", "dev", "squeeze", "compress", "train",
                "TrainParams.java");
        String text = Files.readString(source);
        assertEquals(1, text.split("List<String> augment\\) \\{", -1).length - 1, "the record's last component, once");
        Path edited = dir.resolve("src").resolve("TrainParams.java");
        Files.createDirectories(edited.getParent());
        Files.writeString(edited, text.replace("List<String> augment) {", ADDED));

        Path classes = dir.resolve("classes");
        Files.createDirectories(classes);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream messages = new ByteArrayOutputStream();
        int rc = javac.run(null, messages, messages, "-classpath", System.getProperty("java.class.path"), "-d",
                classes.toString(), "-proc:none", edited.toString());
        assertEquals(0, rc, "the edited TrainParams compiles on its own: " + messages.toString(StandardCharsets.UTF_8));

        // Squeeze's classes and libraries again, the edited TrainParams first; nothing shared with this test's classes.
        List<URL> urls = new ArrayList<>();
        urls.add(classes.toUri().toURL());
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            urls.add(Path.of(entry).toUri().toURL());
        }
        squeezeWithTheSetting = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
    }

    /** Runs {@code squeeze args} with Squeeze loaded over the edited TrainParams: exit code, then stdout and stderr. */
    private static List<Object> squeeze(Path home, String... args) throws Exception {
        Class<?> cli = squeezeWithTheSetting.loadClass("dev.squeeze.cli.SqueezeCli");
        Object commandLine = cli.getMethod("commandLine", Map.class).invoke(null, Map.of("SQUEEZE_HOME", home.toString()));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        commandLine.getClass().getMethod("setOut", PrintWriter.class).invoke(commandLine, new PrintWriter(out, true));
        commandLine.getClass().getMethod("setErr", PrintWriter.class).invoke(commandLine, new PrintWriter(err, true));
        int code = (int) commandLine.getClass().getMethod("execute", String[].class).invoke(commandLine, (Object) args);
        return List.of(code, out.toString(), err.toString());
    }

    private static Object call(String className, String method, Class<?>[] types, Object... args) throws Exception {
        Method m = squeezeWithTheSetting.loadClass(className).getMethod(method, types);
        try {
            return m.invoke(null, args);
        } catch (InvocationTargetException e) {
            throw (Exception) e.getCause();
        }
    }

    @Test
    void theNewSettingIsAnOptionOfTrainWithItsHelpDefaultAndRange(@TempDir Path home) throws Exception {
        List<Object> help = squeeze(home, "train", "--help");
        assertEquals(0, help.get(0));
        String usage = (String) help.get(1);
        assertTrue(usage.contains("--warmup-epochs=N"), usage);
        assertTrue(usage.replaceAll("\\s+", " ").contains("Epochs of learning-rate warm-up before the schedule starts "
                + "(test-only). (default: 0)"), usage);
        assertFalse(CliRun.run(home, "train", "--help").out().contains("--warmup-epochs"), "the real TrainParams has none");

        List<Object> bad = squeeze(home, "train", "--model", "mlp-tiny", "--warmup-epochs", "-1");
        assertEquals(ExitCodes.BAD_INPUT, bad.get(0));
        assertTrue(((String) bad.get(2)).contains("--warmup-epochs must be an integer >= 0, got '-1'"), (String) bad.get(2));
    }

    @Test
    void theNewSettingIsARecipeKeyThatExplainPrints(@TempDir Path home) throws Exception {
        Path recipe = home.resolve("r.yaml");
        Files.writeString(recipe, "train:\n  model: mlp-tiny\n  warmup_epochs: 2\n");
        List<Object> explain = squeeze(home, "run", recipe.toString(), "--explain");
        assertEquals(0, explain.get(0), (String) explain.get(2));
        assertTrue(((String) explain.get(1)).lines().anyMatch(l -> l.startsWith("  warmup_epochs: 2 ")
                && l.contains("# Epochs of learning-rate warm-up")), (String) explain.get(1));

        Files.writeString(recipe, "train:\n  model: mlp-tiny\n  warmup_epochs: -1\n");
        List<Object> bad = squeeze(home, "run", recipe.toString(), "--explain");
        assertEquals(ExitCodes.BAD_INPUT, bad.get(0));
        assertTrue(((String) bad.get(2)).contains("line 3: train.warmup_epochs must be an integer >= 0, got '-1'"),
                (String) bad.get(2));
    }

    @Test
    void theNewSettingIsASweepKey() throws Exception {
        @SuppressWarnings("unchecked")
        List<String> keys = (List<String>) squeezeWithTheSetting.loadClass("dev.squeeze.compress.sweep.SweepGrid")
                .getField("KEYS").get(null);
        assertTrue(keys.contains("warmup-epochs"), keys.toString());
        Object grid = call("dev.squeeze.compress.sweep.SweepGrid", "parse", new Class<?>[]{String.class}, "warmup-epochs=0,1,3");
        assertEquals(List.of("warmup-epochs"), grid.getClass().getMethod("keys").invoke(grid));
        Exception bad = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () ->
                call("dev.squeeze.compress.sweep.SweepGrid", "parse", new Class<?>[]{String.class}, "warmup-epochs=-1"));
        assertTrue(bad.getMessage().contains("value warmup-epochs=-1 must be an integer >= 0"), bad.getMessage());
    }

    @Test
    void atItsDefaultTheNewSettingMovesNoRunFolder() throws Exception {
        // The training hash of a default run, with and without the setting.
        Class<?> edited = squeezeWithTheSetting.loadClass("dev.squeeze.compress.train.TrainParams");
        assertEquals(TrainParams.class.getRecordComponents().length + 1, edited.getRecordComponents().length);
        Object params = edited.getMethod("of", String.class).invoke(null, "lenet-300-100");
        Object base = edited.getField("HASH_BASE").get(null);
        Class<?> configHash = squeezeWithTheSetting.loadClass("dev.squeeze.compress.ledger.ConfigHash");
        Method of = configHash.getMethod("of", Record.class, Record.class);
        String real = ConfigHash.of(TrainParams.of("lenet-300-100"), TrainParams.HASH_BASE).value();
        assertEquals(real, configHash.getMethod("value").invoke(of.invoke(null, params, base)));

        Object settings = edited.getField("SETTINGS").get(null);
        Object warm = settings.getClass().getMethod("with", Record.class, String.class, Object.class)
                .invoke(settings, params, "warmup-epochs", 2);
        assertNotEquals(real, configHash.getMethod("value").invoke(of.invoke(null, warm, base)), "set, it counts");

        // The demo recipe's folder, with the new key at its default.
        Object demo = call("dev.squeeze.pipeline.recipe.Recipes", "builtIn", new Class<?>[]{String.class, List.class},
                "demo", List.of());
        assertEquals(Recipes.hash(Recipes.builtIn("demo", List.of())),
                call("dev.squeeze.pipeline.recipe.Recipes", "hash", new Class<?>[]{demo.getClass()}, demo));
    }
}
