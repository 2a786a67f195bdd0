package dev.squeeze.models.data;

import dev.squeeze.core.BadInputException;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Finds the directory holding a dataset's four files. Places, in order:
 * <ol>
 *   <li>an explicit directory ({@code --data DIR}): {@code DIR} itself or {@code DIR/<name>}. When given it
 *       must hold the files; a miss is an error rather than a silent fall-through to other places;
 *   <li>the {@value #ENV_VAR} directory: {@code DIR/<name>} or {@code DIR} itself;
 *   <li>the system directory {@code <systemRoot>/<name>} (Debian's {@code dataset-fashion-mnist} installs
 *       {@code /usr/share/datasets/fashion-mnist});
 *   <li>the cache {@code <cacheRoot>/<name>}, downloading whatever files it lacks.
 * </ol>
 * When every place fails, one {@link BadInputException} lists each place, why it failed, and the remedies.
 *
 * <p>Only downloads are hash-verified. Directories the user or the system provides are trusted as they
 * are: they may hold a subset (the test fixtures do) or a re-compressed copy, and the IDX reader still
 * validates every file's structure when it is loaded. Files in the cache were verified before they were
 * moved there, so they are not hashed again on every run.
 *
 * <p>A file counts as present under its own name ({@code ….gz}) or gunzipped without the {@code .gz}.
 * Instances are immutable; the {@code with…} methods return adjusted copies.
 */
public final class DatasetLocator {

    /** Environment variable naming a directory of datasets (or of one dataset's files). */
    public static final String ENV_VAR = "SQUEEZE_DATA";
    /** Where Debian's dataset packages install their files, one directory per dataset. */
    public static final Path DEFAULT_SYSTEM_ROOT = Path.of("/usr/share/datasets");
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(15);
    /** Longest wait for the response headers, and longest silence while the body downloads. */
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(60);

    private final String envDir;
    private final Path systemRoot;
    private final Path cacheRoot;
    private final URI baseUrl;
    private final Duration connectTimeout;
    private final Duration readTimeout;
    private final Consumer<String> progress;

    /**
     * @param squeezeDataEnv the value of {@value #ENV_VAR}, or {@code null}/blank when unset
     * @param systemRoot     the parent of system dataset directories, or {@code null} to skip that place
     * @param cacheRoot      the parent of cached dataset directories, or {@code null} to skip cache and download
     */
    public DatasetLocator(String squeezeDataEnv, Path systemRoot, Path cacheRoot) {
        this(squeezeDataEnv, systemRoot, cacheRoot, null, DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, line -> {
        });
    }

    private DatasetLocator(String envDir, Path systemRoot, Path cacheRoot, URI baseUrl, Duration connectTimeout,
                           Duration readTimeout, Consumer<String> progress) {
        this.envDir = envDir == null || envDir.isBlank() ? null : envDir;
        this.systemRoot = systemRoot;
        this.cacheRoot = cacheRoot;
        this.baseUrl = baseUrl;
        this.connectTimeout = Objects.requireNonNull(connectTimeout);
        this.readTimeout = Objects.requireNonNull(readTimeout);
        this.progress = Objects.requireNonNull(progress);
    }

    /** The locator for this process: {@value #ENV_VAR} from the environment, the system root, the user's cache. */
    public static DatasetLocator fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /** As {@link #fromEnvironment()}, reading {@value #ENV_VAR} and {@code XDG_CACHE_HOME} from {@code env}. */
    public static DatasetLocator fromEnvironment(Map<String, String> env) {
        return new DatasetLocator(env.get(ENV_VAR), DEFAULT_SYSTEM_ROOT, defaultCacheRoot(env));
    }

    /** {@code ${XDG_CACHE_HOME:-~/.cache}/squeeze/datasets}. */
    public static Path defaultCacheRoot() {
        return defaultCacheRoot(System.getenv());
    }

    /** {@code ${XDG_CACHE_HOME:-~/.cache}/squeeze/datasets}, with {@code XDG_CACHE_HOME} taken from {@code env}. */
    public static Path defaultCacheRoot(Map<String, String> env) {
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("squeeze").resolve("datasets");
    }

    /** Downloads from {@code baseUrl} instead of the spec's own URLs (a mirror, or a test server). */
    public DatasetLocator withBaseUrl(URI baseUrl) {
        return new DatasetLocator(envDir, systemRoot, cacheRoot, baseUrl, connectTimeout, readTimeout, progress);
    }

    /** Timeouts for connecting and for waiting on data; see {@link #DEFAULT_READ_TIMEOUT}. */
    public DatasetLocator withTimeouts(Duration connect, Duration read) {
        return new DatasetLocator(envDir, systemRoot, cacheRoot, baseUrl, connect, read, progress);
    }

    /** Where to report which directory was chosen and how a download is going, one line per call. */
    public DatasetLocator withProgress(Consumer<String> progress) {
        return new DatasetLocator(envDir, systemRoot, cacheRoot, baseUrl, connectTimeout, readTimeout, progress);
    }

    /**
     * The directory holding {@code spec}'s four files.
     *
     * @param explicitDir the {@code --data} directory, or {@code null} when none was given
     * @throws BadInputException when {@code explicitDir} lacks the files, or when no place has them
     */
    public Path locate(DatasetSpec spec, Path explicitDir) {
        if (explicitDir != null) {
            Probe probe = probe(spec, explicitDir, explicitDir.resolve(spec.name()));
            if (probe.found != null) return chosen(spec, probe.found, "--data");
            throw new BadInputException("--data " + explicitDir + " does not hold " + spec.title() + ": "
                    + probe.why + "; point --data at the directory holding " + spec.fileNames()
                    + ", or leave --data out to use " + ENV_VAR + ", the system copy or a download");
        }

        List<String> tried = new ArrayList<>();
        if (envDir == null) {
            tried.add(ENV_VAR + " is not set");
        } else {
            Path dir = Path.of(envDir);
            Probe probe = probe(spec, dir.resolve(spec.name()), dir);
            if (probe.found != null) return chosen(spec, probe.found, ENV_VAR);
            tried.add(ENV_VAR + "=" + envDir + ": " + probe.why);
        }

        if (systemRoot != null) {
            Probe probe = probe(spec, systemRoot.resolve(spec.name()));
            if (probe.found != null) return chosen(spec, probe.found, "system copy");
            tried.add(probe.why);
        }

        if (cacheRoot != null) {
            Path dir = cacheRoot.resolve(spec.name());
            if (probe(spec, dir).found != null) return chosen(spec, dir, "cache");
            List<URI> urls = baseUrl != null ? List.of(baseUrl) : spec.baseUrls();
            try {
                new Downloader(connectTimeout, readTimeout, progress).fetchMissing(spec, urls, dir);
                return chosen(spec, dir, "download");
            } catch (IOException e) {
                tried.add("download into " + dir + " failed: " + oneLine(e.getMessage()));
            }
        }

        throw new BadInputException(notFound(spec, tried));
    }

    private String notFound(DatasetSpec spec, List<String> tried) {
        StringBuilder message = new StringBuilder(spec.title()).append(" not found; tried");
        for (int i = 0; i < tried.size(); i++) {
            message.append(i == 0 ? " " : "; ").append('(').append(i + 1).append(") ").append(tried.get(i));
        }
        message.append(". To fix:");
        if (spec.systemPackage() != null) {
            message.append(" install it (apt-get install ").append(spec.systemPackage()).append("), or");
        }
        message.append(" pass --data DIR or set ").append(ENV_VAR).append("=DIR, DIR holding ")
                .append(spec.fileNames())
                .append(", or allow network access to ")
                .append(baseUrl != null ? baseUrl : String.join(" or ", spec.baseUrls().stream()
                        .map(URI::toString).toList()));
        return message.toString();
    }

    private Path chosen(DatasetSpec spec, Path dir, String how) {
        progress.accept(spec.name() + ": using " + dir + " (" + how + ")");
        return dir;
    }

    /** The first candidate directory that holds every file of the spec, or why none does. */
    private static Probe probe(DatasetSpec spec, Path... candidates) {
        List<String> reasons = new ArrayList<>();
        for (Path dir : candidates) {
            if (!Files.exists(dir)) {
                reasons.add(dir + " does not exist");
            } else if (!Files.isDirectory(dir)) {
                reasons.add(dir + " is not a directory");
            } else {
                List<String> missing = spec.files().stream()
                        .filter(file -> file.find(dir).isEmpty())
                        .map(DatasetFile::fileName)
                        .toList();
                if (missing.isEmpty()) return new Probe(dir, null);
                reasons.add(dir + " lacks " + String.join(", ", missing));
            }
        }
        return new Probe(null, String.join("; ", reasons));
    }

    private record Probe(Path found, String why) {
    }

    private static String oneLine(String text) {
        return text == null ? "unknown error" : text.replaceAll("\\s+", " ").trim();
    }
}
