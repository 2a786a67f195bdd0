package dev.squeeze.compress.ledger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Whether a process still works on a {@code running} row: the process that starts a row holds a lock named
 * after its id until the row ends, and the operating system (or PostgreSQL) drops the lock when the process
 * dies, however it dies. A {@code running} row whose lock nobody holds was killed.
 *
 * <p>SQLite: an exclusive file lock on {@code .locks/run-ID.lock} beside the ledger file (all its writers are
 * on this machine: WAL needs a local disk). PostgreSQL: a session advisory lock on the ledger's connection,
 * which works across the team's machines, where a file next to a path would not.
 */
abstract class RunLiveness {

    /** Takes the lock of run {@code id}; false if someone already holds it (an id drawn twice). */
    abstract boolean hold(String id);

    /** Drops the lock of run {@code id} if this process holds it. */
    abstract void release(String id);

    /**
     * True when nobody holds run {@code id}'s lock: its process is gone. Takes and drops the lock to find out, so
     * a later caller finds the same.
     */
    abstract boolean isAbandoned(String id);

    /** Drops every lock this ledger holds. */
    abstract void releaseAll();

    /** For ledgers whose rows nobody else can see (an in-memory database) or that are only read. */
    static final RunLiveness NONE = new RunLiveness() {
        @Override
        boolean hold(String id) {
            return true;
        }

        @Override
        void release(String id) {
        }

        @Override
        boolean isAbandoned(String id) {
            return false;
        }

        @Override
        void releaseAll() {
        }
    };

    /** File locks in {@code folder}. */
    static RunLiveness files(Path folder) {
        return new FileLocks(folder);
    }

    /** Advisory locks on {@code connection}; the caller serializes use of the connection. */
    static RunLiveness postgres(Connection connection) {
        return new AdvisoryLocks(connection);
    }

    private static final class FileLocks extends RunLiveness {
        private static final Logger log = LoggerFactory.getLogger(RunLiveness.class);
        /**
         * The locks this JVM holds, whichever ledger took them. Checked before touching a lock file, because on
         * Linux closing any channel on a file drops every lock the process holds on it.
         */
        private static final Map<Path, FileChannel> HELD = new ConcurrentHashMap<>();

        private final Path folder;
        private final Map<String, Path> mine = new ConcurrentHashMap<>();

        FileLocks(Path folder) {
            this.folder = folder;
        }

        private Path file(String id) {
            return folder.resolve("run-" + id + ".lock");
        }

        @Override
        boolean hold(String id) {
            Path file = file(id);
            if (HELD.containsKey(file)) return false;
            FileChannel channel = null;
            try {
                channel = lock(file);
                if (channel == null) return false;
                HELD.put(file, channel);
                mine.put(id, file);
                return true;
            } catch (OverlappingFileLockException e) {
                return false; // another thread of this JVM took it a moment ago; the channel stays open for it
            } catch (IOException e) {
                // No lock folder (a read-only place): the row is recorded all the same, only unguarded.
                log.warn("cannot lock run {} in {}: {}; if this process dies, the run stays 'running'", id, folder,
                        e.getMessage());
                closeQuietly(channel);
                return true;
            }
        }

        @Override
        void release(String id) {
            Path file = mine.remove(id);
            if (file == null) return;
            FileChannel channel = HELD.remove(file);
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                log.debug("removing lock file {}: {}", file, e.getMessage());
            }
            closeQuietly(channel); // closing releases the lock
        }

        @Override
        boolean isAbandoned(String id) {
            Path file = file(id);
            if (HELD.containsKey(file)) return false;
            FileChannel channel = null;
            try {
                channel = lock(file);
                if (channel == null) return false;
                Files.deleteIfExists(file);
                return true;
            } catch (OverlappingFileLockException e) {
                return false;
            } catch (IOException e) {
                log.debug("cannot check the lock of run {}: {}", id, e.getMessage());
                return false;
            } finally {
                closeQuietly(channel);
            }
        }

        @Override
        void releaseAll() {
            for (String id : mine.keySet()) release(id);
        }

        /** A channel holding {@code file}'s lock, or null (and nothing left open) when another process holds it. */
        private FileChannel lock(Path file) throws IOException {
            Files.createDirectories(folder);
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                if (channel.tryLock() != null) return channel;
            } catch (IOException e) {
                closeQuietly(channel);
                throw e;
            } // an OverlappingFileLockException leaves the channel open: closing it would drop the other thread's lock
            closeQuietly(channel);
            return null;
        }

        private static void closeQuietly(FileChannel channel) {
            if (channel == null) return;
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing more to release
            }
        }
    }

    private static final class AdvisoryLocks extends RunLiveness {
        /** First key of the two-key advisory locks: "SQ". Two-key and one-key locks never collide. */
        private static final int KEY_SPACE = 0x5351;

        private final Connection connection;
        private final java.util.Set<String> mine = ConcurrentHashMap.newKeySet();

        AdvisoryLocks(Connection connection) {
            this.connection = connection;
        }

        private static int key(String id) {
            try {
                return Integer.parseUnsignedInt(id, 16);
            } catch (NumberFormatException e) {
                return id.hashCode();
            }
        }

        private boolean call(String function, String id) {
            try (PreparedStatement statement = connection.prepareStatement("SELECT " + function + "(?, ?)")) {
                statement.setInt(1, KEY_SPACE);
                statement.setInt(2, key(id));
                try (ResultSet rs = statement.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            } catch (SQLException e) {
                throw new LedgerException("ledger: " + function + " for run " + id + " failed: " + e.getMessage(), e);
            }
        }

        @Override
        boolean hold(String id) {
            if (!call("pg_try_advisory_lock", id)) return false;
            mine.add(id);
            return true;
        }

        @Override
        void release(String id) {
            if (mine.remove(id)) call("pg_advisory_unlock", id);
        }

        @Override
        boolean isAbandoned(String id) {
            if (!call("pg_try_advisory_lock", id)) return false;
            call("pg_advisory_unlock", id);
            return true;
        }

        @Override
        void releaseAll() {
            if (mine.isEmpty()) return;
            mine.clear();
            // Closing the connection would end the session and its locks too, but the server notices a moment
            // later; unlocking now means a process that opens the ledger right after sees the runs as ended.
            try (PreparedStatement statement = connection.prepareStatement("SELECT pg_advisory_unlock_all()")) {
                statement.execute();
            } catch (SQLException e) {
                // the connection is gone, and its locks with it
            }
        }
    }
}
