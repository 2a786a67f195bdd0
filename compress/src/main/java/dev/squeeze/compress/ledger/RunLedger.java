package dev.squeeze.compress.ledger;

import dev.squeeze.core.BadInputException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The experiment ledger: one row per run in a database reached over JDBC.
 *
 * <p>{@link #open(String)} takes a file path (or {@code jdbc:sqlite:FILE}) for an embedded SQLite file, or a
 * {@code jdbc:postgresql://HOST:PORT/DB} URL for a shared PostgreSQL database. The schema is created on first
 * use and upgraded by numbered migrations recorded in {@code schema_version}, so later versions can add
 * columns to old ledgers. The SQL is the same for both databases; only column collation differs, and is
 * fixed to byte order on PostgreSQL so that sorting and prefix matching agree with SQLite.
 *
 * <p>SQLite files run in WAL mode with a 30 s busy timeout, so trials in parallel threads or processes,
 * each with its own {@code RunLedger}, can write to one file. WAL needs a local disk, not a network share.
 *
 * <p>Every run holds a lock named after its id while it runs ({@link RunLiveness}); opening a ledger for writing
 * marks {@link RunStatus#KILLED killed} any {@code running} row whose lock nobody holds, since its process
 * died without a word. Each row is also copied into its run folder, so {@link #rebuild} can restore a lost
 * ledger; an existing file that is not a readable ledger (0 bytes, damaged) is refused, never started over.
 * {@link Access#READ_ONLY} opens without writing anything, for listing a ledger on a read-only disk.
 *
 * <p>An instance is thread-safe (operations on its one connection are serialized) and must be closed.
 * User mistakes (an unknown run id, an unwritable path, a bad URL) throw {@link BadInputException} with one
 * line saying what to do; database failures underneath throw {@link LedgerException}.
 */
public final class RunLedger implements AutoCloseable {

    /** Environment variable holding the PostgreSQL user when the URL has no {@code user=}. */
    public static final String USER_ENV = "SQUEEZE_LEDGER_USER";
    /** Environment variable holding the PostgreSQL password when the URL has no {@code password=}. */
    public static final String PASSWORD_ENV = "SQUEEZE_LEDGER_PASSWORD";

    private static final Logger log = LoggerFactory.getLogger(RunLedger.class);

    private static final String SQLITE_PREFIX = "jdbc:sqlite:";
    private static final String POSTGRES_PREFIX = "jdbc:postgresql:";
    private static final int BUSY_TIMEOUT_MS = 30_000;
    private static final int ID_ATTEMPTS = 5;
    private static final String SELECT_ALL = "SELECT " + String.join(", ", RunRecord.COLUMNS) + " FROM runs";
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * Schema migrations; version {@code i + 1} is {@code MIGRATIONS.get(i)}. Append, never edit: old ledgers
     * have already run the earlier ones. {@code {text}} is the dialect's text column type.
     */
    static final List<List<String>> MIGRATIONS = List.of(
            List.of("""
                    CREATE TABLE runs (
                      id {text} PRIMARY KEY,
                      parent_id {text},
                      started_at {text} NOT NULL,
                      ended_at {text},
                      status {text} NOT NULL,
                      code_commit {text},
                      config_hash {text},
                      config_json {text},
                      model {text},
                      dataset {text},
                      stage {text} NOT NULL,
                      train_acc DOUBLE PRECISION,
                      val_acc DOUBLE PRECISION,
                      test_acc DOUBLE PRECISION,
                      params BIGINT,
                      nonzero_params BIGINT,
                      file_bytes BIGINT,
                      artifact_dir {text},
                      notes {text},
                      sweep_id {text}
                    )""",
                    "CREATE INDEX runs_config_hash ON runs (config_hash, started_at)",
                    "CREATE INDEX runs_started_at ON runs (started_at)",
                    "CREATE INDEX runs_sweep_id ON runs (sweep_id)"),
            // 2: stage-specific measurements as JSON (a pruning level's per-layer sparsity, early-stop iteration, time)
            List.of("ALTER TABLE runs ADD COLUMN details {text}"),
            // 3: who ran it (SQUEEZE_USER, --by, the OS user), and the killed or interrupted row a run resumed
            List.of("ALTER TABLE runs ADD COLUMN run_by {text}",
                    "ALTER TABLE runs ADD COLUMN resumes {text}",
                    "CREATE INDEX runs_run_by ON runs (run_by)"));

    /** Whether a ledger is opened to record runs or only to read them. */
    public enum Access {
        /** Creates and migrates the ledger as needed, and marks killed runs. */
        READ_WRITE,
        /** Writes nothing, not even SQLite's side files: an older schema is read as it is, killed runs stay as found. */
        READ_ONLY
    }

    /** What {@link #rebuild} did. */
    public record Rebuilt(int restored, int alreadyThere, Path movedAside) {
    }

    /** What differs between the two databases: kept to column types and the migration lock. */
    private enum Dialect {
        SQLITE("TEXT"),
        // "C" collation: byte order, as SQLite's BINARY, whatever locale the database was created with.
        POSTGRES("TEXT COLLATE \"C\"");

        final String textType;

        Dialect(String textType) {
            this.textType = textType;
        }

        /** Serializes concurrent first opens. SQLite needs nothing: its transactions begin IMMEDIATE. */
        void lockForMigration(Statement statement) throws SQLException {
            if (this == POSTGRES) statement.execute("SELECT pg_advisory_xact_lock(7365762656)");
        }
    }

    private final Connection connection;
    private final Dialect dialect;
    private final String description;
    private final Clock clock;
    private final Supplier<String> ids;
    private final String experimenter;
    private final RunLiveness liveness;
    private final Access access;
    private final Object lock = new Object();
    /** The SELECT for whole rows: every column, or NULL for those an old ledger opened read-only lacks. */
    private String select = SELECT_ALL;
    private boolean closed;

    private RunLedger(Connection connection, Dialect dialect, String description, Clock clock, Supplier<String> ids,
                      String experimenter, RunLiveness liveness, Access access) {
        this.connection = connection;
        this.dialect = dialect;
        this.description = description;
        this.clock = clock;
        this.ids = ids;
        this.experimenter = experimenter == null || experimenter.isBlank() ? osUser() : experimenter.strip();
        this.liveness = access == Access.READ_ONLY ? RunLiveness.NONE : liveness;
        this.access = access;
    }

    /** The operating system's name for the user running this JVM: who ran a run when nobody says otherwise. */
    public static String osUser() {
        return System.getProperty("user.name");
    }

    /** Opens (creating if needed) the ledger at {@code location}; PostgreSQL credentials may come from the environment. */
    public static RunLedger open(String location) {
        return open(location, System.getenv());
    }

    /**
     * Opens (creating if needed) the ledger at {@code location}.
     *
     * @param location a file path or {@code jdbc:sqlite:FILE} (SQLite; missing folders are created), or
     *                 {@code jdbc:postgresql://HOST[:PORT]/DB[?user=U&password=P]}
     * @param env      environment to read {@value #USER_ENV} and {@value #PASSWORD_ENV} from, used for
     *                 PostgreSQL when the URL names no user or password
     * @throws BadInputException if the location is malformed, unwritable or unreachable
     */
    public static RunLedger open(String location, Map<String, String> env) {
        return open(location, env, null);
    }

    /**
     * As {@link #open(String, Map)}, recording new runs as run by {@code experimenter} (null: {@link #osUser()}).
     */
    public static RunLedger open(String location, Map<String, String> env, String experimenter) {
        return open(location, env, Clock.systemUTC(), RunLedger::randomId, experimenter, Access.READ_WRITE);
    }

    /** Opens the ledger at {@code location} for recording or only for reading. */
    public static RunLedger open(String location, Access access) {
        return open(location, System.getenv(), Clock.systemUTC(), RunLedger::randomId, null, access);
    }

    /**
     * Opens the ledger at {@code location} to list it: for writing where it can be written (so killed runs are
     * marked first), read-only where it cannot (a read-only disk or folder). A ledger file that does not exist
     * yet reads as one with no runs, and is not created.
     */
    public static RunLedger openForListing(String location) {
        Path file = plainSqliteFile(location);
        boolean writable = file == null || Files.isWritable(file.toAbsolutePath().getParent())
                && (!Files.exists(file) || Files.isWritable(file));
        return open(location, writable && (file == null || Files.exists(file)) ? Access.READ_WRITE : Access.READ_ONLY);
    }

    /** As {@link #open(String, Map)}, with the clock and id source under test control. */
    static RunLedger open(String location, Map<String, String> env, Clock clock, Supplier<String> ids) {
        return open(location, env, clock, ids, null, Access.READ_WRITE);
    }

    static RunLedger open(String location, Map<String, String> env, Clock clock, Supplier<String> ids,
                          String experimenter, Access access) {
        if (location == null || location.isBlank()) {
            throw new BadInputException("no ledger location given; use a file path, jdbc:sqlite:FILE or "
                    + "jdbc:postgresql://HOST:PORT/DB");
        }
        String trimmed = location.trim();
        RunLedger ledger;
        if (trimmed.startsWith(POSTGRES_PREFIX)) {
            Connection connection = connectPostgres(trimmed, env);
            ledger = new RunLedger(connection, Dialect.POSTGRES, redact(trimmed), clock, ids, experimenter,
                    RunLiveness.postgres(connection), access);
        } else if (trimmed.startsWith(SQLITE_PREFIX)) {
            ledger = openSqlite(trimmed.substring(SQLITE_PREFIX.length()), clock, ids, experimenter, access);
        } else if (trimmed.startsWith("jdbc:")) {
            throw new BadInputException("unsupported ledger URL " + redact(trimmed)
                    + "; use a file path, jdbc:sqlite:FILE or jdbc:postgresql://HOST:PORT/DB");
        } else {
            ledger = openSqlite(trimmed, clock, ids, experimenter, access);
        }
        try {
            if (ledger.access == Access.READ_WRITE) {
                ledger.migrate();
                ledger.markKilledRuns();
            } else {
                ledger.readAsItIs();
            }
        } catch (RuntimeException e) {
            ledger.close();
            throw e;
        }
        return ledger;
    }

    /** Where this ledger lives, with any password masked: for messages. */
    public String location() {
        return description;
    }

    /** Whether it was opened {@link Access#READ_ONLY read-only}. */
    public boolean readOnly() {
        return access == Access.READ_ONLY;
    }

    /** Who the runs this ledger starts are recorded as run by. */
    public String experimenter() {
        return experimenter;
    }

    /**
     * Restores the ledger at {@code location} from the row copies in the run folders under {@code runsRoot}: rows
     * the ledger lacks are added as they were last copied (a run that was still running comes back
     * {@code running}, then {@code killed} when no process holds it). An SQLite file that is not a readable ledger
     * is moved aside first (renamed, never deleted) and a new one made.
     */
    public static Rebuilt rebuild(String location, Path runsRoot) {
        Path movedAside = null;
        RunLedger opened;
        try {
            opened = open(location);
        } catch (UnreadableLedgerException e) {
            if (e.file == null) throw e;
            movedAside = moveAside(e.file);
            opened = open(location);
        }
        try (RunLedger ledger = opened) {
            int restored = 0;
            int present = 0;
            for (Map<String, Object> row : RunFolderRows.readAll(runsRoot)) {
                if (ledger.exists((String) row.get("id"))) present++;
                else if (ledger.restore(row)) restored++;
            }
            ledger.markKilledRuns();
            return new Rebuilt(restored, present, movedAside);
        }
    }

    /**
     * Records the start of a run: status {@code running}, a fresh id, the current time, this ledger's
     * {@linkplain #experimenter() experimenter}. The run's lock is held until it finishes or fails, or this
     * ledger closes.
     */
    public RunRecord start(NewRun run) {
        synchronized (lock) {
            requireWritable("record a run");
            if (run.parentId() != null && find(run.parentId()).isEmpty()) {
                throw new BadInputException("parent run '" + run.parentId() + "' is not in ledger " + description);
            }
            String sql = "INSERT INTO runs (id, parent_id, started_at, status, code_commit, config_hash, config_json,"
                    + " model, dataset, stage, artifact_dir, notes, sweep_id, run_by, resumes)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
            for (int attempt = 1; ; attempt++) {
                String id = ids.get();
                // Locked before the row exists, so no other process ever sees it running and unheld.
                if (!liveness.hold(id)) {
                    if (attempt < ID_ATTEMPTS) continue;
                    throw new LedgerException("ledger " + description + ": no free run id after " + attempt + " tries");
                }
                try (PreparedStatement insert = prepare(sql)) {
                    bind(insert, id, run.parentId(), now(), RunStatus.RUNNING.text(), run.codeCommit(),
                            run.configHash(), run.configJson(), run.model(), run.dataset(), run.stage(),
                            run.artifactDir(), blankToNull(run.notes()), run.sweepId(), experimenter, run.resumes());
                    insert.executeUpdate();
                    RunRecord started = find(id).orElseThrow(() -> new LedgerException("run " + id + " vanished after insert"));
                    RunFolderRows.write(started);
                    return started;
                } catch (SQLException e) {
                    liveness.release(id);
                    // An id collision (32 random bits) is rare but possible; any other failure is real.
                    if (attempt < ID_ATTEMPTS && exists(id)) {
                        log.debug("run id {} taken, drawing another", id);
                        continue;
                    }
                    throw failure("recording the start of a " + run.stage() + " run", e);
                }
            }
        }
    }

    /** Marks run {@code id} (or a unique prefix) done, with its results and end time. */
    public void finish(String id, RunResult result) {
        synchronized (lock) {
            requireWritable("finish a run");
            String full = resolve(id);
            update("finishing run " + id, "UPDATE runs SET status = ?, ended_at = ?, train_acc = ?, val_acc = ?,"
                            + " test_acc = ?, params = ?, nonzero_params = ?, file_bytes = ?, details = ? WHERE id = ?",
                    RunStatus.DONE.text(), now(), result.trainAcc(), result.valAcc(), result.testAcc(),
                    result.params(), result.nonzeroParams(), result.fileBytes(), result.details(), full);
            liveness.release(full);
            copyToRunFolder(full);
        }
    }

    /**
     * Marks run {@code id} (or a unique prefix) {@linkplain RunStatus#FAILED failed} or
     * {@linkplain RunStatus#INTERRUPTED interrupted} and appends {@code reason} to its notes.
     */
    public void fail(String id, RunStatus status, String reason) {
        if (status != RunStatus.FAILED && status != RunStatus.INTERRUPTED) {
            throw new IllegalArgumentException("a run can fail as failed or interrupted, not " + status.text());
        }
        synchronized (lock) {
            requireWritable("mark a run " + status.text());
            String full = resolve(id);
            update("marking run " + full + " " + status.text(),
                    "UPDATE runs SET status = ?, ended_at = ? WHERE id = ?", status.text(), now(), full);
            if (reason != null && !reason.isBlank()) appendNote(full, reason);
            liveness.release(full);
            copyToRunFolder(full);
        }
    }

    /**
     * Makes run {@code id} (or a unique prefix) part of sweep {@code sweepId} if it belongs to no sweep yet: a
     * sweep that reuses an earlier identical run claims it, but never takes a run from another sweep.
     *
     * @return whether the run was tagged (false: it already belonged to a sweep, possibly this one)
     */
    public boolean tagSweep(String id, String sweepId) {
        if (sweepId == null || sweepId.isBlank()) throw new IllegalArgumentException("no sweep id given");
        synchronized (lock) {
            requireWritable("tag a run");
            String full = resolve(id);
            // One conditional statement, so two sweeps claiming the same run at once cannot both win.
            try (PreparedStatement statement = prepare("UPDATE runs SET sweep_id = ? WHERE id = ? AND sweep_id IS NULL")) {
                bind(statement, sweepId.strip(), full);
                boolean tagged = statement.executeUpdate() == 1;
                if (tagged) copyToRunFolder(full);
                return tagged;
            } catch (SQLException e) {
                throw failure("tagging run " + full + " with sweep " + sweepId, e);
            }
        }
    }

    /** Appends a line of {@code text} to the notes of run {@code id} (or a unique prefix). */
    public void addNote(String id, String text) {
        if (text == null || text.isBlank()) throw new BadInputException("a note needs some text");
        synchronized (lock) {
            requireWritable("add a note");
            String full = resolve(id);
            appendNote(full, text);
            copyToRunFolder(full);
        }
    }

    /**
     * The run with id {@code idOrPrefix}, or the only run whose id starts with it; empty when none matches.
     *
     * @throws BadInputException if the prefix is empty or matches several runs (they are listed)
     */
    public Optional<RunRecord> get(String idOrPrefix) {
        String wanted = idOrPrefix == null ? "" : idOrPrefix.trim().toLowerCase(Locale.ROOT);
        if (wanted.isEmpty()) throw new BadInputException("no run id given");
        synchronized (lock) {
            Optional<RunRecord> exact = find(wanted);
            if (exact.isPresent()) return exact;
            List<RunRecord> matches = select(select + " WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 6",
                    wanted.length(), wanted);
            if (matches.size() > 1) {
                throw new BadInputException("run id prefix '" + wanted + "' is ambiguous: it matches "
                        + matches.stream().map(RunRecord::id).limit(5).collect(Collectors.joining(", "))
                        + (matches.size() > 5 ? ", ..." : "") + "; give more characters");
            }
            return matches.stream().findFirst();
        }
    }

    /**
     * The most recently started run with configuration hash {@code configHash}, whatever its status or stage:
     * callers resuming a stage check both ({@link ConfigHash} does not hash the stage).
     */
    public Optional<RunRecord> latestByHash(String configHash) {
        if (configHash == null) throw new IllegalArgumentException("configHash is null");
        synchronized (lock) {
            return select(select + " WHERE config_hash = ? ORDER BY started_at DESC, id DESC LIMIT 1", configHash)
                    .stream().findFirst();
        }
    }

    /** The runs matching {@code query}'s filters, in its order; ties go newest first. */
    public List<RunRecord> query(RunQuery query) {
        StringBuilder sql = new StringBuilder(select).append(" WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        filter(sql, args, "model", query.model());
        filter(sql, args, "dataset", query.dataset());
        filter(sql, args, "stage", query.stage());
        filter(sql, args, "status", query.status() == null ? null : query.status().text());
        filter(sql, args, "sweep_id", query.sweepId());
        filter(sql, args, "run_by", query.runBy());
        // sortBy is one of RunRecord.COLUMNS (RunQuery checks), so splicing it in is safe. NULLS LAST is spelled
        // out because the two databases disagree on where nulls go by default.
        sql.append(" ORDER BY ").append(query.sortBy()).append(query.descending() ? " DESC" : " ASC")
                .append(" NULLS LAST, started_at DESC, id DESC");
        if (query.limit() > 0) {
            sql.append(" LIMIT ?");
            args.add(query.limit());
        }
        synchronized (lock) {
            return select(sql.toString(), args.toArray());
        }
    }

    /** Closes the connection; later calls fail. Closing twice is harmless. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) return;
            closed = true;
            liveness.releaseAll();
            try {
                connection.close();
            } catch (SQLException e) {
                log.warn("closing ledger {}: {}", description, e.getMessage());
            }
        }
    }

    // ---- opening -------------------------------------------------------------------------------------------

    private static RunLedger openSqlite(String target, Clock clock, Supplier<String> ids, String experimenter,
                                        Access access) {
        int query = target.indexOf('?');
        String pathText = query < 0 ? target : target.substring(0, query);
        if (pathText.isBlank()) {
            // SQLite would quietly open a temporary database that vanishes on close.
            throw new BadInputException("no ledger file given in " + SQLITE_PREFIX + target + "; use jdbc:sqlite:FILE");
        }
        // ":memory:" and "file:" URIs are SQLite's business; only plain paths get folders made for them.
        boolean plainPath = !pathText.equals(":memory:") && !pathText.startsWith("file:");
        RunLiveness liveness = RunLiveness.NONE;
        if (plainPath) {
            Path file = checkedPath(pathText);
            if (access == Access.READ_ONLY && !Files.exists(file)) {
                // Nothing recorded yet: read as an empty ledger, and create nothing.
                RunLedger empty = new RunLedger(connectSqlite(":memory:", pathText, Access.READ_WRITE), Dialect.SQLITE,
                        pathText, clock, ids, experimenter, RunLiveness.NONE, Access.READ_WRITE);
                empty.migrate();
                return new RunLedger(empty.connection, Dialect.SQLITE, pathText, clock, ids, experimenter,
                        RunLiveness.NONE, Access.READ_ONLY);
            }
            if (access == Access.READ_WRITE) {
                prepareFile(pathText, file);
                if (!Files.exists(file)) createAtomically(file, clock);
            }
            try {
                if (Files.size(file) == 0) {
                    throw new UnreadableLedgerException(file, "ledger " + pathText + " is empty (0 bytes)");
                }
            } catch (IOException e) {
                throw new BadInputException("cannot read ledger file " + pathText + ": " + e.getMessage(), e);
            }
            if (access == Access.READ_WRITE) liveness = RunLiveness.files(file.getParent().resolve(".locks"));
        }
        Connection connection = connectSqlite(target, pathText, access);
        if (access == Access.READ_ONLY && plainPath && !canOpenWal(connection)) {
            connection = connectImmutable(checkedPath(pathText), pathText, connection);
        }
        return new RunLedger(connection, Dialect.SQLITE, pathText, clock, ids, experimenter, liveness, access);
    }

    /**
     * Whether SQLite can read through {@code connection}: reading a WAL file needs its {@code -shm} index,
     * which SQLite cannot create in a read-only folder.
     */
    private static boolean canOpenWal(Connection connection) {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT COUNT(*) FROM sqlite_master")) {
            return rs.next();
        } catch (SQLException e) {
            return !String.valueOf(e.getMessage()).contains("SQLITE_CANTOPEN");
        }
    }

    /**
     * Opens {@code file} as immutable: SQLite reads it without locks or the WAL index, which works in a
     * read-only folder. Changes still in a {@code -wal} file (a writer that died before its checkpoint) are not
     * seen, and a warning says so.
     */
    private static Connection connectImmutable(Path file, String pathText, Connection failed) {
        try {
            failed.close();
        } catch (SQLException e) {
            log.debug("closing {}: {}", pathText, e.getMessage());
        }
        Path wal = Path.of(file + "-wal");
        try {
            if (Files.exists(wal) && Files.size(wal) > 0) {
                log.warn("ledger {} has changes in {} that cannot be read from a read-only folder; the latest runs "
                        + "may be missing from this listing", pathText, wal);
            }
        } catch (IOException e) {
            log.debug("checking {}: {}", wal, e.getMessage());
        }
        return connectSqlite("file:" + file.toUri().getRawPath() + "?immutable=1", pathText, Access.READ_ONLY);
    }

    private static Connection connectSqlite(String target, String pathText, Access access) {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        if (access == Access.READ_ONLY) {
            config.setReadOnly(true);
        } else {
            config.setJournalMode(SQLiteConfig.JournalMode.WAL);
            config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL); // durable enough with WAL, much faster
            // BEGIN IMMEDIATE: a transaction takes the write lock up front (waiting on busy_timeout) instead of
            // failing with SQLITE_BUSY when it later upgrades from reading to writing.
            config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        }
        try {
            return DriverManager.getConnection(SQLITE_PREFIX + target, config.toProperties());
        } catch (SQLException e) {
            if (isNotALedger(e)) {
                throw new UnreadableLedgerException(checkedPath(pathText), "ledger " + pathText
                        + " is not a readable SQLite database (" + firstLine(e) + ")");
            }
            throw new BadInputException("cannot open ledger file " + pathText + ": " + firstLine(e), e);
        }
    }

    /**
     * Creates a new ledger file whole: made and migrated under a temporary name, then linked into place. A
     * process that opens the ledger at the same moment thus finds either no file or a complete one, never the
     * 0-byte file that SQLite creates first, which this class refuses as a lost ledger.
     */
    private static void createAtomically(Path file, Clock clock) {
        Path temporary = file.resolveSibling("." + file.getFileName() + "." + randomId() + ".creating");
        try {
            new RunLedger(connectSqlite(temporary.toString(), temporary.toString(), Access.READ_WRITE), Dialect.SQLITE,
                    file.toString(), clock, RunLedger::randomId, null, RunLiveness.NONE, Access.READ_WRITE)
                    .migrateAndClose();
            try {
                Files.createLink(file, temporary);
            } catch (FileAlreadyExistsException e) {
                log.debug("ledger {} was created by another process meanwhile", file);
            } catch (UnsupportedOperationException | IOException e) {
                // A file system without hard links: a plain rename, which refuses to replace an existing file.
                try {
                    Files.move(temporary, file);
                } catch (FileAlreadyExistsException raced) {
                    log.debug("ledger {} was created by another process meanwhile", file);
                }
            }
        } catch (IOException e) {
            throw new BadInputException("cannot create ledger file " + file + ": " + e.getMessage(), e);
        } finally {
            for (String suffix : List.of("", "-wal", "-shm", "-journal")) {
                try {
                    Files.deleteIfExists(Path.of(temporary + suffix));
                } catch (IOException e) {
                    log.debug("removing {}: {}", temporary + suffix, e.getMessage());
                }
            }
        }
    }

    private void migrateAndClose() {
        try {
            migrate();
        } finally {
            close();
        }
    }

    /** The plain file path {@code location} names, or null for PostgreSQL, in-memory and URI locations. */
    private static Path plainSqliteFile(String location) {
        if (location == null || location.isBlank()) return null;
        String target = location.trim();
        if (target.startsWith(SQLITE_PREFIX)) target = target.substring(SQLITE_PREFIX.length());
        else if (target.startsWith("jdbc:")) return null;
        int query = target.indexOf('?');
        String pathText = query < 0 ? target : target.substring(0, query);
        if (pathText.isBlank() || pathText.equals(":memory:") || pathText.startsWith("file:")) return null;
        return checkedPath(pathText);
    }

    private static Path checkedPath(String pathText) {
        try {
            return Path.of(pathText).toAbsolutePath();
        } catch (InvalidPathException e) {
            throw new BadInputException("ledger path '" + pathText + "' is not a valid path: " + e.getReason(), e);
        }
    }

    /** Renames a broken ledger file (and SQLite's side files) aside, so nothing of it is lost. */
    private static Path moveAside(Path file) {
        String stamp = java.time.format.DateTimeFormatter.ofPattern("uuuuMMdd-HHmmss")
                .withZone(java.time.ZoneOffset.UTC).format(Instant.now());
        Path aside = file.resolveSibling(file.getFileName() + ".broken-" + stamp);
        try {
            Files.move(file, aside);
            for (String suffix : List.of("-wal", "-shm")) {
                Path side = Path.of(file + suffix);
                if (Files.exists(side)) Files.move(side, Path.of(aside + suffix));
            }
            return aside;
        } catch (IOException e) {
            throw new BadInputException("cannot move the broken ledger " + file + " aside to " + aside + ": "
                    + e.getMessage() + "; move it yourself, then run 'squeeze runs --rebuild' again", e);
        }
    }

    /** Makes the ledger file's folder and checks the file can be written, for a message better than SQLite's. */
    private static void prepareFile(String pathText, Path file) {
        if (Files.isDirectory(file)) {
            throw new BadInputException("ledger path " + pathText + " is a folder; give a file such as "
                    + Path.of(pathText).resolve("ledger.db"));
        }
        Path folder = file.getParent();
        try {
            Files.createDirectories(folder);
        } catch (FileAlreadyExistsException e) {
            throw new BadInputException("cannot create the ledger folder " + folder + ": " + e.getFile()
                    + " exists and is not a folder", e);
        } catch (AccessDeniedException e) {
            throw new BadInputException("cannot create the ledger folder " + folder + ": permission denied on "
                    + e.getFile(), e);
        } catch (IOException e) {
            throw new BadInputException("cannot create the ledger folder " + folder + ": " + e.getMessage(), e);
        }
        if (Files.exists(file) ? !Files.isWritable(file) : !Files.isWritable(folder)) {
            throw new BadInputException("ledger " + pathText + " is not writable; choose another with --ledger "
                    + "(squeeze runs still lists it)");
        }
    }

    private static Connection connectPostgres(String url, Map<String, String> env) {
        Properties properties = new Properties();
        String query = url.contains("?") ? url.substring(url.indexOf('?') + 1) : "";
        if (!hasParameter(query, "user") && env.get(USER_ENV) != null) properties.setProperty("user", env.get(USER_ENV));
        if (!hasParameter(query, "password") && env.get(PASSWORD_ENV) != null) {
            properties.setProperty("password", env.get(PASSWORD_ENV));
        }
        if (!hasParameter(query, "connectTimeout")) properties.setProperty("connectTimeout", "10");
        properties.setProperty("ApplicationName", "squeeze");
        try {
            return DriverManager.getConnection(url, properties);
        } catch (SQLException e) {
            // A URL the driver cannot parse is reported as "Unable to parse URL" or, by DriverManager when the
            // driver declines it, "No suitable driver"; both messages repeat the URL, password and all.
            String message = firstLine(e);
            String why = message.startsWith("Unable to parse URL") || message.startsWith("No suitable driver")
                    ? "not a valid PostgreSQL URL (jdbc:postgresql://HOST:PORT/DB?user=U&password=P)"
                    : redact(message);
            throw new BadInputException("cannot open ledger " + redact(url) + ": " + why, e);
        }
    }

    private static boolean hasParameter(String query, String name) {
        for (String pair : query.split("&")) {
            if (pair.startsWith(name + "=")) return true;
        }
        return false;
    }

    /** The URL with its password masked, safe to print. */
    static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    /** Brings the schema up to the newest version, once, even when several processes open at the same moment. */
    private void migrate() {
        synchronized (lock) {
            try {
                connection.setAutoCommit(false);
                try (Statement statement = connection.createStatement()) {
                    dialect.lockForMigration(statement);
                    statement.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                            + "version INTEGER PRIMARY KEY, applied_at " + dialect.textType + " NOT NULL)");
                    int current = schemaVersion(statement);
                    if (current == 0 && hasRunsTable(statement)) {
                        // Runs without a recorded schema: not something this class wrote; never build over it.
                        throw unreadable("ledger " + description + " has a runs table but no schema_version");
                    }
                    for (int version = current + 1; version <= MIGRATIONS.size(); version++) {
                        for (String sql : MIGRATIONS.get(version - 1)) {
                            statement.execute(sql.replace("{text}", dialect.textType));
                        }
                        try (PreparedStatement record = prepare("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)")) {
                            bind(record, version, now());
                            record.executeUpdate();
                        }
                        log.debug("ledger {}: schema migrated to version {}", description, version);
                    }
                }
                connection.commit();
            } catch (SQLException e) {
                rollbackQuietly();
                if (isNotALedger(e)) throw unreadable("ledger " + description + " is not a readable SQLite database (" + firstLine(e) + ")");
                throw new BadInputException("cannot set up ledger " + description + ": " + firstLine(e), e);
            } catch (RuntimeException e) {
                rollbackQuietly();
                throw e;
            } finally {
                try {
                    connection.setAutoCommit(true);
                } catch (SQLException e) {
                    log.debug("restoring autocommit on {}: {}", description, e.getMessage());
                }
            }
        }
    }

    private int schemaVersion(Statement statement) throws SQLException {
        int current;
        try (ResultSet rs = statement.executeQuery("SELECT MAX(version) FROM schema_version")) {
            rs.next();
            current = rs.getInt(1);
        }
        if (current > MIGRATIONS.size()) {
            throw new BadInputException("ledger " + description + " has schema version " + current
                    + " but this Squeeze knows only up to " + MIGRATIONS.size() + "; use a newer Squeeze");
        }
        return current;
    }

    private boolean hasRunsTable(Statement statement) throws SQLException {
        String sql = dialect == Dialect.SQLITE
                ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'runs'"
                : "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'runs'";
        try (ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1) > 0;
        }
    }

    private static boolean isNotALedger(SQLException e) {
        String message = String.valueOf(e.getMessage());
        return message.contains("SQLITE_NOTADB") || message.contains("SQLITE_CORRUPT");
    }

    private UnreadableLedgerException unreadable(String what) {
        return new UnreadableLedgerException(dialect == Dialect.SQLITE ? checkedPath(description) : null, what);
    }

    /**
     * A ledger file that exists but cannot be read as a ledger. Never started over: that would lose its history.
     * The message says how to recover.
     */
    static final class UnreadableLedgerException extends BadInputException {
        /** The SQLite file, which {@link #rebuild} may move aside; null for PostgreSQL. */
        final Path file;

        UnreadableLedgerException(Path file, String what) {
            super(what + "; nothing was changed: 'squeeze runs --rebuild' moves it aside and restores the runs "
                    + "from the run folders, or choose another ledger with --ledger");
            this.file = file;
        }
    }

    /**
     * Read-only: checks the schema is one this Squeeze knows, and reads an older one as it is, its missing
     * columns as null, since migrating would write.
     */
    private void readAsItIs() {
        synchronized (lock) {
            try (Statement statement = connection.createStatement()) {
                schemaVersion(statement);
                java.util.Set<String> present = new java.util.HashSet<>();
                try (ResultSet rs = statement.executeQuery("SELECT * FROM runs WHERE 1 = 0")) {
                    var meta = rs.getMetaData();
                    for (int c = 1; c <= meta.getColumnCount(); c++) present.add(meta.getColumnName(c).toLowerCase(Locale.ROOT));
                }
                if (!present.containsAll(RunRecord.COLUMNS)) {
                    String columns = RunRecord.COLUMNS.stream().map(c -> present.contains(c) ? c : "NULL AS " + c)
                            .collect(Collectors.joining(", "));
                    // Wrapped, so that filters and sorting may name the missing columns too.
                    select = "SELECT * FROM (SELECT " + columns + " FROM runs) AS runs";
                }
            } catch (SQLException e) {
                if (isNotALedger(e)) throw unreadable("ledger " + description + " is not a readable SQLite database (" + firstLine(e) + ")");
                throw new BadInputException("cannot read ledger " + description + ": " + firstLine(e), e);
            }
        }
    }

    /**
     * Marks {@link RunStatus#KILLED killed} every {@code running} row whose lock nobody holds: its process died
     * without a word. A failure here only delays the marking to the next open.
     */
    private void markKilledRuns() {
        synchronized (lock) {
            try {
                for (RunRecord run : select(select + " WHERE status = ?", RunStatus.RUNNING.text())) {
                    if (!liveness.isAbandoned(run.id())) continue;
                    String noticed = now();
                    try (PreparedStatement statement = prepare("UPDATE runs SET status = ? WHERE id = ? AND status = ?")) {
                        bind(statement, RunStatus.KILLED.text(), run.id(), RunStatus.RUNNING.text());
                        if (statement.executeUpdate() != 1) continue; // it ended meanwhile
                    }
                    appendNote(run.id(), "killed: no process held this run when noticed at " + noticed
                            + " (SIGKILL or power loss)");
                    copyToRunFolder(run.id());
                    log.info("run {} ({}) was killed: marked so in ledger {}", run.id(), run.stage(), description);
                }
            } catch (SQLException | LedgerException e) {
                log.warn("ledger {}: cannot mark killed runs now: {}", description, e.getMessage());
            }
        }
    }

    /** Inserts a row copied from a run folder as it was; false (and a warning) for a copy missing what a row needs. */
    private boolean restore(Map<String, Object> row) {
        Object[] values = new Object[RunRecord.COLUMNS.size()];
        for (int i = 0; i < values.length; i++) {
            String column = RunRecord.COLUMNS.get(i);
            Object value = row.get(column);
            if (value instanceof Number n) {
                value = column.endsWith("_acc") ? (Object) n.doubleValue() : (Object) n.longValue();
            } else if (value != null && !(value instanceof String)) {
                value = String.valueOf(value);
            }
            values[i] = value;
        }
        Object status = row.get("status");
        if (row.get("started_at") == null || row.get("stage") == null || !(status instanceof String)) {
            log.warn("skipping the copy of run {}: it lacks a start time, stage or status", row.get("id"));
            return false;
        }
        RunStatus.parse((String) status);
        String sql = "INSERT INTO runs (" + String.join(", ", RunRecord.COLUMNS) + ") VALUES ("
                + RunRecord.COLUMNS.stream().map(c -> "?").collect(Collectors.joining(", ")) + ")";
        synchronized (lock) {
            try (PreparedStatement insert = prepare(sql)) {
                bind(insert, values);
                insert.executeUpdate();
                return true;
            } catch (SQLException e) {
                throw failure("restoring run " + row.get("id"), e);
            }
        }
    }

    private void requireWritable(String what) {
        if (access == Access.READ_ONLY) {
            throw new IllegalStateException("ledger " + description + " was opened read-only; cannot " + what);
        }
    }

    /** Rewrites run {@code id}'s copy in its run folder ({@link RunFolderRows}). */
    private void copyToRunFolder(String id) {
        find(id).ifPresent(RunFolderRows::write);
    }

    private void rollbackQuietly() {
        try {
            connection.rollback();
        } catch (SQLException e) {
            log.debug("rollback on {}: {}", description, e.getMessage());
        }
    }

    // ---- statements ----------------------------------------------------------------------------------------

    private void appendNote(String id, String text) {
        // One statement, so concurrent notes on the same run cannot lose each other.
        update("adding a note to run " + id,
                "UPDATE runs SET notes = CASE WHEN notes IS NULL OR notes = '' THEN ? ELSE notes || ? END WHERE id = ?",
                text.strip(), "\n" + text.strip(), id);
    }

    /** The full id of the run {@code idOrPrefix} names; a {@link BadInputException} when there is none. */
    private String resolve(String idOrPrefix) {
        return get(idOrPrefix).map(RunRecord::id).orElseThrow(() -> new BadInputException(
                "no run with id '" + idOrPrefix + "' in ledger " + description + " (squeeze runs lists them)"));
    }

    private Optional<RunRecord> find(String id) {
        return select(select + " WHERE id = ?", id).stream().findFirst();
    }

    private boolean exists(String id) {
        try {
            return find(id).isPresent();
        } catch (LedgerException e) {
            return false;
        }
    }

    private static void filter(StringBuilder sql, List<Object> args, String column, String value) {
        if (value != null) {
            sql.append(" AND ").append(column).append(" = ?");
            args.add(value);
        }
    }

    private void update(String what, String sql, Object... args) {
        try (PreparedStatement statement = prepare(sql)) {
            bind(statement, args);
            if (statement.executeUpdate() != 1) throw new LedgerException(what + ": no such row in " + description);
        } catch (SQLException e) {
            throw failure(what, e);
        }
    }

    private List<RunRecord> select(String sql, Object... args) {
        try (PreparedStatement statement = prepare(sql)) {
            bind(statement, args);
            List<RunRecord> runs = new ArrayList<>();
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) runs.add(row(rs));
            }
            return runs;
        } catch (SQLException e) {
            throw failure("reading runs", e);
        }
    }

    private PreparedStatement prepare(String sql) throws SQLException {
        if (closed) throw new IllegalStateException("ledger " + description + " is closed");
        return connection.prepareStatement(sql);
    }

    private static void bind(PreparedStatement statement, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object arg = args[i];
            int index = i + 1;
            // Types.NULL leaves the type unspecified, so PostgreSQL takes it from the column (a VARCHAR null
            // would be refused for a DOUBLE PRECISION column); SQLite ignores the type.
            if (arg == null) statement.setNull(index, Types.NULL);
            else if (arg instanceof String s) statement.setString(index, s);
            else if (arg instanceof Integer n) statement.setInt(index, n);
            else if (arg instanceof Long n) statement.setLong(index, n);
            else if (arg instanceof Double d) statement.setDouble(index, d);
            else throw new IllegalArgumentException("cannot bind a " + arg.getClass().getName());
        }
    }

    private static RunRecord row(ResultSet rs) throws SQLException {
        return new RunRecord(rs.getString("id"), rs.getString("parent_id"), instant(rs.getString("started_at")),
                instant(rs.getString("ended_at")), RunStatus.parse(rs.getString("status")),
                rs.getString("code_commit"), rs.getString("config_hash"), rs.getString("config_json"),
                rs.getString("model"), rs.getString("dataset"), rs.getString("stage"),
                nullableDouble(rs, "train_acc"), nullableDouble(rs, "val_acc"), nullableDouble(rs, "test_acc"),
                nullableLong(rs, "params"), nullableLong(rs, "nonzero_params"), nullableLong(rs, "file_bytes"),
                rs.getString("artifact_dir"), rs.getString("notes"), rs.getString("sweep_id"), rs.getString("details"),
                rs.getString("run_by"), rs.getString("resumes"));
    }

    private static Double nullableDouble(ResultSet rs, String column) throws SQLException {
        double value = rs.getDouble(column);
        return rs.wasNull() ? null : value;
    }

    private static Long nullableLong(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? null : value;
    }

    private static Instant instant(String text) {
        return text == null ? null : Instant.parse(text);
    }

    private String now() {
        return RunRecord.TIME.format(clock.instant());
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text.strip();
    }

    private LedgerException failure(String what, SQLException e) {
        return new LedgerException("ledger " + description + ": " + what + " failed: " + firstLine(e), e);
    }

    private static String firstLine(SQLException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline).strip();
    }

    private static String randomId() {
        byte[] bytes = new byte[4];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
