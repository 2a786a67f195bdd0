package dev.squeeze.compress.artifacts;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes every artifact as a temporary file beside its target, then renames it into place, so an
 * interrupted run never leaves a half-written file that later loads as if whole.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Something that writes a whole file to the path it is given. */
    @FunctionalInterface
    public interface FileWriter {
        void writeTo(Path file) throws IOException;
    }

    private static void readableByAll(Path file) throws IOException {
        if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        }
    }

    /** Has {@code writer} fill a temporary file in {@code target}'s folder, then moves it onto {@code target}. */
    public static void write(Path target, FileWriter writer) {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".partial");
            writer.writeTo(tmp);
            readableByAll(tmp);   // temporary files start as owner-only; the artifact should not (a server may read it)
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + target + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original failure is the one worth reporting
                }
            }
        }
    }

    public static void writeString(Path target, String text) {
        write(target, file -> Files.writeString(file, text, StandardCharsets.UTF_8));
    }

    /** Streams into a temporary file, then moves it into place. */
    public static void writeStream(Path target, StreamWriter writer) {
        write(target, file -> {
            try (OutputStream out = Files.newOutputStream(file)) {
                writer.writeTo(out);
            }
        });
    }

    @FunctionalInterface
    public interface StreamWriter {
        void writeTo(OutputStream out) throws IOException;
    }
}
