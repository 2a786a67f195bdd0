package dev.squeeze.compress.artifacts;

/**
 * The code commit recorded with every run. The {@code squeeze} launcher passes
 * {@code -Dsqueeze.commit=<sha>[+dirty]}; run another way, it is {@code unknown}.
 */
public final class CodeVersion {
    public static final String PROPERTY = "squeeze.commit";

    private CodeVersion() {
    }

    public static String commit() {
        String commit = System.getProperty(PROPERTY);
        return commit == null || commit.isBlank() ? "unknown" : commit;
    }
}
