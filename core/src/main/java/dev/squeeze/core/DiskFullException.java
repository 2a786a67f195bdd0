package dev.squeeze.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A file could not be written because its disk is full (or the user's quota on it is used up). Its one-line message
 * names the file, the disk (mount point and type) and what to do; the partial file is already gone when it is thrown.
 */
public final class DiskFullException extends UncheckedIOException {

    public DiskFullException(Path file, IOException cause) {
        super(describe(file), cause);
    }

    /** Whether {@code e}, or an exception it was caused by, is the operating system saying the disk is full. */
    public static IOException diskFullCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IOException io && isDiskFull(io)) return io;
        }
        return null;
    }

    private static boolean isDiskFull(IOException e) {
        String text = e instanceof FileSystemException fs && fs.getReason() != null ? fs.getReason() : e.getMessage();
        if (text == null) return false;
        String lower = text.toLowerCase(Locale.ROOT);
        // ENOSPC and EDQUOT as the JDK spells them on Linux and macOS.
        return lower.contains("no space left on device") || lower.contains("disk quota exceeded");
    }

    private static String describe(Path file) {
        Path absolute = file.toAbsolutePath();
        String disk;
        try {
            Path existing = absolute.getParent();
            while (existing != null && !Files.exists(existing)) existing = existing.getParent();
            FileStore store = Files.getFileStore(existing == null ? absolute.getRoot() : existing);
            // A FileStore prints as "<mount point> (<device or type>)" on Linux. Its free space is not worth showing:
            // the partial file was deleted before this, so it no longer shows how full the disk was.
            disk = "the disk " + store + ", " + size(store.getTotalSpace()) + " in all, is full";
        } catch (IOException | RuntimeException e) {
            disk = "its disk is full";
        }
        return "could not write " + absolute + ": " + disk + "; free some space there, or write to another disk"
                + " (--output DIR, or SQUEEZE_HOME)";
    }

    private static String size(long bytes) {
        return bytes >= 1e9 ? String.format(Locale.ROOT, "%.1f GB", bytes / 1e9)
                : String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
