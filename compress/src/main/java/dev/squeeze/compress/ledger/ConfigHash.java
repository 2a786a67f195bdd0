package dev.squeeze.compress.ledger;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The identity of a run's configuration, as open_lth names its run folders: a hash of only the settings that
 * differ from their defaults.
 *
 * <p>Given a configuration record and a defaults instance of the same record, the hashed text is the
 * {@linkplain CanonicalJson canonical JSON} object of the components whose canonical value differs from the
 * default's, keys sorted by name. So:
 * <ul>
 *   <li>the same recipe always hashes the same, so it lands in the same run folder
 *       ({@code RunPaths.of(root, stage, hash)}: {@code <stage>-<hash>});</li>
 *   <li>adding a component to the record, with a default, leaves every existing hash unchanged;</li>
 *   <li>a component without a sensible default (a model name) has default {@code null} and is therefore
 *       always part of the hash once set.</li>
 * </ul>
 * Nested records are compared component by component against the nested default, so the same holds inside
 * them. The record's type name is not hashed (renaming or versioning the record must not move old runs);
 * the run folder's stage prefix and the ledger's {@code stage} column tell stages apart.
 *
 * @param value       the first {@value #LENGTH} hex characters of SHA-256 over {@code hashedJson}
 * @param hashedJson  the canonical JSON of the non-default components (what was hashed)
 * @param configJson  the canonical JSON of every component, defaults included (what the ledger stores)
 */
public record ConfigHash(String value, String hashedJson, String configJson) {

    /** Hex characters kept from the SHA-256: 48 bits, ample for the recipes one team ever runs. */
    public static final int LENGTH = 12;

    private static final Pattern HEX = Pattern.compile("[0-9a-f]{" + LENGTH + "}");

    public ConfigHash {
        Objects.requireNonNull(hashedJson, "hashedJson");
        Objects.requireNonNull(configJson, "configJson");
        if (value == null || !HEX.matcher(value).matches()) {
            throw new IllegalArgumentException("a config hash is " + LENGTH + " lowercase hex characters, got " + value);
        }
    }

    /**
     * Hashes {@code config} against {@code defaults}.
     *
     * @throws IllegalArgumentException if the two are not the same record class, or a component holds a value
     *                                  {@link CanonicalJson} cannot write
     */
    public static <R extends Record> ConfigHash of(R config, R defaults) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(defaults, "defaults");
        if (config.getClass() != defaults.getClass()) {
            throw new IllegalArgumentException("defaults must be a " + config.getClass().getSimpleName()
                    + ", got a " + defaults.getClass().getSimpleName());
        }
        String hashed = CanonicalJson.write(nonDefault(CanonicalJson.components(config), CanonicalJson.components(defaults)));
        return new ConfigHash(sha256Prefix(hashed), hashed, CanonicalJson.write(config));
    }

    /**
     * Hashes a configuration written as a tree of maps (name to value, or to a nested map) against the tree of its
     * defaults, by the same rule: nested maps and records are compared entry by entry.
     */
    public static ConfigHash of(Map<String, ?> config, Map<String, ?> defaults) {
        String hashed = CanonicalJson.write(nonDefault(config, defaults));
        return new ConfigHash(sha256Prefix(hashed), hashed, CanonicalJson.write(config));
    }

    @Override
    public String toString() {
        return value;
    }

    /** Entries of {@code values} whose canonical value differs from {@code defaultValues}', by name. */
    private static Map<String, Object> nonDefault(Map<String, ?> values, Map<String, ?> defaultValues) {
        Map<String, Object> differing = new TreeMap<>();
        values.forEach((name, value) -> {
            Object fallback = defaultValues.get(name);
            Map<String, ?> inner = null;
            if (value instanceof Record nested && fallback != null && nested.getClass() == fallback.getClass()) {
                inner = nonDefault(CanonicalJson.components(nested), CanonicalJson.components((Record) fallback));
            } else if (value instanceof Map<?, ?> nested && fallback instanceof Map<?, ?> nestedDefaults) {
                inner = nonDefault(stringKeys(nested), stringKeys(nestedDefaults));
            }
            if (inner != null) {
                if (!inner.isEmpty()) differing.put(name, inner);
            } else if (!CanonicalJson.write(value).equals(CanonicalJson.write(fallback))) {
                // Compare canonical text, not equals(): arrays compare by identity, and 1.0f vs 1.0 by type.
                differing.put(name, value);
            }
        });
        return differing;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, ?> stringKeys(Map<?, ?> map) {
        return (Map<String, ?>) map;
    }

    private static String sha256Prefix(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, LENGTH);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
