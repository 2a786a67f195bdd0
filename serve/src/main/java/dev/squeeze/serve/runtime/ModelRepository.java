package dev.squeeze.serve.runtime;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * The server's model folder: one sub-folder per model, {@code DIR/<name>/model.onnx} and optionally
 * {@code DIR/<name>/config.json} ({@code {"max_batch_size": 32, "max_queue_delay_us": 2000, "intra_op_threads": 1}},
 * every key optional, unknown keys rejected). Any ONNX model whose inputs and outputs are tensors is served.
 *
 * <p>{@link #start(Duration)} loads what is there and then polls the folder (file size, modification time and file
 * key of {@code model.onnx}, and {@code config.json}'s content), which works on every filesystem: a new folder is
 * loaded; a changed {@code model.onnx} or {@code config.json} is loaded as a new version while the old one keeps
 * serving, and replaces it atomically once loaded; a broken replacement is rejected (the old version keeps serving,
 * the {@linkplain #index() index} shows why); a folder that disappears is unloaded. Files that changed since the
 * previous poll are not loaded until they stay unchanged for one poll interval, so a model still being copied is not
 * loaded half-written. Deploy tools should still write {@code model.onnx} elsewhere and rename it into place.
 *
 * <p>Versions are reference-counted: {@link #acquire(String)} leases the current version, and a version that was
 * replaced or unloaded is closed when its last lease is closed. {@link Listener}s hear of each version once when it
 * loads (before it serves) and once when it is gone (after its last lease, before its ONNX Runtime session closes).
 *
 * <p>Names given by users are checked before anything is looked up: a model name is 1 to 128 letters, digits,
 * {@code .}, {@code _} or {@code -}, starting with a letter or digit ({@link RepositoryNameException} otherwise), and
 * no file outside the folder is ever read: a model folder, {@code model.onnx} or {@code config.json} that is a
 * symbolic link leading outside it is not followed. Thread-safe.
 */
public final class ModelRepository implements AutoCloseable {

    /** Hears of each loaded version exactly once when it loads and once when it is gone. */
    public interface Listener {
        /**
         * A version loaded; called before it is served (before any lease on it). A listener that throws rejects the
         * version: it is closed (listeners already told hear {@link #unloaded}) and the load fails with the message.
         */
        void loaded(LoadedModel model);

        /**
         * A version is gone: replaced or unloaded, and its last lease is closed. Called before its session closes,
         * on the thread that closed the last lease (or the one that replaced or unloaded it).
         */
        void unloaded(LoadedModel model);
    }

    /** No such model, or it is not ready (HTTP 404). The message names the model and lists the ready ones. */
    public static class ModelNotFoundException extends BadRequestException {
        private final String model;

        public ModelNotFoundException(String model, String message) {
            super(message);
            this.model = model;
        }

        /** The model asked for. */
        public String model() {
            return model;
        }
    }

    public static final String MODEL_FILE = "model.onnx";
    public static final String CONFIG_FILE = "config.json";
    /** What a model name (its folder's name) must match. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final String NAME_RULE = "a model name is 1 to 128 letters, digits, '.', '_' or '-', "
            + "starting with a letter or digit";
    private static final int MAX_CONFIG_BYTES = 64 * 1024;
    private static final int MAX_LISTED = 50;

    private static final Logger log = LoggerFactory.getLogger(ModelRepository.class);
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Path dir;
    private final Path realDir;
    private final ModelConfig defaults;
    private final ConcurrentHashMap<String, Slot> slots = new ConcurrentHashMap<>();
    /** Folders whose names are not model names, as listed by the last scan. */
    private volatile Map<String, RepositoryEntry> skipped = Map.of();

    private final List<Listener> listeners = new ArrayList<>(); // guarded by itself
    private boolean listenersFrozen; // guarded by listeners

    private final Object lifecycle = new Object();
    private boolean started; // guarded by lifecycle
    private ScheduledExecutorService poller; // guarded by lifecycle
    private volatile boolean closed;

    /**
     * @param dir      the model folder; must exist
     * @param defaults how models without a {@code config.json} (or keys missing from it) are served
     * @throws IllegalArgumentException when {@code dir} does not exist or is not a folder
     */
    public ModelRepository(Path dir, ModelConfig defaults) {
        Objects.requireNonNull(dir, "dir");
        this.defaults = Objects.requireNonNull(defaults, "defaults");
        if (!Files.exists(dir)) throw new IllegalArgumentException("model repository " + dir + " does not exist");
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("model repository " + dir + " is not a folder");
        this.dir = dir.toAbsolutePath().normalize();
        try {
            this.realDir = this.dir.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException("model repository " + dir + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** The model folder. */
    public Path dir() {
        return dir;
    }

    /**
     * Adds a listener. Listeners must be added before the first version loads (before {@link #start} or
     * {@link #load}), so that each hears of every version.
     *
     * @throws IllegalStateException when a version has already begun loading
     */
    public void addListener(Listener listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (listeners) {
            if (listenersFrozen) throw new IllegalStateException("listeners must be added before the first model loads");
            listeners.add(listener);
        }
    }

    /**
     * Loads every model in the folder now (returning when each has loaded or failed), then watches the folder.
     *
     * @param pollInterval how often the folder is checked for changes; {@link Duration#ZERO} loads once and does
     *                     not watch
     */
    public void start(Duration pollInterval) {
        Objects.requireNonNull(pollInterval, "pollInterval");
        if (pollInterval.isNegative()) throw new IllegalArgumentException("poll interval cannot be negative: " + pollInterval);
        synchronized (lifecycle) {
            if (closed) throw new IllegalStateException("model repository is closed");
            if (started) throw new IllegalStateException("model repository already started");
            started = true;
        }
        poll(true);
        if (pollInterval.isZero()) return;
        long nanos = Math.max(pollInterval.toNanos(), TimeUnit.MILLISECONDS.toNanos(1));
        synchronized (lifecycle) {
            if (closed) return;
            poller = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "model-repository-poll");
                t.setDaemon(true);
                return t;
            });
            poller.scheduleWithFixedDelay(this::pollQuietly, nanos, nanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Every model folder, sorted by name, including folders that cannot be served (with the reason). */
    public List<RepositoryEntry> index() {
        Map<String, RepositoryEntry> out = new TreeMap<>(skipped);
        for (Slot slot : slots.values()) {
            RepositoryEntry e = slot.status;
            if (e != null) out.put(e.name(), e);
        }
        return List.copyOf(out.values());
    }

    /** The index entry of one model, or null when there is no such folder. */
    public RepositoryEntry entry(String name) {
        checkName(name);
        Slot slot = slots.get(name);
        return slot == null ? null : slot.status;
    }

    /**
     * Leases the version of {@code name} now serving; close the lease when done.
     *
     * @throws RepositoryNameException when {@code name} is not a model name
     * @throws ModelNotFoundException  when there is no such model or it is not ready
     */
    public ModelLease acquire(String name) {
        checkName(name);
        Slot slot = slots.get(name);
        if (slot != null) {
            while (true) {
                Version v = slot.current;
                if (v == null) break;
                if (v.retain()) return new ModelLease(v.model, v::release);
                // v was replaced or unloaded between the read and the retain: read again
                Thread.onSpinWait();
            }
        }
        throw notFound(name, slot);
    }

    /**
     * Loads {@code name}'s files now (a new version if one is serving), without waiting for them to stop changing.
     * When the load fails, the version serving (if any) keeps serving.
     *
     * @return the model's entry after the load
     * @throws RepositoryNameException when {@code name} is not a model name
     * @throws ModelNotFoundException  when there is no such folder
     * @throws BadRequestException     with the reason, when the files cannot be loaded
     */
    public RepositoryEntry load(String name) {
        checkName(name);
        ensureOpen();
        Slot slot = slots.get(name);
        if (slot == null) {
            if (observe(name).kind == Kind.ABSENT) throw notFound(name, null);
            slot = slots.computeIfAbsent(name, Slot::new);
        }
        slot.lock.lock();
        try {
            ensureOpen();
            slot.pending = null;
            slot.apply(observe(name), true);
            return slot.entry();
        } finally {
            slot.lock.unlock();
        }
    }

    /**
     * Stops serving {@code name}: requests already holding a lease finish, then the version closes. The model stays
     * in the index (UNAVAILABLE) and comes back on {@link #load} or when its files change.
     *
     * @return the model's entry after the unload
     * @throws RepositoryNameException when {@code name} is not a model name
     * @throws ModelNotFoundException  when there is no such model
     */
    public RepositoryEntry unload(String name) {
        checkName(name);
        Slot slot = slots.get(name);
        if (slot == null || slot.status == null) throw notFound(name, slot);
        slot.lock.lock();
        try {
            slot.retire();
            slot.seen = observe(name);
            slot.pending = null;
            slot.reason = "unloaded; load it, or change its files, to serve it again";
            slot.publish();
            log.info("{}: unloaded", name);
            return slot.entry();
        } finally {
            slot.lock.unlock();
        }
    }

    /**
     * Stops watching and unloads every model; each version closes once its last lease is closed. Waits for loads in
     * progress to end.
     */
    @Override
    public void close() {
        ScheduledExecutorService p;
        synchronized (lifecycle) {
            if (closed) return;
            closed = true;
            p = poller;
        }
        if (p != null) p.shutdown();
        for (Slot slot : slots.values()) {
            slot.lock.lock();
            try {
                slot.retire();
                slot.pending = null;
                slot.reason = "model repository closed";
                slot.publish();
            } finally {
                slot.lock.unlock();
            }
        }
    }

    /**
     * Checks a user-given model name.
     *
     * @return the name
     * @throws RepositoryNameException when it is not a model name
     */
    public static String checkName(String name) {
        if (name == null || name.isEmpty()) throw new RepositoryNameException("the model name is empty; " + NAME_RULE);
        if (!NAME.matcher(name).matches()) {
            throw new RepositoryNameException("'" + printable(name) + "' is not a model name: " + NAME_RULE);
        }
        return name;
    }

    // ---------------------------------------------------------------------------------------------------------------

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("model repository is closed");
    }

    /** The folder of a checked name, which stays inside the repository. */
    private Path folder(String name) {
        Path folder = dir.resolve(name).normalize();
        if (!dir.equals(folder.getParent())) {
            throw new RepositoryNameException("'" + printable(name) + "' is not a model name: " + NAME_RULE);
        }
        return folder;
    }

    private ModelNotFoundException notFound(String name, Slot slot) {
        RepositoryEntry e = slot == null ? null : slot.status;
        List<String> ready = new ArrayList<>();
        for (Slot s : slots.values()) if (s.current != null) ready.add(s.name);
        ready.sort(Comparator.naturalOrder());
        String list = ready.isEmpty() ? "none" : ready.size() <= MAX_LISTED ? String.join(", ", ready)
                : String.join(", ", ready.subList(0, MAX_LISTED)) + " and " + (ready.size() - MAX_LISTED) + " more";
        String what = e == null ? (closed ? "model repository is closed; no model '" + name + "'"
                : "no model '" + name + "' in the model repository")
                : "model '" + name + "' is not ready (" + e.state() + (e.reason().isEmpty() ? "" : ": " + e.reason()) + ")";
        return new ModelNotFoundException(name, what + "; ready models: " + list);
    }

    /** One poll, as the watcher does it (for tests: changes load on the second poll that sees them). */
    void pollOnce() {
        poll(false);
    }

    private void pollQuietly() {
        try {
            poll(false);
        } catch (Throwable t) {
            log.error("model repository poll failed: {}", t.toString(), t);
        }
    }

    /** One look at the folder; {@code immediate} loads changes at once instead of waiting for them to settle. */
    private void poll(boolean immediate) {
        if (closed) return;
        Set<String> names = new TreeSet<>();
        Map<String, RepositoryEntry> skip = new TreeMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (!Files.isDirectory(p)) continue; // plain files beside the model folders are not models
                if (!NAME.matcher(name).matches()) {
                    skip.put(name, new RepositoryEntry(name, 0, ModelState.UNAVAILABLE, "folder '" + printable(name)
                            + "' is skipped: " + NAME_RULE));
                } else {
                    names.add(name);
                }
            }
        } catch (IOException | DirectoryIteratorException e) {
            // keep serving what is loaded: a folder that cannot be listed for a moment is not a folder emptied
            log.warn("cannot list model repository {}: {}", dir, e.toString());
            return;
        }
        skipped = Map.copyOf(skip);
        names.addAll(slots.keySet());
        for (String name : names) {
            if (closed) return;
            Slot slot = slots.get(name);
            if (slot == null) {
                if (observe(name).kind == Kind.ABSENT) continue;
                slot = slots.computeIfAbsent(name, Slot::new);
            }
            if (!slot.lock.tryLock()) continue; // an explicit load or unload is at work on it; look again next time
            try {
                if (closed) return;
                slot.poll(immediate);
            } catch (RuntimeException e) {
                log.error("{}: {}", name, e.toString(), e);
            } finally {
                slot.lock.unlock();
            }
        }
    }

    private enum Kind { ABSENT, BROKEN, FILES }

    /**
     * What a model folder holds, as far as change detection goes: two equal observations mean nothing changed.
     *
     * @param problem    why the folder cannot be served (BROKEN)
     * @param model      model.onnx's real path (FILES)
     * @param config     config.json's real path, or null when there is none (FILES)
     * @param configHash CRC-32 of config.json's content (-1 when too large to read; its size and time then count)
     */
    private record Observed(Kind kind, String problem, Path model, long size, FileTime modified, Object key,
                            Object changed, Path config, long configSize, FileTime configModified, long configHash) {
        static final Observed ABSENT = new Observed(Kind.ABSENT, null, null, 0, null, null, null, null, 0, null, 0);

        static Observed broken(String problem) {
            return new Observed(Kind.BROKEN, problem, null, 0, null, null, null, null, 0, null, 0);
        }
    }

    private Observed observe(String name) {
        Path folder = folder(name);
        if (!Files.exists(folder, LinkOption.NOFOLLOW_LINKS)) return Observed.ABSENT;
        Path real;
        try {
            real = folder.toRealPath();
        } catch (IOException e) {
            return Observed.ABSENT; // a symbolic link to nothing, or gone meanwhile
        }
        if (!Files.isDirectory(real)) return Observed.ABSENT; // a plain file, not a model folder
        if (!real.startsWith(realDir) || real.equals(realDir)) {
            return Observed.broken("folder '" + name + "' is a symbolic link leading outside the model repository; not followed");
        }
        try {
            Path model = inside(real.resolve(MODEL_FILE), MODEL_FILE);
            if (model == null) return Observed.broken("no " + MODEL_FILE + " in folder '" + name + "'");
            BasicFileAttributes a = Files.readAttributes(model, BasicFileAttributes.class);
            if (!a.isRegularFile()) return Observed.broken(MODEL_FILE + " is not a regular file");
            Path config = inside(real.resolve(CONFIG_FILE), CONFIG_FILE);
            long configSize = 0;
            FileTime configModified = null;
            long configHash = 0;
            if (config != null) {
                BasicFileAttributes c = Files.readAttributes(config, BasicFileAttributes.class);
                if (!c.isRegularFile()) return Observed.broken(CONFIG_FILE + " is not a regular file");
                configSize = c.size();
                configModified = c.lastModifiedTime();
                configHash = configSize > MAX_CONFIG_BYTES ? -1 : crc(Files.readAllBytes(config));
            }
            return new Observed(Kind.FILES, null, model, a.size(), a.lastModifiedTime(), a.fileKey(), changeTime(model),
                    config, configSize, configModified, configHash);
        } catch (BadRequestException e) {
            return Observed.broken(e.getMessage());
        } catch (IOException e) {
            return Observed.broken(ioReason(e));
        }
    }

    /** The real path of {@code file}, null when it does not exist; refuses one that leads outside the repository. */
    private Path inside(Path file, String what) throws IOException {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) return null;
        Path real;
        try {
            real = file.toRealPath();
        } catch (NoSuchFileException e) {
            throw new BadRequestException(what + " is a symbolic link to nothing");
        }
        if (!real.startsWith(realDir)) {
            throw new BadRequestException(what + " is a symbolic link leading outside the model repository; not followed");
        }
        return real;
    }

    /** The inode change time where the filesystem has one (it changes on every write and rename), else null. */
    private static Object changeTime(Path file) {
        try {
            return Files.getAttribute(file, "unix:ctime");
        } catch (UnsupportedOperationException | IllegalArgumentException | IOException e) {
            return null;
        }
    }

    private static long crc(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return crc.getValue();
    }

    private String ioReason(IOException e) {
        String file = e instanceof java.nio.file.FileSystemException f && f.getFile() != null
                ? relative(f.getFile()) : null;
        String why = e instanceof NoSuchFileException ? "no such file"
                : e instanceof AccessDeniedException ? "permission denied"
                : e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason()
                : e.getMessage();
        return "cannot read " + (file == null ? "the model's files" : file) + ": " + why;
    }

    private String relative(String file) {
        Path p = Path.of(file);
        if (p.startsWith(realDir)) return realDir.relativize(p).toString();
        if (p.startsWith(dir)) return dir.relativize(p).toString();
        return p.getFileName() == null ? file : p.getFileName().toString();
    }

    /** {@code message} without the repository's absolute path (ONNX Runtime's messages name the file loaded). */
    private String scrub(String message) {
        if (message == null) return "";
        String sep = dir.getFileSystem().getSeparator();
        return message.replace(realDir + sep, "").replace(dir + sep, "");
    }

    /** Reads a {@code config.json}; a {@link BadRequestException} saying what is wrong with it otherwise. */
    private ModelConfig readConfig(String name, Path config) {
        if (config == null) return defaults;
        String where = name + ": " + CONFIG_FILE;
        byte[] bytes;
        try (InputStream in = Files.newInputStream(config)) {
            bytes = in.readNBytes(MAX_CONFIG_BYTES + 1);
        } catch (IOException e) {
            throw new BadRequestException(name + ": " + ioReason(e));
        }
        if (bytes.length > MAX_CONFIG_BYTES) throw new BadRequestException(where + " is larger than " + MAX_CONFIG_BYTES + " bytes");
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new BadRequestException(where + " is not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")"));
        } catch (IOException e) {
            throw new BadRequestException(where + " cannot be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new BadRequestException(where + " must be a JSON object such as "
                    + "{\"max_batch_size\": 32, \"max_queue_delay_us\": 2000, \"intra_op_threads\": 1}");
        }
        int maxBatchSize = defaults.maxBatchSize();
        long maxQueueDelayMicros = defaults.maxQueueDelayMicros();
        int intraOpThreads = defaults.intraOpThreads();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            JsonNode v = field.getValue();
            switch (field.getKey()) {
                case "max_batch_size" -> maxBatchSize = (int) integer(where, field.getKey(), v, true);
                case "max_queue_delay_us" -> maxQueueDelayMicros = integer(where, field.getKey(), v, false);
                case "intra_op_threads" -> intraOpThreads = (int) integer(where, field.getKey(), v, true);
                default -> throw new BadRequestException(where + ": unknown key '" + printable(field.getKey())
                        + "'; the keys are max_batch_size, max_queue_delay_us and intra_op_threads");
            }
        }
        try {
            return new ModelConfig(maxBatchSize, maxQueueDelayMicros, intraOpThreads);
        } catch (BadRequestException e) {
            throw new BadRequestException(where + ": " + e.getMessage());
        }
    }

    private static long integer(String where, String key, JsonNode v, boolean asInt) {
        if (!v.isIntegralNumber() || (asInt ? !v.canConvertToInt() : !v.canConvertToLong())) {
            String shown = v.toString();
            if (shown.length() > 40) shown = shown.substring(0, 40) + "...";
            throw new BadRequestException(where + ": " + key + " must be an integer, got " + shown);
        }
        return v.longValue();
    }

    /** A name as it can be shown in a message: control characters escaped, cut at 140 characters. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 140; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || Character.isISOControl(c) || Character.isSurrogate(c)) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        if (b.length() >= 140) b.append("...");
        return b.toString();
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** One loaded version and its reference count: one reference for being current, one per open lease. */
    private static final class Version {
        final LoadedModel model;
        final List<Listener> listeners;
        private final AtomicInteger refs = new AtomicInteger(1);

        Version(LoadedModel model, List<Listener> listeners) {
            this.model = model;
            this.listeners = listeners;
        }

        boolean retain() {
            while (true) {
                int n = refs.get();
                if (n <= 0) return false;
                if (refs.compareAndSet(n, n + 1)) return true;
            }
        }

        void release() {
            int n = refs.decrementAndGet();
            if (n == 0) {
                dispose(model, listeners);
            } else if (n < 0) {
                throw new IllegalStateException(model.name() + " v" + model.version() + " released too often");
            }
        }
    }

    private static void dispose(LoadedModel model, List<Listener> told) {
        for (Listener l : told) {
            try {
                l.unloaded(model);
            } catch (RuntimeException e) {
                log.error("{} v{}: listener failed on unload: {}", model.name(), model.version(), e.toString(), e);
            }
        }
        try {
            model.close();
            log.info("{}: version {} closed", model.name(), model.version());
        } catch (RuntimeException e) {
            log.error("{} v{}: {}", model.name(), model.version(), e.toString(), e);
        }
    }

    /** One model folder. Fields other than the volatile ones are guarded by {@link #lock}. */
    private final class Slot {
        final String name;
        final ReentrantLock lock = new ReentrantLock();
        volatile Version current;
        /** What is shown in the index; null while the folder does not exist. */
        volatile RepositoryEntry status;
        long lastVersion;
        /** The files the state corresponds to (what was last loaded, rejected or unloaded). */
        Observed seen = Observed.ABSENT;
        /** Files that differ from {@link #seen}, as the last poll saw them: loaded if the next poll sees the same. */
        Observed pending;
        boolean loading;
        String reason = "";

        Slot(String name) {
            this.name = name;
        }

        RepositoryEntry entry() {
            RepositoryEntry e = status;
            return e != null ? e : new RepositoryEntry(name, lastVersion, ModelState.UNAVAILABLE, reason);
        }

        void publish() {
            Version c = current;
            boolean present = c != null || loading || seen.kind != Kind.ABSENT
                    || (pending != null && pending.kind != Kind.ABSENT);
            if (!present) {
                status = null;
                return;
            }
            String why = reason;
            if (pending != null && !loading) {
                why = pending.kind == Kind.ABSENT ? "folder removed; unloading unless it comes back"
                        : "files changed; loading once they stop changing";
            }
            ModelState state = c != null ? ModelState.READY
                    : loading || (pending != null && pending.kind == Kind.FILES) ? ModelState.LOADING
                    : ModelState.UNAVAILABLE;
            status = new RepositoryEntry(name, c != null ? c.model.version() : lastVersion, state, why);
        }

        void poll(boolean immediate) {
            Observed now = observe(name);
            if (now.equals(seen)) {
                if (pending != null) {
                    pending = null;
                    publish();
                }
                return;
            }
            if (!immediate && !now.equals(pending)) {
                pending = now; // changed since the last poll: wait until it stays the same for one interval
                publish();
                return;
            }
            pending = null;
            try {
                apply(now, false);
            } catch (BadRequestException e) {
                // already in the index
            }
        }

        /** Brings the state in line with {@code now}; explicit (load()) failures throw. */
        void apply(Observed now, boolean explicit) {
            seen = now;
            switch (now.kind) {
                case ABSENT -> {
                    retire();
                    reason = "";
                    publish();
                    log.info("{}: folder removed, unloaded", name);
                    if (explicit) throw notFound(name, this);
                }
                case BROKEN -> {
                    boolean was = current != null;
                    retire();
                    reason = now.problem;
                    publish();
                    log.warn("{}: {}{}", name, now.problem, was ? "; unloaded" : "");
                    if (explicit) throw new BadRequestException(name + ": " + now.problem);
                }
                case FILES -> loadVersion(now, explicit);
            }
        }

        private void loadVersion(Observed now, boolean explicit) {
            loading = true;
            reason = current == null ? "loading" : "loading a new version";
            publish();
            LoadedModel model = null;
            List<Listener> told = new ArrayList<>();
            try {
                ModelConfig config = readConfig(name, now.config);
                List<Listener> all;
                synchronized (listeners) {
                    listenersFrozen = true;
                    all = List.copyOf(listeners);
                }
                model = LoadedModel.load(name, lastVersion + 1, now.model, config);
                if (closed) throw new BadRequestException(name + ": model repository closed while loading");
                for (Listener l : all) {
                    try {
                        l.loaded(model);
                    } catch (RuntimeException e) {
                        throw new BadRequestException(name + ": rejected by listener " + l.getClass().getName() + ": "
                                + e.getMessage());
                    }
                    told.add(l);
                }
            } catch (RuntimeException e) {
                if (model != null) dispose(model, told);
                loading = false;
                String why = scrub(e instanceof BadRequestException ? e.getMessage() : name + ": cannot load: " + e);
                Version c = current;
                reason = c == null ? why : "serving version " + c.model.version() + "; the new files were rejected: " + why;
                publish();
                if (e instanceof BadRequestException) {
                    log.warn("{}", reason);
                } else {
                    log.error("{}", reason, e);
                }
                if (explicit) throw new BadRequestException(why);
                return;
            }
            lastVersion = model.version();
            Version old = current;
            current = new Version(model, List.copyOf(told));
            log.info("{}: version {} loaded from {} ({} bytes)", name, model.version(), relative(now.model.toString()),
                    model.fileBytes());
            // the old version's last reference is its leases' by the time the index shows the new one
            if (old != null) old.release();
            loading = false;
            reason = "";
            publish();
        }

        /** Stops serving the current version; it closes once its last lease is closed. */
        void retire() {
            Version old = current;
            if (old != null) {
                current = null;
                old.release();
            }
        }
    }
}
