package dev.squeeze.models.data;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static dev.squeeze.models.data.BadInputs.expectBadInput;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Downloads into the cache from a loopback HTTP server that serves the fixture files (or damaged copies),
 * checked against {@link IdxFiles#fixtureSpec()}.
 */
class DatasetDownloadTest {

    private static final DatasetSpec SPEC = IdxFiles.fixtureSpec();

    @TempDir
    Path root;
    private Path cacheRoot;
    private Path cacheDir;
    private HttpServer server;
    private URI baseUrl;
    /** What the server serves, by file name; absent names get a 404. */
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final List<String> progress = new ArrayList<>();

    @BeforeEach
    void startServer() throws IOException {
        for (DatasetFile file : SPEC.files()) {
            served.put(file.fileName(), Files.readAllBytes(IdxFiles.fixtureDir().resolve(file.fileName())));
        }
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/data/", exchange -> {
            requests.incrementAndGet();
            byte[] body = served.get(exchange.getRequestURI().getPath().substring("/data/".length()));
            respond(exchange, body == null ? 404 : 200, body == null ? new byte[0] : body);
        });
        server.start();
        baseUrl = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/data/");
        cacheRoot = root.resolve("cache");
        cacheDir = cacheRoot.resolve(SPEC.name());
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    private static void respond(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /** No SQUEEZE_DATA, an empty system root: the cache is the only place left. */
    private DatasetLocator locator() {
        return new DatasetLocator(null, root.resolve("no-system"), cacheRoot)
                .withBaseUrl(baseUrl)
                .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5))
                .withProgress(line -> {
                    synchronized (progress) {
                        progress.add(line);
                    }
                });
    }

    @Test
    void downloadsVerifiesAndCachesThenReusesTheCache() throws IOException {
        assertEquals(cacheDir, locator().locate(SPEC, null));
        assertEquals(4, requests.get());
        for (DatasetFile file : SPEC.files()) {
            assertArrayEquals(served.get(file.fileName()), Files.readAllBytes(cacheDir.resolve(file.fileName())));
        }
        assertEquals(List.of(), leftovers(), "no temporary files stay behind");
        assertTrue(progress.contains("downloading " + baseUrl + "train-images-idx3-ubyte.gz"), progress::toString);
        assertTrue(progress.stream().anyMatch(l -> l.startsWith("verified train-images-idx3-ubyte.gz")));

        assertEquals(cacheDir, locator().locate(SPEC, null));
        assertEquals(4, requests.get(), "the second call uses the cache");

        ImageDataset data = DatasetLoader.load(SPEC.name(), null, locator());
        assertEquals(cacheDir, data.source());
        assertEquals(2000, data.train().size());
        assertEquals(4, requests.get());
    }

    @Test
    void fetchesOnlyWhatThePartialCacheLacks() throws IOException {
        IdxFiles.copyFixtures(cacheDir);
        Files.delete(cacheDir.resolve("t10k-labels-idx1-ubyte.gz"));
        assertEquals(cacheDir, locator().locate(SPEC, null));
        assertEquals(1, requests.get());
    }

    @Test
    void alteredDownloadIsRejectedWithBothHashesAndNothingIsCached() throws IOException {
        byte[] content = IdxFiles.readContent(IdxFiles.fixtureDir().resolve("train-images-idx3-ubyte.gz"));
        content[16 + 400] ^= 1; // one pixel of the first image, a perfectly valid gzip otherwise
        served.put("train-images-idx3-ubyte.gz", IdxFiles.gzip(content));

        String expected = SPEC.train().images().sha256();
        expectBadInput(() -> locator().locate(SPEC, null),
                baseUrl + "train-images-idx3-ubyte.gz", "corrupt download",
                "is " + sha256(content) + ", expected " + expected, "download into " + cacheDir + " failed");
        assertFalse(Files.exists(cacheDir), "nothing is cached, no temporary files, not even the directory");
    }

    @Test
    void undecompressableDownloadIsRejectedAndOnlyVerifiedFilesStay() throws IOException {
        byte[] gz = served.get("t10k-labels-idx1-ubyte.gz");
        served.put("t10k-labels-idx1-ubyte.gz", Arrays.copyOf(gz, gz.length / 2));

        expectBadInput(() -> locator().locate(SPEC, null),
                baseUrl + "t10k-labels-idx1-ubyte.gz", "cannot be decompressed");
        assertEquals(List.of("t10k-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                cached(), "the three verified files are kept, the bad one and its temporary file are gone");
    }

    @Test
    void htmlErrorPageServedAs200IsRejected() throws IOException {
        served.put("train-labels-idx1-ubyte.gz", "<html>rate limited</html>".getBytes());
        expectBadInput(() -> locator().locate(SPEC, null), "train-labels-idx1-ubyte.gz: corrupt download",
                "expected " + SPEC.train().labels().sha256());
        assertFalse(cached().contains("train-labels-idx1-ubyte.gz"));
        assertEquals(List.of(), leftovers());
    }

    @Test
    void missingOnTheServerIsReported() {
        served.remove("train-images-idx3-ubyte.gz");
        expectBadInput(() -> locator().locate(SPEC, null), baseUrl + "train-images-idx3-ubyte.gz: HTTP status 404");
    }

    @Test
    void unreachableServerGivesTheAllPlacesTriedError() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        URI dead = URI.create("http://127.0.0.1:" + closedPort + "/data/");
        expectBadInput(() -> locator().withBaseUrl(dead).locate(SPEC, null),
                "Fashion-MNIST not found; tried (1) SQUEEZE_DATA is not set",
                "(2) " + root.resolve("no-system").resolve(SPEC.name()) + " does not exist",
                "(3) download into " + cacheDir + " failed: " + dead + "train-images-idx3-ubyte.gz: cannot connect",
                "apt-get install dataset-fashion-mnist", "--data DIR", "SQUEEZE_DATA=DIR",
                "allow network access to " + dead);
        assertEquals(List.of(), cached());
    }

    @Test
    void stalledBodyHitsTheReadTimeout() throws IOException {
        CountDownLatch release = new CountDownLatch(1);
        server.createContext("/stall/", exchange -> {
            exchange.sendResponseHeaders(200, 1000);
            OutputStream out = exchange.getResponseBody();
            out.write(new byte[10]);
            out.flush();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        URI stall = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/stall/");
        try {
            long start = System.nanoTime();
            expectBadInput(() -> locator().withBaseUrl(stall)
                            .withTimeouts(Duration.ofSeconds(5), Duration.ofMillis(300)).locate(SPEC, null),
                    stall + "train-images-idx3-ubyte.gz: no data for 300 ms after 10 bytes (read timeout)");
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10));
            assertFalse(Thread.currentThread().isInterrupted(), "the watchdog's interrupt does not leak");
            assertEquals(List.of(), cached());
        } finally {
            release.countDown();
        }
    }

    /** Names of the files in the cache directory, sorted (temporary files included). */
    private List<String> cached() throws IOException {
        if (!Files.isDirectory(cacheDir)) return List.of();
        try (Stream<Path> files = Files.list(cacheDir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private List<String> leftovers() throws IOException {
        return cached().stream().filter(name -> name.endsWith(".part")).toList();
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
