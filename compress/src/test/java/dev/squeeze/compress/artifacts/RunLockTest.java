package dev.squeeze.compress.artifacts;

import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunLockTest {
    @TempDir
    Path root;

    @Test
    void aSecondHolderIsRefusedUntilTheFirstLetsGo() {
        RunPaths paths = RunPaths.of(root, "train", "abc123abc123");
        try (RunLock first = RunLock.acquire(paths)) {
            var e = assertThrows(BadInputException.class, () -> RunLock.acquire(paths));
            assertTrue(e.getMessage().contains("another squeeze process"), e.getMessage());
            try (RunLock other = RunLock.acquire(RunPaths.of(root, "train", "def456def456"))) {
                // another configuration is free
            }
        }
        try (RunLock again = RunLock.acquire(paths)) {
            assertFalse(Files.exists(paths.dir()), "the lock lives beside the run folders, not in one");
        }
    }

    @Test
    void anotherProcessHoldingTheLockIsSeen() throws Exception {
        RunPaths paths = RunPaths.of(root, "train", "abc123abc123");
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), LockHolder.class.getName(), root.toString(), "abc123abc123")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            var out = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream()));
            assertTrue("locked".equals(out.readLine()), "the holder took the lock");
            assertThrows(BadInputException.class, () -> RunLock.acquire(paths));
        } finally {
            holder.getOutputStream().close();
            holder.waitFor();
        }
        try (RunLock mine = RunLock.acquire(paths)) {
            // released when the other process let go
        }
    }

    @Test
    void aRunThatNeverMadeItsFolderLeavesNoLockFileAndOneThatDidKeepsIt() throws Exception {
        RunPaths refused = RunPaths.of(root, "train", "abc123abc123");
        try (RunLock lock = RunLock.acquire(refused)) {
            assertTrue(Files.exists(refused.lockFile()));
        }
        assertFalse(Files.exists(refused.lockFile()), "refused before it started: nothing left behind");

        RunPaths started = RunPaths.of(root, "train", "def456def456");
        try (RunLock lock = RunLock.acquire(started)) {
            Files.createDirectories(started.dir());
        }
        assertTrue(Files.exists(started.lockFile()), "a run folder keeps its lock file beside it");
        try (RunLock again = RunLock.acquire(refused); RunLock other = RunLock.acquire(started)) {
            assertThrows(BadInputException.class, () -> RunLock.acquire(refused), "a re-created lock file still locks");
        }
    }
}
