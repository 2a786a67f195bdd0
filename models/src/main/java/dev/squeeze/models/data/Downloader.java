package dev.squeeze.models.data;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Fetches a dataset's files over HTTP into a directory, never leaving an unverified file under a final name:
 * each file goes to a temporary {@code .part} file in the same directory, its SHA-256 is checked, and only
 * then is it renamed into place atomically. A failed or corrupt download is deleted.
 */
final class Downloader {

    private final HttpClient client;
    private final Duration readTimeout;
    private final Consumer<String> progress;

    Downloader(Duration connectTimeout, Duration readTimeout, Consumer<String> progress) {
        this.client = HttpClient.newBuilder()
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                // Plain HTTP/1.1: the official Fashion-MNIST host is an http-only S3 website; skip h2c upgrades.
                .version(HttpClient.Version.HTTP_1_1)
                .build();
        this.readTimeout = readTimeout;
        this.progress = progress;
    }

    /**
     * Downloads every file of {@code spec} that {@code dir} lacks, trying {@code baseUrls} in order for each.
     *
     * @throws IOException naming, for a file no URL could deliver, every URL tried and why it failed
     */
    void fetchMissing(DatasetSpec spec, List<URI> baseUrls, Path dir) throws IOException {
        boolean created = !Files.isDirectory(dir);
        Files.createDirectories(dir);
        try {
            for (DatasetFile file : spec.files()) {
                if (file.find(dir).isEmpty()) fetch(file, baseUrls, dir);
            }
        } catch (IOException e) {
            // Leave no trace of a download that produced nothing, not even its directory.
            if (created) {
                try (var entries = Files.list(dir)) {
                    if (entries.findAny().isEmpty()) Files.delete(dir);
                } catch (IOException ignored) {
                    // an empty directory is harmless; the download failure is what to report
                }
            }
            throw e;
        }
    }

    private void fetch(DatasetFile file, List<URI> baseUrls, Path dir) throws IOException {
        List<String> failures = new ArrayList<>();
        for (URI base : baseUrls) {
            URI url = base.resolve(file.fileName());
            try {
                fetchFrom(url, file, dir);
                return;
            } catch (IOException e) {
                if (Thread.currentThread().isInterrupted()) throw e; // the caller wants us to stop, not a mirror
                failures.add(url + ": " + describe(e));
            }
        }
        throw new IOException(String.join("; ", failures));
    }

    private void fetchFrom(URI url, DatasetFile file, Path dir) throws IOException {
        Path part = Files.createTempFile(dir, file.fileName() + ".", ".part");
        try {
            progress.accept("downloading " + url);
            download(url, part);
            String actual;
            try {
                actual = file.sha256Of(part);
            } catch (IOException e) {
                throw new IOException("corrupt download, it cannot be decompressed (" + describe(e) + "); deleted it", e);
            }
            if (!actual.equals(file.sha256())) {
                throw new IOException("corrupt download: sha256 of its " + file.hashDescription() + " is " + actual
                        + ", expected " + file.sha256() + "; deleted it");
            }
            Files.move(part, dir.resolve(file.fileName()),
                    StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            progress.accept("verified " + file.fileName() + " (sha256 " + actual + ")");
        } finally {
            Files.deleteIfExists(part);
        }
    }

    private void download(URI url, Path target) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(url)
                .timeout(readTimeout) // until the response headers arrive; the body has its own watchdog
                .header("User-Agent", "squeeze (dataset download)")
                .GET()
                .build();
        HttpResponse<InputStream> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while connecting to " + url);
        }
        try (InputStream body = response.body()) {
            if (response.statusCode() != 200) throw new IOException("HTTP status " + response.statusCode());
            long total = response.headers().firstValueAsLong("Content-Length").orElse(-1);
            long received = copy(body, target, total, url);
            if (total >= 0 && received != total) {
                throw new IOException("connection closed after " + received + " of " + total + " bytes");
            }
        }
    }

    /** Copies the body to {@code target}, giving up when no byte arrives for {@link #readTimeout}. */
    private long copy(InputStream body, Path target, long total, URI url) throws IOException {
        long received = 0;
        int reportedTenths = 0;
        try (StallWatchdog watchdog = new StallWatchdog(readTimeout, body);
             OutputStream out = Files.newOutputStream(target)) {
            try {
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = body.read(buffer)) >= 0; ) {
                    out.write(buffer, 0, n);
                    received += n;
                    watchdog.progressed();
                    if (total > 0 && received * 10 / total > reportedTenths) {
                        reportedTenths = (int) (received * 10 / total);
                        progress.accept(String.format(Locale.ROOT, "%s: %d%% (%.1f of %.1f MB)", url,
                                reportedTenths * 10, received / 1e6, total / 1e6));
                    }
                }
            } catch (IOException e) {
                if (watchdog.fired()) {
                    throw new IOException("no data for " + readTimeout.toMillis() + " ms after " + received
                            + " bytes (read timeout)", e);
                }
                throw e;
            }
        }
        return received;
    }

    /** One line saying what went wrong; JDK network exceptions often carry no message of their own. */
    private static String describe(IOException e) {
        if (e instanceof HttpConnectTimeoutException) return "connect timed out";
        if (e instanceof HttpTimeoutException) return "no response before the read timeout";
        Throwable root = e;
        String message = e.getMessage();
        while (root.getCause() != null) {
            root = root.getCause();
            if (message == null || message.isBlank()) message = root.getMessage();
        }
        if (root instanceof UnresolvedAddressException) return "cannot resolve the host name (no DNS or no network)";
        String text;
        if (e instanceof ConnectException) {
            text = "cannot connect" + (message == null || message.isBlank() ? " (refused or unreachable)" : ": " + message);
        } else if (message == null || message.isBlank()) {
            text = e.getClass().getSimpleName();
        } else {
            // Our own failures are plain IOExceptions whose message says it all.
            text = e.getClass() == IOException.class ? message : e.getClass().getSimpleName() + ": " + message;
        }
        return text.replaceAll("\\s+", " ").trim();
    }

    /**
     * HttpClient has no read timeout for a response body, so this gives up on the body when no progress is
     * reported for {@code limit}: it closes the stream and interrupts the reading thread, which wakes the
     * blocked read (Java 17 ignores the interrupt alone and Java 21+ the close alone) with an IOException.
     */
    private static final class StallWatchdog implements AutoCloseable {
        private final Thread reader = Thread.currentThread();
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "squeeze-download-watchdog");
            t.setDaemon(true);
            return t;
        });
        private volatile long lastProgress = System.nanoTime();
        private boolean done;  // guarded by this
        private boolean fired; // guarded by this

        StallWatchdog(Duration limit, Closeable stream) {
            long limitNanos = limit.toNanos();
            long periodMillis = Math.max(10, limit.toMillis() / 4);
            timer.scheduleAtFixedRate(() -> {
                synchronized (this) {
                    if (!done && !fired && System.nanoTime() - lastProgress > limitNanos) {
                        fired = true;
                        try {
                            stream.close();
                        } catch (IOException ignored) {
                            // the interrupt below still wakes the reader
                        }
                        reader.interrupt();
                    }
                }
            }, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
        }

        void progressed() {
            lastProgress = System.nanoTime();
        }

        synchronized boolean fired() {
            return fired;
        }

        @Override
        public void close() {
            boolean clear;
            synchronized (this) {
                done = true;
                clear = fired;
            }
            timer.shutdownNow();
            // The interrupt was ours, not the caller's: do not leak it.
            if (clear) Thread.interrupted();
        }
    }
}
