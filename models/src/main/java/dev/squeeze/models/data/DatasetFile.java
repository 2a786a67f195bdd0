package dev.squeeze.models.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * One file of a dataset, as named on the server and on disk, and the SHA-256 a download of it must have.
 *
 * @param fileName the name, e.g. {@code train-images-idx3-ubyte.gz}
 * @param sha256   64 lower-case hex digits
 * @param hashOf   what {@code sha256} is a hash of
 */
public record DatasetFile(String fileName, String sha256, HashOf hashOf) {

    /** What a {@link DatasetFile#sha256()} covers. */
    public enum HashOf {
        /**
         * The decompressed IDX bytes. Preferred: any re-compression of the same data verifies (Debian's
         * package re-gzips the upstream files, so their gz bytes differ from the official ones).
         */
        CONTENT,
        /** The file's bytes exactly as served, e.g. the {@code .gz} itself (all that is published for MNIST). */
        FILE
    }

    public DatasetFile {
        if (fileName == null || fileName.isBlank() || fileName.contains("/")) {
            throw new IllegalArgumentException("a dataset file needs a plain file name, got " + fileName);
        }
        if (sha256 == null || !sha256.matches("(?i)[0-9a-f]{64}")) {
            throw new IllegalArgumentException(fileName + ": sha256 must be 64 hex digits, got " + sha256);
        }
        if (hashOf == null) throw new IllegalArgumentException(fileName + ": hashOf is required");
        sha256 = sha256.toLowerCase(Locale.ROOT);
    }

    /** The name without a trailing {@code .gz}: what the file is called once someone has gunzipped it. */
    public String uncompressedName() {
        return fileName.endsWith(".gz") ? fileName.substring(0, fileName.length() - 3) : fileName;
    }

    /**
     * This file inside {@code dir}: {@link #fileName()} if present, else the {@link #uncompressedName()}
     * (readers detect gzip by its magic bytes, so a gunzipped copy reads just as well).
     */
    public Optional<Path> find(Path dir) {
        for (String name : new String[]{fileName, uncompressedName()}) {
            Path candidate = dir.resolve(name);
            if (Files.isRegularFile(candidate)) return Optional.of(candidate);
        }
        return Optional.empty();
    }

    /** The SHA-256 of {@code file} taken the way {@link #hashOf()} says, as lower-case hex. */
    public String sha256Of(Path file) throws IOException {
        MessageDigest digest = newSha256();
        try (InputStream in = hashOf == HashOf.CONTENT
                ? IdxReader.openContent(file)
                : new BufferedInputStream(Files.newInputStream(file))) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) >= 0; ) digest.update(buffer, 0, n);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** "decompressed content" or "file bytes": what the hash is of, for messages. */
    public String hashDescription() {
        return hashOf == HashOf.CONTENT ? "decompressed content" : "file bytes";
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime provides SHA-256", e);
        }
    }
}
