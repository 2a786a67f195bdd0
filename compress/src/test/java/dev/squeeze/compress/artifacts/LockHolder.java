package dev.squeeze.compress.artifacts;

import java.nio.file.Path;

/** Holds a run's lock in a separate JVM until its stdin closes, for the cross-process lock test. */
public final class LockHolder {
    public static void main(String[] args) throws Exception {
        try (RunLock lock = RunLock.acquire(RunPaths.of(Path.of(args[0]), "train", args[1]))) {
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() != -1) {
                // wait for the test to close our stdin
            }
        }
    }
}
