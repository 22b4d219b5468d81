package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * {@link NativeMemory#allocateLarge}: the size asked for, zeroed, writable, native; from 2 MiB up on Linux x86-64 aligned to
 * a huge page (the mapping the kernel may back with transparent huge pages), from 64 KiB up a mapping of its own outside
 * the JVM's direct-memory cap, below it an ordinary 64-byte-aligned block.
 */
class NativeMemoryTest {
    @Test
    void largeAllocationsAreZeroedWritableAndHugePageAlignedOnLinux() {
        for (long bytes : new long[] {100, NativeMemory.SMALL + 3, NativeMemory.HUGE_PAGE, 3 * NativeMemory.HUGE_PAGE + 5}) {
            MemorySegment s = NativeMemory.allocateLarge(bytes);
            assertEquals(bytes, s.byteSize());
            assertTrue(s.isNative());
            assertEquals(0, s.address() % 64, "aligned for vector loads");
            for (long at : new long[] {0, bytes / 2, bytes - 1}) {
                assertEquals(0, s.get(ValueLayout.JAVA_BYTE, at), "zeroed at " + at);
                s.set(ValueLayout.JAVA_BYTE, at, (byte) 7);
                assertEquals(7, s.get(ValueLayout.JAVA_BYTE, at));
            }
            boolean linux = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")
                    && System.getProperty("os.arch", "").matches("amd64|x86_64");
            if (linux && bytes >= NativeMemory.HUGE_PAGE) assertEquals(0, s.address() % NativeMemory.HUGE_PAGE, bytes + " bytes on a huge-page boundary");
        }
    }

    @Test
    void weightBlocksAreOutsideTheDirectMemoryCapOnLinux() {
        boolean linux = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")
                && System.getProperty("os.arch", "").matches("amd64|x86_64");
        org.junit.jupiter.api.Assumptions.assumeTrue(linux, "mappings of their own on Linux x86-64 only");
        var direct = java.lang.management.ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        long before = direct.getMemoryUsed();
        java.util.List<MemorySegment> kept = new java.util.ArrayList<>();
        for (int i = 0; i < 16; i++) kept.add(NativeMemory.allocateLarge(1L << 20));   // an expert matrix's size, 16 MiB in all
        assertTrue(direct.getMemoryUsed() - before < (1L << 20), "the blocks count against MaxDirectMemorySize: "
                + (direct.getMemoryUsed() - before) + " bytes");
        assertEquals(16, kept.size());
    }
}
