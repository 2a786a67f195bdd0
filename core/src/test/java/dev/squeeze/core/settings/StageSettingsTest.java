package dev.squeeze.core.settings;

import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StageSettingsTest {
    enum Mode { FAST, VERY_SLOW }

    /** Names a single letter as its canonical upper-case form and refuses the rest. */
    public static final class Letter implements SettingCheck {
        @Override
        public String apply(String text) {
            if (text.length() != 1 || !Character.isLetter(text.charAt(0))) throw new IllegalArgumentException(text);
            return text.toUpperCase();
        }

        @Override
        public String accepts() {
            return "one letter";
        }
    }

    record Probe(
            String source,
            @Setting(help = "Rounds.", defaultValue = "3", min = 1) int rounds,
            @Setting(name = "lr", help = "Rate.", defaultValue = "1e-3", min = 0, minExclusive = true, max = 1) double rate,
            @Setting(help = "Seed.", defaultValue = "42") long seed,
            @Setting(help = "Mode.", defaultValue = "fast") Mode mode,
            @Setting(help = "Kind.", defaultValue = "a", choices = {"a", "b"}) String kind,
            @Setting(help = "Letter.", check = Letter.class) String letter,
            @Setting(help = "Budget.", min = 0, max = 100) Double budget,
            @Setting(help = "Layers.", min = 0) List<Integer> keepLayers,
            @Setting(help = "Columns.") List<String> columns,
            @Setting(help = "On.", defaultValue = "true") boolean enabled,
            @Setting(help = "Decay.", defaultValue = "0.9", hashedAs = "0.8", min = 0, max = 1) double decay) {
    }

    private static final StageSettings<Probe> SETTINGS = StageSettings.of(Probe.class);

    private static SettingSpec setting(String name) {
        return SETTINGS.setting(name).orElseThrow();
    }

    private static String refusal(String name, String text) {
        return assertThrows(BadInputException.class, () -> setting(name).parse(text, "--" + name)).getMessage();
    }

    @Test
    void theAnnotatedComponentsAreTheSettingsInOrderWithKebabNames() {
        assertEquals(List.of("rounds", "lr", "seed", "mode", "kind", "letter", "budget", "keep-layers", "columns",
                "enabled", "decay"), SETTINGS.settings().stream().map(SettingSpec::name).toList());
        assertEquals("--keep-layers", setting("keep-layers").flag());
        assertEquals("keep_layers", setting("keep-layers").key());
        assertEquals("--lr or train.lr", setting("lr").mention("train"));
    }

    @Test
    void defaultsAndTheHashBaseAreBuiltFromTheAnnotations() {
        Probe d = SETTINGS.defaults();
        assertEquals(new Probe(null, 3, 1e-3, 42L, Mode.FAST, "a", null, null, null, null, true, 0.9), d);
        assertEquals(0.8, SETTINGS.hashBase().decay());
        assertEquals(3, SETTINGS.hashBase().rounds());
        assertTrue(setting("budget").nullable(), "no default: null is a value");
        assertFalse(setting("kind").nullable(), "a string with a default is not nullable");
    }

    @Test
    void textsParseByTheSettingsType() {
        assertEquals(5, setting("rounds").parse("5.0", "--rounds"));
        assertEquals(9_000_000_000L, setting("seed").parse("9000000000", "--seed"));
        assertEquals(0.001, setting("lr").parse("1e-3", "--lr"));
        assertEquals(Mode.VERY_SLOW, setting("mode").parse("Very-Slow", "--mode"));
        assertEquals("b", setting("kind").parse("B", "--kind"));
        assertEquals("Q", setting("letter").parse("q", "--letter"));
        assertEquals(List.of(0, 6), setting("keep-layers").parse("0, 6", "--keep-layers"));
        assertEquals(List.of("a b", "c"), setting("columns").parse("a b,c", "--columns"));
        assertEquals(Boolean.FALSE, setting("enabled").parse("FALSE", "--enabled"));
        assertNull(setting("budget").parse(null, true, "x.budget"));
    }

    @Test
    void refusalsNameTheSettingAsGivenAndWhatItMustBe() {
        assertEquals("--rounds must be an integer >= 1, got '0'", refusal("rounds", "0"));
        assertEquals("--rounds must be an integer >= 1, got '1.5'", refusal("rounds", "1.5"));
        assertEquals("--rounds must be an integer >= 1, got '3000000000'", refusal("rounds", "3000000000"));
        assertEquals("--lr must be a number > 0 and <= 1, got '0'", refusal("lr", "0"));
        assertEquals("--lr must be a number > 0 and <= 1, got 'NaN'", refusal("lr", "NaN"));
        assertEquals("--mode must be one of fast, very-slow, got 'slow'", refusal("mode", "slow"));
        assertEquals("--kind must be one of a, b, got 'c'", refusal("kind", "c"));
        assertEquals("--letter must be one letter, or null, got 'qq'", refusal("letter", "qq"));
        assertEquals("--budget must be a number from 0 to 100, or null, got '101'", refusal("budget", "101"));
        assertEquals("--keep-layers must be a comma-separated list of integers >= 0, got '1,-2'", refusal("keep-layers", "1,-2"));
        assertEquals("--columns must be a comma-separated list of names, got 'a,,b'", refusal("columns", "a,,b"));
        assertEquals("--enabled must be true or false, got 'yes'", refusal("enabled", "yes"));
        assertEquals("recipe.yaml line 2: prune.rounds must be an integer >= 1, got null", assertThrows(BadInputException.class,
                () -> setting("rounds").parse("~", true, "recipe.yaml line 2: prune.rounds")).getMessage());
    }

    @Test
    void aProgramsValuesAreCheckedByTheSameRulesNamingTheSetting() {
        Probe bad = SETTINGS.with(SETTINGS.defaults(), "rounds", 0);
        assertEquals("rounds must be an integer >= 1, got 0", assertThrows(BadInputException.class,
                () -> SETTINGS.check(bad)).getMessage());
        assertEquals("kind must be one of a, b, got 'z'", assertThrows(BadInputException.class,
                () -> SETTINGS.check(SETTINGS.with(SETTINGS.defaults(), "kind", "z"))).getMessage());
        assertEquals("--lr must be a number > 0 and <= 1, got 2", assertThrows(BadInputException.class,
                () -> SETTINGS.check(SETTINGS.with(SETTINGS.defaults(), "lr", 2.0), SettingSpec::flag)).getMessage());
        SETTINGS.check(SETTINGS.defaults());
    }

    @Test
    void settingsAreSetAndReadByNameThroughTheCanonicalConstructor() {
        Probe p = SETTINGS.build(Map.of("rounds", 7, "source", "run-1", "keep-layers", List.of(2)));
        assertEquals(7, p.rounds());
        assertEquals("run-1", p.source(), "components that are no setting are set by their component name");
        assertEquals(List.of(2), SETTINGS.get(p, "keep-layers"));
        assertEquals(0.5, SETTINGS.with(p, "lr", 0.5).rate());
        assertThrows(IllegalArgumentException.class, () -> SETTINGS.with(p, "nope", 1));
    }

    record BadDefault(@Setting(help = "Rounds.", defaultValue = "0", min = 1) int rounds) {
    }

    record PrimitiveWithoutDefault(@Setting(help = "Rounds.") int rounds) {
    }

    @Test
    void aDeclarationThatBreaksItsOwnRulesFailsWhenItIsRead() {
        var bad = assertThrows(BadInputException.class, () -> StageSettings.of(BadDefault.class));
        assertEquals("BadDefault.rounds's default must be an integer >= 1, got '0'", bad.getMessage());
        var missing = assertThrows(IllegalStateException.class, () -> StageSettings.of(PrimitiveWithoutDefault.class));
        assertTrue(missing.getMessage().contains("needs a default"), missing.getMessage());
    }
}
