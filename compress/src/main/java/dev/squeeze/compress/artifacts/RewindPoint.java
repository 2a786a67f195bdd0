package dev.squeeze.compress.artifacts;

import dev.squeeze.core.BadInputException;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where surviving weights are rewound to: iteration 0 (the initialisation, Frankle &amp; Carbin), or an early
 * iteration k (late rewinding, Frankle et al. 2020), given as {@code 500it} or in epochs as {@code 1ep}.
 */
public record RewindPoint(long count, boolean epochs) {
    private static final Pattern FORM = Pattern.compile("(\\d+)(it|ep)?");

    public static final RewindPoint INIT = new RewindPoint(0, false);

    public static RewindPoint parse(String text) {
        Matcher m = FORM.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new BadInputException("--rewind-to must be 0, an iteration like 500it, or an epoch like 1ep; got '"
                    + text + "'");
        }
        long n = Long.parseLong(m.group(1));
        return n == 0 ? INIT : new RewindPoint(n, "ep".equals(m.group(2)));
    }

    /** The optimizer step this point is after, for {@code stepsPerEpoch} steps an epoch. */
    public long iteration(int stepsPerEpoch) {
        return epochs ? count * stepsPerEpoch : count;
    }

    /** The canonical text: {@code 0}, {@code 500it}, {@code 1ep}. */
    public String label() {
        return count == 0 ? "0" : count + (epochs ? "ep" : "it");
    }

    @Override
    public String toString() {
        return label();
    }
}
