package dev.squeeze.compress.artifacts;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void theWrittenFileIsReadableByOthersNotOnlyItsOwner() throws Exception {
        Path target = dir.resolve("model.onnx");
        AtomicFiles.writeString(target, "x");
        var perms = Files.getPosixFilePermissions(target);
        org.junit.jupiter.api.Assertions.assertTrue(perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ), perms.toString());
    }

    @Test
    void aFailedWriteLeavesNeitherTargetNorTemporaryFile() throws IOException {
        Path target = dir.resolve("model.zip");
        assertThrows(UncheckedIOException.class, () -> AtomicFiles.write(target, file -> {
            Files.writeString(file, "half a model");
            throw new IOException("disk full");
        }));
        assertFalse(Files.exists(target));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(0, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void aFailedRewriteKeepsThePreviousVersionWhole() throws IOException {
        Path target = dir.resolve("state.json");
        AtomicFiles.writeString(target, "version 1");
        assertThrows(UncheckedIOException.class, () -> AtomicFiles.write(target, file -> {
            Files.writeString(file, "vers");
            throw new IOException("interrupted");
        }));
        assertEquals("version 1", Files.readString(target));
    }

    @Test
    void writesIntoFoldersThatDoNotExistYet() throws IOException {
        Path target = dir.resolve("a/b/c.txt");
        AtomicFiles.writeString(target, "ok");
        assertTrue(Files.isRegularFile(target));
    }
}
