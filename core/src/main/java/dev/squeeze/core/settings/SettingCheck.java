package dev.squeeze.core.settings;

/**
 * The check of a string setting named by {@link Setting#check()}: returns the canonical form of a text it accepts
 * and throws any runtime exception to refuse one; {@link SettingSpec} turns the refusal into a message that names the
 * setting, where it came from and {@link #accepts()}. Needs a public no-argument constructor.
 */
public interface SettingCheck {
    /** The canonical form of {@code text}; throws to refuse it. */
    String apply(String text);

    /** What the check accepts, as in "must be <i>a zoo model (lenet-300-100, ...)</i>". */
    String accepts();

    /**
     * For a setting that holds a number or a text ({@link SettingSpec.Type#NUMBER_OR_TEXT}): whether {@code text} is
     * this check's to read. Text it does not claim is read as a number, and refused in the number's words.
     */
    default boolean claims(String text) {
        return true;
    }
}
