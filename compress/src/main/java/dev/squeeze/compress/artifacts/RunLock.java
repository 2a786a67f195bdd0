package dev.squeeze.compress.artifacts;

import dev.squeeze.models.BadInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock on a run, held while a process writes into its folder, so two processes given the
 * same configuration (two terminals, parallel sweep trials) never write the same checkpoints at once.
 * The operating system releases it when the process dies, however it dies.
 */
public final class RunLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Locks {@code paths}' run, or fails at once with a {@link BadInputException} when another process holds it. */
    public static RunLock acquire(RunPaths paths) {
        Path dir = paths.dir();
        FileChannel channel = null;
        try {
            Files.createDirectories(paths.lockFile().getParent());
            channel = FileChannel.open(paths.lockFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) throw taken(dir);
            return new RunLock(channel, lock);
        } catch (OverlappingFileLockException e) {
            close(channel);
            throw taken(dir);
        } catch (IOException e) {
            close(channel);
            throw new UncheckedIOException("cannot lock run folder " + dir + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close(channel);
            throw e;
        }
    }

    private static BadInputException taken(Path dir) {
        return new BadInputException("another squeeze process is running this exact configuration in " + dir
                + "; wait for it to finish (then the same command reuses its result), or change a setting");
    }

    private static void close(FileChannel channel) {
        if (channel == null) return;
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing held
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
