package org.jtune.io;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.jtune.JtuneException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One writer per folder: a second lock, from this JVM or another process, is refused with the
 * holder named; a lock left by a killed process is taken over and said so; a folder inside a held
 * folder is covered by its lock.
 */
class FolderLockTest {
    @Test
    void aSecondLockInThisJvmIsRefusedNamingThisProcess(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        try (FolderLock lock = FolderLock.acquire(run, "training")) {
            JtuneException e = assertThrows(JtuneException.class, () -> FolderLock.acquire(run, "training"));
            assertTrue(e.getMessage().contains("in use by this process (pid " + ProcessHandle.current().pid()), e.getMessage());
            assertTrue(e.getMessage().contains("training") && e.getMessage().contains(".run.lock"), e.getMessage());
            assertNull(lock.staleNote());
        }
        try (FolderLock again = FolderLock.acquire(run, "training")) { // released: free again, and not stale
            assertNull(again.staleNote());
        }
    }

    @Test
    void anotherProcessIsRefusedWithItsPidAndAKilledHoldersLockIsTakenOver(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        Process child = LockHolderMain.start(run);
        try {
            long pid = child.pid();
            JtuneException e = assertThrows(JtuneException.class, () -> FolderLock.acquire(run, "training"));
            assertTrue(e.getMessage().contains("in use by another jtune process (pid " + pid + " on "), e.getMessage());
            assertTrue(e.getMessage().contains("holding for a test"), e.getMessage());
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no chance to release
            try (FolderLock mine = FolderLock.acquire(run, "training")) {
                assertNotNull(mine.staleHolder(), "the dead holder's name is still in the file");
                assertEquals(pid, mine.staleHolder().pid());
                assertTrue(mine.staleNote().contains("no longer running") && mine.staleNote().contains("pid " + pid), mine.staleNote());
            }
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void aFolderInsideAHeldFolderIsCoveredByItsLock(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        try (FolderLock outer = FolderLock.acquire(run, "training");
             FolderLock inner = FolderLock.acquire(run.resolve("adapter"), "saving an adapter")) {
            assertFalse(Files.exists(run.resolve(".adapter.lock")), "no lock file of its own");
            assertNotNull(inner.folder());
        }
    }
}
