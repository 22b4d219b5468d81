package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --mlock: a mapped file is locked (the kernel's VmLck count grows by its size) only when asked, and unlocked with its
 * mapping; a released range of a locked mapping is unlocked and its bytes still read the same (faulted in from the file).
 */
class ResidentMemoryTest {
    private static long lockedKiB() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmLck:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new IllegalStateException("no VmLck line");
    }

    @Test
    void aMappingIsLockedOnlyWhenAskedAndUnlockedWithItsMapping(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "Linux only (VmLck of /proc/self/status)");
        Path file = dir.resolve("w.bin");
        int bytes = 8 << 20;
        Files.write(file, new byte[bytes]);
        boolean saved = ResidentMemory.locking();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long before = lockedKiB();
            try (Arena arena = Arena.ofShared()) {
                MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes, arena);
                ResidentMemory.setLocking(false);
                assertFalse(ResidentMemory.lockIfAsked(m, file.toString()));
                assertEquals(before, lockedKiB());
                ResidentMemory.setLocking(true);
                String refusal = ResidentMemory.lock(m);
                assumeTrue(refusal == null, "this process may not lock 8 MiB: " + refusal);
                assertTrue(lockedKiB() >= before + (bytes >> 10), "VmLck " + lockedKiB() + " kB after locking 8 MiB");
            }
            assertEquals(before, lockedKiB(), "unmapping unlocks");
        } finally {
            ResidentMemory.setLocking(saved);
        }
    }

    @Test
    void releasedPagesAreUnlockedAndStillReadFromTheFile(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "Linux only (VmLck of /proc/self/status)");
        Path file = dir.resolve("w.bin");
        int bytes = 8 << 20;
        byte[] content = new byte[bytes];
        new java.util.Random(5).nextBytes(content);
        Files.write(file, content);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofShared()) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes, arena);
            long before = lockedKiB();
            boolean locked = ResidentMemory.lock(m) == null;
            MemorySegment middle = m.asSlice(1000, bytes - 3000);                  // unaligned ends: only whole inner pages go
            long released = ResidentMemory.release(middle);
            assertTrue(released >= bytes - (256 << 10) && released <= bytes - 3000, "released " + released);
            if (locked) assertEquals(before + ((bytes - released) >> 10), lockedKiB(), "the released pages are unlocked");
            assertTrue(java.util.Arrays.equals(content, m.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)), "bytes read back from the file");
        }
        assertEquals(0, ResidentMemory.release(MemorySegment.ofArray(new byte[1 << 20])), "heap memory is not released");
    }
}
