package dev.squeeze.compress.doctor;

/** A check's outcome. Only {@link #FAIL} makes {@code squeeze doctor} exit non-zero. */
public enum Verdict {
    PASS, WARN, FAIL;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
