package dev.squeeze.models.data;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.squeeze.models.data.BadInputs.expectBadInput;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The order of places: --data, then SQUEEZE_DATA, then the system directory, then the cache. Every place
 * holds a copy of the fixtures, so only the order decides; downloads point at a dead address, so a test
 * that reached the network would fail.
 */
class DatasetLocatorTest {

    private static final DatasetSpec SPEC = IdxFiles.fixtureSpec();
    /** Port 9 (discard) on loopback: nothing listens there, connecting fails at once. */
    private static final URI DEAD = URI.create("http://127.0.0.1:9/");

    @TempDir
    Path root;
    private Path explicit;
    private Path env;
    private Path system;
    private Path cache;

    @BeforeEach
    void fillEveryPlace() throws IOException {
        explicit = IdxFiles.copyFixtures(root.resolve("explicit"));
        env = root.resolve("env");
        IdxFiles.copyFixtures(env.resolve(SPEC.name()));
        system = root.resolve("system");
        IdxFiles.copyFixtures(system.resolve(SPEC.name()));
        cache = root.resolve("cache");
        IdxFiles.copyFixtures(cache.resolve(SPEC.name()));
    }

    private DatasetLocator locator(String envValue, Path systemRoot, Path cacheRoot) {
        return new DatasetLocator(envValue, systemRoot, cacheRoot).withBaseUrl(DEAD);
    }

    @Test
    void explicitDirBeatsEnvBeatsSystemBeatsCache() {
        assertEquals(explicit, locator(env.toString(), system, cache).locate(SPEC, explicit));
        assertEquals(env.resolve(SPEC.name()), locator(env.toString(), system, cache).locate(SPEC, null));
        assertEquals(system.resolve(SPEC.name()), locator(null, system, cache).locate(SPEC, null));
        assertEquals(cache.resolve(SPEC.name()), locator(null, root.resolve("no-system"), cache).locate(SPEC, null));
    }

    @Test
    void blankEnvCountsAsUnset() {
        assertEquals(system.resolve(SPEC.name()), locator("  ", system, cache).locate(SPEC, null));
    }

    @Test
    void envMayNameTheDatasetDirItself() {
        Path direct = env.resolve(SPEC.name());
        assertEquals(direct, locator(direct.toString(), system, cache).locate(SPEC, null));
    }

    @Test
    void explicitDirMayHoldADatasetSubdirectory() {
        assertEquals(env.resolve(SPEC.name()), locator(null, system, cache).locate(SPEC, env));
    }

    @Test
    void explicitDirWithoutTheFilesIsAnErrorNotAFallThrough() throws IOException {
        Path empty = Files.createDirectories(root.resolve("empty"));
        expectBadInput(() -> locator(env.toString(), system, cache).locate(SPEC, empty),
                "--data " + empty + " does not hold Fashion-MNIST", empty + " lacks train-images-idx3-ubyte.gz",
                empty.resolve(SPEC.name()) + " does not exist", "point --data at the directory holding");

        Path absent = root.resolve("absent");
        expectBadInput(() -> locator(env.toString(), system, cache).locate(SPEC, absent),
                absent + " does not exist");
    }

    @Test
    void explicitDirMissingOneFileNamesIt() throws IOException {
        Files.delete(explicit.resolve("t10k-labels-idx1-ubyte.gz"));
        String message = expectBadInput(() -> locator(null, system, cache).locate(SPEC, explicit),
                explicit + " lacks t10k-labels-idx1-ubyte.gz");
        assertTrue(!message.contains("lacks train-images"), message);
    }

    @Test
    void incompleteEnvAndSystemFallThroughToTheNextPlace() throws IOException {
        Files.delete(env.resolve(SPEC.name()).resolve("train-labels-idx1-ubyte.gz"));
        Files.delete(system.resolve(SPEC.name()).resolve("t10k-images-idx3-ubyte.gz"));
        assertEquals(cache.resolve(SPEC.name()), locator(env.toString(), system, cache).locate(SPEC, null));
    }

    @Test
    void nowhereToLookListsEveryPlace() {
        Path noEnv = root.resolve("no-env");
        Path noSystem = root.resolve("no-system");
        expectBadInput(() -> locator(noEnv.toString(), noSystem, null).locate(SPEC, null),
                "Fashion-MNIST not found; tried (1) SQUEEZE_DATA=" + noEnv + ": ",
                "(2) " + noSystem.resolve(SPEC.name()) + " does not exist",
                "apt-get install dataset-fashion-mnist", "--data DIR", "SQUEEZE_DATA=DIR");
    }

    @Test
    void cacheRootFollowsXdgCacheHome() {
        assertEquals(Path.of("/xdg/squeeze/datasets"), DatasetLocator.defaultCacheRoot(Map.of("XDG_CACHE_HOME", "/xdg")));
        assertEquals(Path.of(System.getProperty("user.home"), ".cache", "squeeze", "datasets"),
                DatasetLocator.defaultCacheRoot(Map.of()));
    }

    @Test
    void environmentSuppliesSqueezeData() {
        assertEquals(env.resolve(SPEC.name()), DatasetLocator.fromEnvironment(
                Map.of(DatasetLocator.ENV_VAR, env.toString(), "XDG_CACHE_HOME", root.toString())).locate(SPEC, null));
    }

    @Test
    void reportsWhichDirectoryWasChosenAndWhy() {
        List<String> lines = new ArrayList<>();
        locator(env.toString(), system, cache).withProgress(lines::add).locate(SPEC, null);
        assertEquals(List.of("fashion-mnist: using " + env.resolve(SPEC.name()) + " (SQUEEZE_DATA)"), lines);
    }
}
