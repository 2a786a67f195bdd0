package dev.squeeze.compress.ledger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Makes a folder and its files read-only for a test, and writable again after. Permission bits stop ordinary
 * users; root ignores them, so for root the folder and files are also made immutable with {@code chattr +i},
 * which stops root too where the file system supports it (ext4, xfs, btrfs; not tmpfs or overlayfs).
 */
final class ReadOnlyFolder implements AutoCloseable {
    private final Path folder;
    private final List<Path> immutable = new ArrayList<>();
    /** Whether writing into the folder is really refused now (false: root on a file system without chattr). */
    final boolean effective;

    ReadOnlyFolder(Path folder) throws IOException, InterruptedException {
        this.folder = folder;
        List<Path> files;
        try (Stream<Path> list = Files.list(folder)) {
            files = list.filter(Files::isRegularFile).toList();
        }
        for (Path file : files) Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("r-xr-xr-x"));
        if (Files.isWritable(folder)) { // root
            for (Path path : files) chattr("+i", path);
            chattr("+i", folder);
        }
        effective = !Files.isWritable(folder);
    }

    private void chattr(String flag, Path path) throws InterruptedException {
        try {
            Process chattr = new ProcessBuilder("chattr", flag, path.toString()).redirectErrorStream(true).start();
            chattr.getInputStream().readAllBytes();
            if (chattr.waitFor() == 0 && flag.equals("+i")) immutable.add(path);
        } catch (IOException noChattr) {
            // not installed: permission bits are all there is
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        for (int i = immutable.size() - 1; i >= 0; i--) {
            new ProcessBuilder("chattr", "-i", immutable.get(i).toString()).redirectErrorStream(true).start().waitFor();
        }
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
