package dev.squeeze.compress.artifacts;

import dev.squeeze.core.BadInputException;
import dev.squeeze.core.DiskFullException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An exclusive lock on a run, held while a process writes into its folder, so two processes given the
 * same configuration (two terminals, parallel sweep trials) never write the same checkpoints at once.
 * The operating system releases it when the process dies, however it dies.
 *
 * <p>A run that never started (its input was refused before the run folder was made) deletes its lock file
 * when it lets go, so refused commands leave nothing behind. The file is deleted while still locked, and a
 * process that locked a file just as it was deleted notices (the path no longer names the file it locked) and
 * locks the new one instead: two holders of one run are impossible.
 */
public final class RunLock implements AutoCloseable {
    private final RunPaths paths;
    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(RunPaths paths, FileChannel channel, FileLock lock) {
        this.paths = paths;
        this.channel = channel;
        this.lock = lock;
    }

    /** Locks {@code paths}' run, or fails at once with a {@link BadInputException} when another process holds it. */
    public static RunLock acquire(RunPaths paths) {
        Path dir = paths.dir();
        while (true) {
            FileChannel channel = null;
            try {
                Files.createDirectories(paths.lockFile().getParent());
                channel = FileChannel.open(paths.lockFile(), StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
                FileLock lock = channel.tryLock();
                if (lock == null) throw taken(dir);
                if (stillNamedBy(channel, paths.lockFile())) return new RunLock(paths, channel, lock);
                close(channel); // its last holder deleted it after we opened it: lock the file the path names now
            } catch (OverlappingFileLockException e) {
                close(channel);
                throw taken(dir);
            } catch (IOException e) {
                close(channel);
                IOException full = DiskFullException.diskFullCause(e);
                if (full != null) throw new DiskFullException(paths.lockFile(), full);
                throw new UncheckedIOException("cannot lock run folder " + dir + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                close(channel);
                throw e;
            }
        }
    }

    /**
     * Whether {@code file} still names the file {@code channel} has locked. The holder gives the locked file a size
     * of its own choosing and reads the size back through the path with a stat: only a holder changes or deletes the
     * file, so a file another process created since has another size. (Reading the file back would be simpler, but
     * closing any descriptor of a file releases the whole process's POSIX locks on it.)
     */
    private static boolean stillNamedBy(FileChannel channel, Path file) throws IOException {
        long size = 1 + ThreadLocalRandom.current().nextInt(1 << 16);
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(new byte[]{'\n'}), size - 1); // sparse where the file system allows
        try {
            return Files.size(file) == size;
        } catch (NoSuchFileException e) {
            return false;
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
            try {
                if (!Files.exists(paths.dir())) {
                    // Nothing was written: leave no lock file either. Deleted while still held (see the class comment).
                    Files.deleteIfExists(paths.lockFile());
                }
            } finally {
                lock.release();
                channel.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
