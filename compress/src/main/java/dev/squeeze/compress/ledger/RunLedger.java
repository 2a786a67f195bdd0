package dev.squeeze.compress.ledger;

import dev.squeeze.models.BadInputException;
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
    private static final String SELECT = "SELECT " + String.join(", ", RunRecord.COLUMNS) + " FROM runs";
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * Schema migrations; version {@code i + 1} is {@code MIGRATIONS.get(i)}. Append, never edit: old ledgers
     * have already run the earlier ones. {@code {text}} is the dialect's text column type.
     */
    private static final List<List<String>> MIGRATIONS = List.of(
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
            List.of("ALTER TABLE runs ADD COLUMN details {text}"));

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
    private final Object lock = new Object();
    private boolean closed;

    private RunLedger(Connection connection, Dialect dialect, String description, Clock clock, Supplier<String> ids) {
        this.connection = connection;
        this.dialect = dialect;
        this.description = description;
        this.clock = clock;
        this.ids = ids;
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
        return open(location, env, Clock.systemUTC(), RunLedger::randomId);
    }

    /** As {@link #open(String, Map)}, with the clock and id source under test control. */
    static RunLedger open(String location, Map<String, String> env, Clock clock, Supplier<String> ids) {
        if (location == null || location.isBlank()) {
            throw new BadInputException("no ledger location given; use a file path, jdbc:sqlite:FILE or "
                    + "jdbc:postgresql://HOST:PORT/DB");
        }
        String trimmed = location.trim();
        RunLedger ledger;
        if (trimmed.startsWith(POSTGRES_PREFIX)) {
            ledger = new RunLedger(connectPostgres(trimmed, env), Dialect.POSTGRES, redact(trimmed), clock, ids);
        } else if (trimmed.startsWith(SQLITE_PREFIX)) {
            ledger = openSqlite(trimmed.substring(SQLITE_PREFIX.length()), clock, ids);
        } else if (trimmed.startsWith("jdbc:")) {
            throw new BadInputException("unsupported ledger URL " + redact(trimmed)
                    + "; use a file path, jdbc:sqlite:FILE or jdbc:postgresql://HOST:PORT/DB");
        } else {
            ledger = openSqlite(trimmed, clock, ids);
        }
        try {
            ledger.migrate();
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

    /** Records the start of a run: status {@code running}, a fresh id, the current time. */
    public RunRecord start(NewRun run) {
        synchronized (lock) {
            if (run.parentId() != null && find(run.parentId()).isEmpty()) {
                throw new BadInputException("parent run '" + run.parentId() + "' is not in ledger " + description);
            }
            String sql = "INSERT INTO runs (id, parent_id, started_at, status, code_commit, config_hash, config_json,"
                    + " model, dataset, stage, artifact_dir, notes, sweep_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
            for (int attempt = 1; ; attempt++) {
                String id = ids.get();
                try (PreparedStatement insert = prepare(sql)) {
                    bind(insert, id, run.parentId(), now(), RunStatus.RUNNING.text(), run.codeCommit(),
                            run.configHash(), run.configJson(), run.model(), run.dataset(), run.stage(),
                            run.artifactDir(), blankToNull(run.notes()), run.sweepId());
                    insert.executeUpdate();
                    return find(id).orElseThrow(() -> new LedgerException("run " + id + " vanished after insert"));
                } catch (SQLException e) {
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
            update("finishing run " + id, "UPDATE runs SET status = ?, ended_at = ?, train_acc = ?, val_acc = ?,"
                            + " test_acc = ?, params = ?, nonzero_params = ?, file_bytes = ?, details = ? WHERE id = ?",
                    RunStatus.DONE.text(), now(), result.trainAcc(), result.valAcc(), result.testAcc(),
                    result.params(), result.nonzeroParams(), result.fileBytes(), result.details(), resolve(id));
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
            String full = resolve(id);
            update("marking run " + full + " " + status.text(),
                    "UPDATE runs SET status = ?, ended_at = ? WHERE id = ?", status.text(), now(), full);
            if (reason != null && !reason.isBlank()) appendNote(full, reason);
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
            String full = resolve(id);
            // One conditional statement, so two sweeps claiming the same run at once cannot both win.
            try (PreparedStatement statement = prepare("UPDATE runs SET sweep_id = ? WHERE id = ? AND sweep_id IS NULL")) {
                bind(statement, sweepId.strip(), full);
                return statement.executeUpdate() == 1;
            } catch (SQLException e) {
                throw failure("tagging run " + full + " with sweep " + sweepId, e);
            }
        }
    }

    /** Appends a line of {@code text} to the notes of run {@code id} (or a unique prefix). */
    public void addNote(String id, String text) {
        if (text == null || text.isBlank()) throw new BadInputException("a note needs some text");
        synchronized (lock) {
            appendNote(resolve(id), text);
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
            List<RunRecord> matches = select(SELECT + " WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 6",
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
            return select(SELECT + " WHERE config_hash = ? ORDER BY started_at DESC, id DESC LIMIT 1", configHash)
                    .stream().findFirst();
        }
    }

    /** The runs matching {@code query}'s filters, in its order; ties go newest first. */
    public List<RunRecord> query(RunQuery query) {
        StringBuilder sql = new StringBuilder(SELECT).append(" WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        filter(sql, args, "model", query.model());
        filter(sql, args, "dataset", query.dataset());
        filter(sql, args, "stage", query.stage());
        filter(sql, args, "status", query.status() == null ? null : query.status().text());
        filter(sql, args, "sweep_id", query.sweepId());
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
            try {
                connection.close();
            } catch (SQLException e) {
                log.warn("closing ledger {}: {}", description, e.getMessage());
            }
        }
    }

    // ---- opening -------------------------------------------------------------------------------------------

    private static RunLedger openSqlite(String target, Clock clock, Supplier<String> ids) {
        int query = target.indexOf('?');
        String pathText = query < 0 ? target : target.substring(0, query);
        if (pathText.isBlank()) {
            // SQLite would quietly open a temporary database that vanishes on close.
            throw new BadInputException("no ledger file given in " + SQLITE_PREFIX + target + "; use jdbc:sqlite:FILE");
        }
        // ":memory:" and "file:" URIs are SQLite's business; only plain paths get folders made for them.
        if (!pathText.equals(":memory:") && !pathText.startsWith("file:")) {
            prepareFile(pathText);
        }
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL); // durable enough with WAL, much faster
        // BEGIN IMMEDIATE: a transaction takes the write lock up front (waiting on busy_timeout) instead of
        // failing with SQLITE_BUSY when it later upgrades from reading to writing.
        config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        try {
            Connection connection = DriverManager.getConnection(SQLITE_PREFIX + target, config.toProperties());
            return new RunLedger(connection, Dialect.SQLITE, pathText, clock, ids);
        } catch (SQLException e) {
            throw new BadInputException("cannot open ledger file " + pathText + ": " + firstLine(e), e);
        }
    }

    /** Makes the ledger file's folder and checks the file can be written, for a message better than SQLite's. */
    private static void prepareFile(String pathText) {
        Path file;
        try {
            file = Path.of(pathText).toAbsolutePath();
        } catch (InvalidPathException e) {
            throw new BadInputException("ledger path '" + pathText + "' is not a valid path: " + e.getReason(), e);
        }
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
            throw new BadInputException("ledger " + pathText + " is not writable; choose another path");
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
                    int current;
                    try (ResultSet rs = statement.executeQuery("SELECT MAX(version) FROM schema_version")) {
                        rs.next();
                        current = rs.getInt(1);
                    }
                    if (current > MIGRATIONS.size()) {
                        throw new BadInputException("ledger " + description + " has schema version " + current
                                + " but this Squeeze knows only up to " + MIGRATIONS.size() + "; use a newer Squeeze");
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
        return select(SELECT + " WHERE id = ?", id).stream().findFirst();
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
                rs.getString("artifact_dir"), rs.getString("notes"), rs.getString("sweep_id"), rs.getString("details"));
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
