package dev.squeeze.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    /**
     * A full disk as the operating system reports it (ENOSPC, in the two forms the JDK throws), raised by a writer
     * that has already filled the temporary file and a scratch file, as compress's {@code ModelFile.save} does. This runs
     * everywhere; {@code DiskFullTrainTest} in the cli module does the same on a real, small tmpfs where it can.
     */
    @Test
    void aFullDiskIsOneLineNamingTheFileAndTheDiskAndLeavesNoTemporaries() throws IOException {
        Path target = dir.resolve("run/last.zip");
        String disk = Files.getFileStore(dir).toString();
        for (IOException full : new IOException[]{new IOException("No space left on device"),
                new java.nio.file.FileSystemException(target.toString(), null, "No space left on device")}) {
            DiskFullException e = assertThrows(DiskFullException.class, () -> AtomicFiles.write(target, file -> {
                Files.write(file, new byte[100_000]);
                Files.write(AtomicFiles.scratch(file, "dl4j"), new byte[100_000]);
                throw full;
            }));
            assertTrue(e.getMessage().startsWith("could not write " + target.toAbsolutePath() + ": the disk " + disk),
                    e.getMessage());
            assertTrue(e.getMessage().contains("is full") && e.getMessage().contains("--output"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            try (Stream<Path> files = Files.list(target.getParent())) {
                assertEquals(List.of(), files.toList(), "neither the temporary file nor the scratch file is left");
            }
        }
    }

    @Test
    void aFullDiskRaisedInsideALibraryIsRecognisedThroughItsCause() {
        Path target = dir.resolve("model.zip");
        assertThrows(DiskFullException.class, () -> AtomicFiles.write(target, file -> {
            Files.writeString(file, "half");
            throw new IllegalStateException("serialization failed", new IOException("No space left on device"));
        }));
        assertFalse(Files.exists(target));
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
