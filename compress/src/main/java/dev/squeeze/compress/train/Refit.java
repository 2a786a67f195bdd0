package dev.squeeze.compress.train;

import dev.squeeze.core.BadInputException;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Whether training ends by training a fresh network on the training and validation examples together, for as
 * many epochs as the validation split chose, keeping its last weights. A plain loop trains on every example the
 * user has; the guarded trainer holds a tenth out to decide when to stop and which weights to keep, and on a
 * small dataset that tenth is worth more test accuracy than the guarding gains (BENCHMARKS.md, issue 17).
 */
public enum Refit {
    /** Refit when the training split holds fewer than {@link #AUTO_BELOW} examples. */
    AUTO,
    ALWAYS,
    NEVER;

    /**
     * Below this many training examples {@link #AUTO} refits: an epoch takes seconds there, and the held-out tenth
     * costs the most (half a point of test accuracy at 2,000 Fashion-MNIST examples). Above it the tenth costs less
     * than the noise between seeds, and a refit would double a run of several minutes.
     */
    public static final int AUTO_BELOW = 20_000;

    /** Whether a run with {@code trainExamples} in its training split (validation excluded) refits. */
    public boolean appliesTo(int trainExamples) {
        return this == ALWAYS || this == AUTO && trainExamples < AUTO_BELOW;
    }

    /** {@code auto}, {@code always} or {@code never}, as {@code --refit} takes it. */
    public static Refit parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--refit must be one of " + Arrays.stream(values())
                    .map(r -> r.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")) + ", got '" + text + "'");
        }
    }
}
