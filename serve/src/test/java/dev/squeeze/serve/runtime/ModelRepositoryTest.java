package dev.squeeze.serve.runtime;

import dev.squeeze.serve.runtime.ModelRepository.ModelNotFoundException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static dev.squeeze.serve.runtime.RepositoryTestModels.addConstant;
import static dev.squeeze.serve.runtime.RepositoryTestModels.run;
import static dev.squeeze.serve.runtime.RepositoryTestModels.writeConfig;
import static dev.squeeze.serve.runtime.RepositoryTestModels.writeFile;
import static dev.squeeze.serve.runtime.RepositoryTestModels.writeModel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The model repository on real files in a temporary folder, with real ONNX Runtime sessions. */
class ModelRepositoryTest {

    private static final Duration POLL = Duration.ofMillis(50);
    private static final long WAIT_MS = 20_000;

    @TempDir
    Path tmp;
    private Path dir;
    private ModelRepository repo;
    private Recorder events;

    /** Counts listener calls and checks each version is announced once and retired once, in that order. */
    static final class Recorder implements ModelRepository.Listener {
        final List<LoadedModel> loaded = Collections.synchronizedList(new ArrayList<>());
        final List<LoadedModel> unloaded = Collections.synchronizedList(new ArrayList<>());
        final Queue errors = new Queue();

        @Override
        public void loaded(LoadedModel m) {
            if (containsSame(loaded, m)) errors.add("loaded twice: " + m.name() + " v" + m.version());
            loaded.add(m);
        }

        @Override
        public void unloaded(LoadedModel m) {
            if (!containsSame(loaded, m)) errors.add("unloaded before loaded: " + m.name() + " v" + m.version());
            if (containsSame(unloaded, m)) errors.add("unloaded twice: " + m.name() + " v" + m.version());
            try {
                run(m, 0, 0); // unloaded() comes before the session closes
            } catch (Exception e) {
                errors.add("session already closed in unloaded(): " + e);
            }
            unloaded.add(m);
        }

        boolean wasUnloaded(LoadedModel m) {
            return containsSame(unloaded, m);
        }

        private static boolean containsSame(List<LoadedModel> list, LoadedModel m) {
            synchronized (list) {
                return list.stream().anyMatch(x -> x == m);
            }
        }
    }

    static final class Queue extends ConcurrentLinkedQueue<String> {
    }

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createDirectories(tmp.resolve("models"));
    }

    @AfterEach
    void tearDown() {
        if (repo != null) {
            repo.close();
            assertTrue(events.errors.isEmpty(), () -> "listener saw: " + events.errors);
        }
    }

    private ModelRepository start() {
        repo = new ModelRepository(dir, ModelConfig.DEFAULTS);
        events = new Recorder();
        repo.addListener(events);
        repo.start(POLL);
        return repo;
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("waited " + WAIT_MS / 1000 + " s for " + what);
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for " + what);
            }
        }
    }

    private RepositoryEntry entry(String name) {
        return repo.entry(name);
    }

    private boolean readyAt(String name, long version) {
        RepositoryEntry e = entry(name);
        return e != null && e.state() == ModelState.READY && e.version() == version;
    }

    /** {@code c} of the version of {@code name} serving now (its answer to x = [1, 2] is [1 + c, 2 + c]). */
    private float answer(String name) throws Exception {
        try (ModelLease lease = repo.acquire(name)) {
            float[] y = run(lease.model(), 1, 2);
            assertEquals(y[0] + 1, y[1], 1e-6);
            return y[0] - 1;
        }
    }

    @Test
    void folderMustExist() throws IOException {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> new ModelRepository(tmp.resolve("nope"), ModelConfig.DEFAULTS));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        Path file = Files.writeString(tmp.resolve("file"), "x");
        IllegalArgumentException notFolder = assertThrows(IllegalArgumentException.class,
                () -> new ModelRepository(file, ModelConfig.DEFAULTS));
        assertTrue(notFolder.getMessage().contains("not a folder"), notFolder.getMessage());
    }

    @Test
    void modelsPresentAtStartAreReadyAndAnswer() throws Exception {
        writeModel(dir, "a", 1);
        writeModel(dir, "b.v2_x-y", 10);
        Files.writeString(dir.resolve("README.txt"), "plain files beside the model folders are ignored");
        start();

        assertEquals(List.of(new RepositoryEntry("a", 1, ModelState.READY, ""),
                new RepositoryEntry("b.v2_x-y", 1, ModelState.READY, "")), repo.index());
        try (ModelLease lease = repo.acquire("a")) {
            assertEquals("a", lease.model().name());
            assertEquals(1, lease.version());
            assertArrayEquals(new float[]{2, 3}, run(lease.model(), 1, 2));
            assertEquals(ModelConfig.DEFAULTS, lease.model().config());
            assertEquals(List.of("x"), lease.model().spec().inputs().stream().map(TensorSpec::name).toList());
        }
        assertEquals(10, answer("b.v2_x-y"));
        assertEquals(2, events.loaded.size());
        assertTrue(events.unloaded.isEmpty());
    }

    @Test
    void newFolderIsPickedUpWithoutRestart() throws Exception {
        start();
        assertEquals(List.of(), repo.index());
        assertThrows(ModelNotFoundException.class, () -> repo.acquire("late"));

        writeModel(dir, "late", 5);
        await("late to load", () -> readyAt("late", 1));
        assertEquals(5, answer("late"));
        assertEquals(List.of(new RepositoryEntry("late", 1, ModelState.READY, "")), repo.index());
    }

    @Test
    void replacedModelServesNewVersionWhileOldLeaseFinishes() throws Exception {
        writeModel(dir, "a", 1);
        start();
        ModelLease old = repo.acquire("a");
        LoadedModel v1 = old.model();

        writeModel(dir, "a", 2);
        await("version 2 of a", () -> readyAt("a", 2));
        assertEquals(2, answer("a"));
        try (ModelLease lease = repo.acquire("a")) {
            assertEquals(2, lease.version());
        }

        // the request that began on version 1 finishes on version 1: still open, still answering
        assertArrayEquals(new float[]{2, 3}, run(v1, 1, 2));
        assertFalse(events.wasUnloaded(v1));
        assertEquals(2, events.loaded.size());

        old.close();
        assertTrue(events.wasUnloaded(v1), "version 1 is dropped when its last lease closes");
        assertThrows(IllegalStateException.class, () -> run(v1, 1, 2), "version 1's session is closed");
        assertThrows(IllegalStateException.class, old::model);
        old.close(); // twice is harmless
        assertEquals(1, events.unloaded.size());
        assertEquals(2, answer("a"));
    }

    @Test
    void brokenReplacementIsRejectedAndOldVersionKeepsServing() throws Exception {
        writeModel(dir, "garbage", 1);
        writeModel(dir, "truncated", 1);
        writeModel(dir, "unknown-op", 1);
        start();

        Path garbage = dir.resolve("garbage").resolve("model.onnx");
        writeFile(garbage, "this is not an ONNX model".getBytes(StandardCharsets.UTF_8));
        byte[] good = addConstant(7);
        writeFile(dir.resolve("truncated").resolve("model.onnx"), Arrays.copyOf(good, good.length / 2));
        writeFile(dir.resolve("unknown-op").resolve("model.onnx"), RepositoryTestModels.model(7, "NoSuchOperator"));

        for (String name : List.of("garbage", "truncated", "unknown-op")) {
            await(name + "'s replacement to be rejected", () -> entry(name).reason().contains("rejected"));
            RepositoryEntry e = entry(name);
            assertEquals(ModelState.READY, e.state(), e.toString());
            assertEquals(1, e.version(), e.toString());
            assertTrue(e.reason().contains("serving version 1") && e.reason().contains("cannot load"), e.reason());
            assertEquals(1, answer(name), "version 1 of " + name + " still answers");
        }
        assertTrue(entry("unknown-op").reason().contains("NoSuchOperator"), entry("unknown-op").reason());
        assertFalse(entry("garbage").reason().contains(tmp.toString()), "no server paths: " + entry("garbage").reason());

        // an explicit load of the broken file fails with the reason, and changes nothing
        BadRequestException explicit = assertThrows(BadRequestException.class, () -> repo.load("garbage"));
        assertTrue(explicit.getMessage().startsWith("garbage: cannot load"), explicit.getMessage());
        assertEquals(1, answer("garbage"));

        // fixing the file recovers
        writeModel(dir, "garbage", 3);
        await("the fixed garbage model", () -> readyAt("garbage", 2));
        assertEquals(3, answer("garbage"));
        assertEquals("", entry("garbage").reason());
        assertEquals(4, events.loaded.size());
    }

    @Test
    void changedFilesAreLoadedOnlyOnceTheyStopChanging() throws Exception {
        writeModel(dir, "a", 1);
        repo = new ModelRepository(dir, ModelConfig.DEFAULTS);
        events = new Recorder();
        repo.addListener(events);
        repo.start(Duration.ZERO); // no watcher: the test polls
        assertTrue(readyAt("a", 1));

        // model.onnx rewritten in place in three pieces, with a poll after each
        byte[] v2 = addConstant(2);
        Path file = dir.resolve("a").resolve("model.onnx");
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(v2, 0, 10);
            out.flush();
            repo.pollOnce();
            assertTrue(readyAt("a", 1));
            assertTrue(entry("a").reason().contains("files changed"), entry("a").reason());
            assertEquals(1, answer("a"));
            out.write(v2, 10, 50);
            out.flush();
            repo.pollOnce();
            assertTrue(readyAt("a", 1));
            out.write(v2, 60, v2.length - 60);
        }
        repo.pollOnce(); // changed since the previous poll: not yet
        assertTrue(readyAt("a", 1));
        assertEquals(1, answer("a"));
        repo.pollOnce(); // unchanged for one poll interval: loaded
        assertEquals(new RepositoryEntry("a", 2, ModelState.READY, ""), entry("a"));
        assertEquals(2, answer("a"));
        repo.pollOnce();
        repo.pollOnce();
        assertTrue(readyAt("a", 2), "unchanged files are not reloaded");

        // a new folder, and a removed one, wait one poll as well
        writeModel(dir, "b", 3);
        repo.pollOnce();
        assertEquals(ModelState.LOADING, entry("b").state());
        assertThrows(ModelNotFoundException.class, () -> repo.acquire("b"));
        repo.pollOnce();
        assertTrue(readyAt("b", 1));
        deleteTree(dir.resolve("b"));
        repo.pollOnce();
        assertTrue(readyAt("b", 1));
        assertTrue(entry("b").reason().contains("folder removed"), entry("b").reason());
        repo.pollOnce();
        assertNull(entry("b"));
        assertEquals(3, events.loaded.size());
        assertEquals(2, events.unloaded.size());
    }

    @Test
    void brokenModelAtStartIsUnavailableWithReason() throws Exception {
        writeModel(dir, "ok", 1);
        writeFile(dir.resolve("broken").resolve("model.onnx"), new byte[]{1, 2, 3, 4, 5});
        Files.createDirectories(dir.resolve("empty"));
        start();

        RepositoryEntry broken = entry("broken");
        assertEquals(ModelState.UNAVAILABLE, broken.state());
        assertEquals(0, broken.version());
        assertTrue(broken.reason().startsWith("broken: cannot load model.onnx"), broken.reason());
        RepositoryEntry empty = entry("empty");
        assertEquals(ModelState.UNAVAILABLE, empty.state());
        assertTrue(empty.reason().contains("no model.onnx"), empty.reason());

        ModelNotFoundException e = assertThrows(ModelNotFoundException.class, () -> repo.acquire("broken"));
        assertTrue(e.getMessage().contains("'broken' is not ready") && e.getMessage().contains("cannot load"), e.getMessage());
        assertTrue(e.getMessage().endsWith("ready models: ok"), e.getMessage());

        writeModel(dir, "broken", 4);
        await("broken to recover", () -> readyAt("broken", 1));
        assertEquals(4, answer("broken"));
        writeModel(dir, "empty", 6);
        await("empty to get a model", () -> readyAt("empty", 1));
        assertEquals(6, answer("empty"));
    }

    @Test
    void configJsonIsReadAndBadOnesAreRejected() throws Exception {
        writeModel(dir, "tuned", 1);
        writeConfig(dir, "tuned", "{\"max_batch_size\": 4, \"max_queue_delay_us\": 500, \"intra_op_threads\": 2}");
        writeModel(dir, "partial", 1);
        writeConfig(dir, "partial", "{\"max_batch_size\": 1}");
        Map<String, String> bad = Map.of(
                "zero-batch", "{\"max_batch_size\": 0}",
                "unknown-key", "{\"batch\": 3}",
                "not-json", "max_batch_size = 3",
                "not-object", "[1, 2]",
                "string-value", "{\"max_batch_size\": \"8\"}",
                "fraction", "{\"max_queue_delay_us\": 1.5}",
                "duplicate", "{\"max_batch_size\": 2, \"max_batch_size\": 3}");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            writeModel(dir, e.getKey(), 1);
            writeConfig(dir, e.getKey(), e.getValue());
        }
        start();

        try (ModelLease lease = repo.acquire("tuned")) {
            assertEquals(new ModelConfig(4, 500, 2), lease.model().config());
            assertArrayEquals(new float[]{2, 3}, run(lease.model(), 1, 2));
        }
        try (ModelLease lease = repo.acquire("partial")) {
            assertEquals(new ModelConfig(1, ModelConfig.DEFAULTS.maxQueueDelayMicros(), ModelConfig.DEFAULTS.intraOpThreads()),
                    lease.model().config());
        }
        Map<String, String> reasons = Map.of(
                "zero-batch", "max_batch_size must be at least 1",
                "unknown-key", "unknown key 'batch'",
                "not-json", "not valid JSON",
                "not-object", "must be a JSON object",
                "string-value", "max_batch_size must be an integer, got \"8\"",
                "fraction", "max_queue_delay_us must be an integer, got 1.5",
                "duplicate", "not valid JSON");
        for (Map.Entry<String, String> e : reasons.entrySet()) {
            RepositoryEntry entry = entry(e.getKey());
            assertEquals(ModelState.UNAVAILABLE, entry.state(), entry.toString());
            assertTrue(entry.reason().startsWith(e.getKey() + ": config.json") && entry.reason().contains(e.getValue()),
                    entry.reason());
        }

        // a changed config.json is a new version; a bad change is rejected while the old version keeps serving
        writeConfig(dir, "tuned", "{\"max_batch_size\": 8}");
        await("tuned v2", () -> readyAt("tuned", 2));
        try (ModelLease lease = repo.acquire("tuned")) {
            assertEquals(8, lease.model().config().maxBatchSize());
            assertEquals(ModelConfig.DEFAULTS.intraOpThreads(), lease.model().config().intraOpThreads());
        }
        writeConfig(dir, "tuned", "{\"intra_op_threads\": -1}");
        await("the bad config to be rejected", () -> entry("tuned").reason().contains("rejected"));
        assertTrue(entry("tuned").reason().contains("intra_op_threads must be at least 1"), entry("tuned").reason());
        assertTrue(readyAt("tuned", 2));
        assertEquals(1, answer("tuned"));
        BadRequestException explicit = assertThrows(BadRequestException.class, () -> repo.load("tuned"));
        assertTrue(explicit.getMessage().contains("intra_op_threads must be at least 1"), explicit.getMessage());

        // removing config.json goes back to the defaults
        Files.delete(dir.resolve("tuned").resolve("config.json"));
        await("tuned v3", () -> readyAt("tuned", 3));
        try (ModelLease lease = repo.acquire("tuned")) {
            assertEquals(ModelConfig.DEFAULTS, lease.model().config());
        }
    }

    @Test
    void unloadAndLoad() throws Exception {
        writeModel(dir, "a", 1);
        start();
        ModelLease lease = repo.acquire("a");
        LoadedModel v1 = lease.model();

        RepositoryEntry unloaded = repo.unload("a");
        assertEquals(ModelState.UNAVAILABLE, unloaded.state());
        assertTrue(unloaded.reason().contains("unloaded"), unloaded.reason());
        assertEquals(unloaded, entry("a"));
        ModelNotFoundException e = assertThrows(ModelNotFoundException.class, () -> repo.acquire("a"));
        assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("unloaded"), e.getMessage());

        // the request in flight finishes on its version, which closes afterwards
        assertArrayEquals(new float[]{2, 3}, run(v1, 1, 2));
        assertFalse(events.wasUnloaded(v1));
        lease.close();
        assertTrue(events.wasUnloaded(v1));

        // the poller does not bring it back by itself: by the time a new folder has loaded, polls have run
        writeModel(dir, "b", 2);
        await("b", () -> readyAt("b", 1));
        assertEquals(ModelState.UNAVAILABLE, entry("a").state());

        RepositoryEntry loaded = repo.load("a");
        assertEquals(new RepositoryEntry("a", 2, ModelState.READY, ""), loaded);
        assertEquals(1, answer("a"));

        // load() of a serving model reloads it
        assertEquals(3, repo.load("a").version());
        assertEquals(1, answer("a"));

        // after an unload, a change of the files brings it back
        repo.unload("a");
        writeModel(dir, "a", 4);
        await("a after its file changed", () -> readyAt("a", 4));
        assertEquals(4, answer("a"));

        assertThrows(ModelNotFoundException.class, () -> repo.unload("nothing"));
        assertThrows(ModelNotFoundException.class, () -> repo.load("nothing"));
        assertNull(entry("nothing"));
        assertEquals(5, events.loaded.size());
        assertEquals(3, events.unloaded.size());
    }

    @Test
    void removedFolderIsUnloadedAfterItsLeases() throws Exception {
        writeModel(dir, "a", 1);
        writeModel(dir, "b", 2);
        start();
        ModelLease lease = repo.acquire("a");

        deleteTree(dir.resolve("a"));
        await("a to leave the index", () -> entry("a") == null);
        assertEquals(List.of("b"), repo.index().stream().map(RepositoryEntry::name).toList());
        ModelNotFoundException e = assertThrows(ModelNotFoundException.class, () -> repo.acquire("a"));
        assertTrue(e.getMessage().contains("no model 'a'") && e.getMessage().endsWith("ready models: b"), e.getMessage());

        assertArrayEquals(new float[]{2, 3}, run(lease.model(), 1, 2));
        assertFalse(events.wasUnloaded(lease.model()));
        LoadedModel v1 = lease.model();
        lease.close();
        assertTrue(events.wasUnloaded(v1));

        // coming back continues the version numbers
        writeModel(dir, "a", 3);
        await("a back", () -> readyAt("a", 2));
        assertEquals(3, answer("a"));
    }

    @Test
    void unknownModelNamesTheReadyOnes() throws Exception {
        writeModel(dir, "alpha", 1);
        writeModel(dir, "beta", 2);
        writeFile(dir.resolve("gamma").resolve("model.onnx"), new byte[]{0});
        start();

        ModelNotFoundException e = assertThrows(ModelNotFoundException.class, () -> repo.acquire("zeta"));
        assertEquals("zeta", e.model());
        assertEquals("no model 'zeta' in the model repository; ready models: alpha, beta", e.getMessage());
        assertInstanceOf(BadRequestException.class, e);
    }

    @Test
    void namesWithPathCharactersAreRejectedAndNothingOutsideIsRead() throws Exception {
        // models outside the repository that a path escape would reach
        writeModel(tmp, "etc", 9);
        writeModel(tmp, "outside", 9);
        writeModel(dir, "a", 1);
        writeModel(dir.resolve("a"), "b", 9); // models/a/b/model.onnx: not a model of this repository
        Files.createDirectories(dir.resolve("bad name"));
        writeModel(dir, ".hidden", 9);
        start();

        List<String> names = new ArrayList<>(List.of("../etc", "a/b", "", "..", ".", "x%2F..", "%2e%2e", "nul\u0000",
                "a\u0000", "a\\b", "/etc", "../outside", "a/../a", "./a", "-a", " a", "a ", "a\nb", "é", "x".repeat(129)));
        names.add(null);
        for (String name : names) {
            String shown = String.valueOf(name).replace("\u0000", "\\0");
            RepositoryNameException e = assertThrows(RepositoryNameException.class, () -> repo.acquire(name), shown);
            assertFalse(e.getMessage().contains("\u0000"), "the message escapes control characters");
            assertThrows(RepositoryNameException.class, () -> repo.load(name), shown);
            assertThrows(RepositoryNameException.class, () -> repo.unload(name), shown);
            assertThrows(RepositoryNameException.class, () -> repo.entry(name), shown);
            assertThrows(RepositoryNameException.class, () -> ModelRepository.checkName(name), shown);
        }
        assertEquals("x".repeat(128), ModelRepository.checkName("x".repeat(128)));
        assertEquals(1, answer("a"));

        Map<String, RepositoryEntry> index = byName(repo.index());
        assertEquals(Set.of("a", "bad name", ".hidden"), index.keySet());
        assertEquals(ModelState.UNAVAILABLE, index.get("bad name").state());
        assertTrue(index.get("bad name").reason().contains("skipped"), index.get("bad name").reason());
        assertEquals(ModelState.UNAVAILABLE, index.get(".hidden").state());
        assertOnlyLoadedFrom(dir.toRealPath());
    }

    @Test
    void symbolicLinksLeadingOutsideAreNotFollowed() throws Exception {
        Path outside = writeModel(tmp, "outside", 9).getParent();
        writeModel(dir, "a", 1);
        Files.createSymbolicLink(dir.resolve("evil"), outside);
        Files.createDirectories(dir.resolve("sneaky"));
        Files.createSymbolicLink(dir.resolve("sneaky").resolve("model.onnx"), outside.resolve("model.onnx"));
        writeModel(dir, "sneaky-config", 1);
        Files.writeString(tmp.resolve("secret.json"), "{\"max_batch_size\": 2}");
        Files.createSymbolicLink(dir.resolve("sneaky-config").resolve("config.json"), tmp.resolve("secret.json"));
        Files.createSymbolicLink(dir.resolve("alias"), dir.resolve("a")); // inside: fine
        start();

        for (String name : List.of("evil", "sneaky", "sneaky-config")) {
            RepositoryEntry e = entry(name);
            assertEquals(ModelState.UNAVAILABLE, e.state(), e.toString());
            assertTrue(e.reason().contains("outside the model repository"), e.reason());
            assertThrows(ModelNotFoundException.class, () -> repo.acquire(name));
            BadRequestException explicit = assertThrows(BadRequestException.class, () -> repo.load(name));
            assertTrue(explicit.getMessage().contains("outside the model repository"), explicit.getMessage());
        }
        assertEquals(1, answer("alias"));
        assertEquals(1, answer("a"));
        assertOnlyLoadedFrom(dir.toRealPath());

        // a model folder replaced by a link leading outside stops serving
        Path moved = tmp.resolve("a-moved");
        Files.move(dir.resolve("a"), moved);
        Files.createSymbolicLink(dir.resolve("a"), outside);
        await("a to stop serving", () -> entry("a").state() == ModelState.UNAVAILABLE);
        assertTrue(entry("a").reason().contains("outside the model repository"), entry("a").reason());
        assertOnlyLoadedFrom(dir.toRealPath());
    }

    @Test
    void closeUnloadsEverythingOnceLeasesEnd() throws Exception {
        writeModel(dir, "a", 1);
        writeModel(dir, "b", 2);
        start();
        ModelLease lease = repo.acquire("a");
        repo.close();

        assertThrows(ModelNotFoundException.class, () -> repo.acquire("a"));
        assertThrows(ModelNotFoundException.class, () -> repo.acquire("b"));
        assertEquals(1, events.unloaded.size(), "b closed at once");
        assertArrayEquals(new float[]{2, 3}, run(lease.model(), 1, 2));
        lease.close();
        assertEquals(2, events.unloaded.size());
        assertTrue(repo.index().stream().allMatch(e -> e.state() == ModelState.UNAVAILABLE), repo.index().toString());
        assertThrows(IllegalStateException.class, () -> repo.load("a"));
        assertThrows(IllegalStateException.class, () -> repo.start(POLL));
        repo.close(); // twice is harmless
    }

    @Test
    void listenersMustComeBeforeTheFirstLoad() throws Exception {
        writeModel(dir, "a", 1);
        start();
        assertThrows(IllegalStateException.class, () -> repo.addListener(events));
        assertThrows(IllegalStateException.class, () -> repo.start(POLL));
    }

    @Test
    void listenerThatThrowsRejectsTheVersion() throws Exception {
        writeModel(dir, "a", 1);
        writeModel(dir, "b", 2);
        repo = new ModelRepository(dir, ModelConfig.DEFAULTS);
        events = new Recorder();
        repo.addListener(events);
        repo.addListener(new ModelRepository.Listener() {
            @Override
            public void loaded(LoadedModel m) {
                if (m.name().equals("b")) throw new IllegalArgumentException("no batcher for b");
            }

            @Override
            public void unloaded(LoadedModel m) {
            }
        });
        repo.start(Duration.ZERO);
        assertEquals(1, answer("a"));
        assertEquals(ModelState.UNAVAILABLE, entry("b").state());
        assertTrue(entry("b").reason().contains("no batcher for b"), entry("b").reason());
        assertEquals(2, events.loaded.size());
        assertEquals(1, events.unloaded.size(), "the first listener hears b is gone");
    }

    @Test
    void manyThreadsAcquireWhileTheModelIsReplacedRepeatedly() throws Exception {
        Map<Long, Float> constantOfVersion = new ConcurrentHashMap<>();
        constantOfVersion.put(1L, 10f);
        writeModel(dir, "a", 10);
        writeModel(dir, "steady", 0.5f);
        start();

        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicLong runs = new AtomicLong();
        Set<Long> versionsSeen = ConcurrentHashMap.newKeySet();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
            int id = t;
            Thread thread = new Thread(() -> {
                while (!stop.get()) {
                    String name = id == 0 ? "steady" : "a";
                    try (ModelLease lease = repo.acquire(name)) {
                        float x = id;
                        float[] y = run(lease.model(), x, x + 1);
                        float c = name.equals("a") ? constantOfVersion.get(lease.version()) : 0.5f;
                        if (y[0] != x + c || y[1] != x + 1 + c) {
                            throw new AssertionError(name + " v" + lease.version() + " answered " + Arrays.toString(y));
                        }
                        if (name.equals("a")) versionsSeen.add(lease.version());
                        runs.incrementAndGet();
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            }, "client-" + t);
            thread.start();
            threads.add(thread);
        }
        try {
            long version = 1;
            for (int i = 0; i < 10; i++) {
                long next = version + 1;
                float c = 10f * next;
                constantOfVersion.put(next, c);
                writeModel(dir, "a", c);
                await("a v" + next, () -> readyAt("a", next));
                version = next;
                repo.index();
            }
            for (int i = 0; i < 5; i++) {
                constantOfVersion.put(version + 1, constantOfVersion.get(version)); // same file, new version
                assertEquals(version + 1, repo.load("a").version());
                version++;
            }
            long before = runs.get();
            await("more requests", () -> runs.get() > before + 100);
        } finally {
            stop.set(true);
            for (Thread thread : threads) thread.join();
        }
        if (!failures.isEmpty()) {
            AssertionError e = new AssertionError(failures.size() + " requests failed; first: " + failures.peek());
            failures.stream().limit(3).forEach(e::addSuppressed);
            throw e;
        }
        assertTrue(versionsSeen.size() > 1, "requests ran on several versions: " + versionsSeen);

        // every version but the current one of each model is gone, each exactly once
        assertEquals(17, events.loaded.size());
        await("old versions to close", () -> events.unloaded.size() == 15);
        repo.close();
        assertEquals(17, events.unloaded.size());
        Map<LoadedModel, Boolean> distinct = new IdentityHashMap<>();
        events.unloaded.forEach(m -> distinct.put(m, true));
        assertEquals(17, distinct.size());
    }

    // ---------------------------------------------------------------------------------------------------------------

    private void assertOnlyLoadedFrom(Path realDir) {
        synchronized (events.loaded) {
            for (LoadedModel m : events.loaded) {
                assertTrue(m.file().toAbsolutePath().normalize().startsWith(realDir), m.name() + " loaded from " + m.file());
            }
        }
    }

    private static Map<String, RepositoryEntry> byName(List<RepositoryEntry> entries) {
        Map<String, RepositoryEntry> out = new java.util.LinkedHashMap<>();
        for (RepositoryEntry e : entries) assertNull(out.put(e.name(), e), "listed once: " + e.name());
        return out;
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

}
