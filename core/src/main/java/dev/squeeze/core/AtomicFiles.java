package dev.squeeze.core;


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
 * interrupted run never leaves a half-written file that later loads as if whole. A failed write removes its
 * temporary file and any file named after it ({@link #scratch}); a full disk is reported as a
 * {@link DiskFullException} naming the file and the disk.
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

    /**
     * A second scratch file for a writer that needs one (e.g. to let a library write a file it then copies):
     * named after the temporary file {@code tmp} it was given, so a failed write removes it too. The caller
     * deletes it when done.
     */
    public static Path scratch(Path tmp, String suffix) {
        return tmp.resolveSibling(tmp.getFileName() + "." + suffix);
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
        } catch (IOException | RuntimeException e) {
            // Removed before the exception leaves, so a full disk has room again for the ledger to record it.
            removeTemporaries(tmp);
            tmp = null;
            IOException full = DiskFullException.diskFullCause(e);
            if (full != null) throw new DiskFullException(target, full);
            if (e instanceof IOException io) {
                throw new UncheckedIOException("could not write " + target + ": " + e.getMessage(), io);
            }
            throw (RuntimeException) e;
        } finally {
            removeTemporaries(tmp);
        }
    }

    /** Deletes {@code tmp} and the {@linkplain #scratch scratch files} named after it. */
    private static void removeTemporaries(Path tmp) {
        if (tmp == null) return;
        String prefix = tmp.getFileName() + ".";
        try (var siblings = Files.list(tmp.getParent())) {
            for (Path p : siblings.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException ignored) {
            // the original failure is the one worth reporting
        }
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // as above
        }
    }

    public static void writeString(Path target, String text) {
        write(target, file -> Files.writeString(file, text, StandardCharsets.UTF_8));
    }

    /** Copies {@code source} onto {@code target} the same way: a reader of {@code target} never sees half a copy. */
    public static void copy(Path source, Path target) {
        write(target, file -> Files.copy(source, file, StandardCopyOption.REPLACE_EXISTING));
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
