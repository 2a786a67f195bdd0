package dev.squeeze.core.settings;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares a stage's setting on the component of its settings record: its name, help, default and range, written
 * once. {@link StageSettings} reads these; the command-line options, the recipe's keys, {@code run --explain}, the
 * sweep's keys, the checks and their messages are all made from them. A component without it is not a setting the
 * user gives (a source run id the service fills in, say).
 *
 * <p>Defaults and bounds are written as the user would type them ({@code "1e-3"}, {@code "auto"}) and parsed by the
 * same rules as the user's values, so a default that breaks its own range fails when the class loads.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Setting {
    /** Marks "no default": the setting is null until given (it must then be a reference type). */
    String NO_DEFAULT = "\u0000no default";
    /** Marks "hash against the default". */
    String SAME = "\u0000same";

    /**
     * The setting's name in kebab case: the flag is {@code --name}, the recipe key is the name in snake case
     * ({@code lr-decay}: {@code --lr-decay}, {@code train.lr_decay}). Empty: the component's name in kebab case.
     */
    String name() default "";

    /** One or two sentences for {@code --help}, the recipe reference and {@code --explain}; no default in it. */
    String help();

    /** The default, as the user would write it; {@link #NO_DEFAULT} for none (null). */
    String defaultValue() default NO_DEFAULT;

    /**
     * What configuration hashes compare the setting against when that is not its default: the value it had before
     * its default changed, so that runs made under the old default keep their folders. {@link #SAME}: the default.
     */
    String hashedAs() default SAME;

    /** The value's placeholder in {@code --help}: {@code N}, {@code X}, {@code F}. Empty: made from the type. */
    String label() default "";

    /** Smallest value a number may take ({@link #minExclusive()}: may not equal it). */
    double min() default Double.NEGATIVE_INFINITY;

    boolean minExclusive() default false;

    /** Largest value a number may take ({@link #maxExclusive()}: may not equal it). */
    double max() default Double.POSITIVE_INFINITY;

    boolean maxExclusive() default false;

    /** The only texts a string setting takes (its canonical lower-case forms); empty for any. Enums list their own. */
    String[] choices() default {};

    /** Checks a string (or each element of a list of strings) and gives its canonical form. */
    Class<? extends SettingCheck> check() default NoCheck.class;

    /** Whether {@code squeeze sweep --grid} may vary it. */
    boolean sweep() default true;

    /** The default {@link #check()}: accepts any non-empty text as it is. */
    final class NoCheck implements SettingCheck {
        @Override
        public String apply(String text) {
            return text;
        }

        @Override
        public String accepts() {
            return "a non-empty string";
        }
    }
}
