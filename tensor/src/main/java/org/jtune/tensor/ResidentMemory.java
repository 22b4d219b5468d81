package org.jtune.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Keeps memory-mapped weights in RAM ({@code --mlock}, or {@code -Djtune.mlock=true}): each mapping of a checkpoint is
 * locked with {@code mlock(2)} once mapped, which also reads it in. Why: a mapped file's pages are page cache, which
 * the OS may reclaim while the model runs — under memory pressure, or proactively (DAMON's pageout on this project's
 * VMs reclaims pages it sees idle for ~6 s, and a decode touches each weight page once per token): the next token then
 * re-reads them from disk. 1.1B-shaped F32 decode in process on such a VM: 16-row engine steps 438 ms with it on,
 * 247 ms with it off; one-row steps 100–374 ms against a steady 105–118 (bench/RESULTS.md, 2026-12-05).
 *
 * <p>Locking needs the memory-lock limit (RLIMIT_MEMLOCK, {@code ulimit -l}) to cover the file, or CAP_IPC_LOCK. When the
 * OS refuses, the weights stay pageable and one line on stderr says why and how to raise the limit; nothing fails.
 * Unlocked by the OS when the mapping is unmapped. Linux and macOS (libc's {@code mlock}); elsewhere a warning.
 */
public final class ResidentMemory {
    private static volatile boolean locking = Boolean.getBoolean("jtune.mlock");
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private ResidentMemory() {}

    /** Whether mappings of weights are to be locked in RAM (the {@code --mlock} flags set it before loading). */
    public static void setLocking(boolean on) {
        locking = on;
    }

    public static boolean locking() {
        return locking;
    }

    /**
     * Locks {@code mapping} (of {@code what}, a file name for the message) in RAM when locking is on; true when it is
     * locked. A refusal prints one warning per process and returns false.
     */
    public static boolean lockIfAsked(MemorySegment mapping, String what) {
        if (!locking || mapping.byteSize() == 0) return false;
        String refusal = lock(mapping);
        if (refusal == null) return true;
        if (WARNED.compareAndSet(false, true)) {
            System.err.printf("jtune: --mlock: could not lock %s (%d MiB) in memory: %s; its pages stay pageable%n", what,
                    mapping.byteSize() >> 20, refusal);
        }
        return false;
    }

    /** Alignment of the ranges {@link #release} gives back: 64 KiB covers 4 KiB and 64 KiB pages. */
    private static final long RELEASE_ALIGN = 64 << 10;

    /**
     * Gives back the pages of {@code range}, part of a read-only file mapping whose bytes will not be read again (weights
     * copied into another layout on load): the whole aligned pages inside it are unlocked ({@code munlock}) and dropped
     * from the process ({@code madvise(MADV_DONTNEED)}); a later read would fault them in from the file again, so nothing
     * is lost. Without it a repacked model holds both copies, and with {@code --mlock} keeps both locked. Linux only;
     * a range that is not in a file mapping, another OS, or a failed call: nothing happens. Returns the bytes given back.
     */
    public static long release(MemorySegment range) {
        if (!range.isMapped() || Release.MUNLOCK == null) return 0;
        long start = (range.address() + RELEASE_ALIGN - 1) / RELEASE_ALIGN * RELEASE_ALIGN;
        long end = (range.address() + range.byteSize()) / RELEASE_ALIGN * RELEASE_ALIGN;
        if (end <= start) return 0;
        try {
            MemorySegment pages = range.asSlice(start - range.address(), end - start);
            int unlocked = (int) Release.MUNLOCK.invokeExact(pages, end - start);     // not locked: a harmless no-op
            int dropped = (int) Release.MADVISE.invokeExact(pages, end - start, 4);    // MADV_DONTNEED
            return dropped == 0 ? end - start : 0;
        } catch (Throwable e) {
            return 0;
        }
    }

    /** libc's munlock and madvise, looked up once (null off Linux or when they cannot be bound). */
    private static final class Release {
        static final MethodHandle MUNLOCK, MADVISE;

        static {
            MethodHandle munlock = null, madvise = null;
            if (System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
                try {
                    Linker linker = Linker.nativeLinker();
                    munlock = linker.downcallHandle(linker.defaultLookup().find("munlock").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
                    madvise = linker.downcallHandle(linker.defaultLookup().find("madvise").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                } catch (RuntimeException e) {
                    munlock = null;
                    madvise = null;
                }
            }
            MUNLOCK = munlock;
            MADVISE = madvise;
        }
    }

    /** mlock(2) on the segment's pages: null when locked, else why not. */
    static String lock(MemorySegment mapping) {
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        if (!os.contains("linux") && !os.contains("mac")) return "mlock is not available on " + System.getProperty("os.name");
        try {
            Linker linker = Linker.nativeLinker();
            StructLayout state = Linker.Option.captureStateLayout();
            VarHandle errnoHandle = state.varHandle(MemoryLayout.PathElement.groupElement("errno"));
            MethodHandle mlock = linker.downcallHandle(linker.defaultLookup().find("mlock").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
                    Linker.Option.captureCallState("errno"));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment captured = arena.allocate(state);
                int rc = (int) mlock.invokeExact(captured, mapping, mapping.byteSize());
                if (rc == 0) return null;
                int errno = (int) errnoHandle.get(captured, 0L);
                return switch (errno) {
                    case 12 -> "the memory-lock limit is too low (ENOMEM; raise it with `ulimit -l unlimited`, LimitMEMLOCK=infinity "
                            + "in a systemd unit, or --ulimit memlock=-1 for a container)";
                    case 1 -> "not permitted (EPERM; the memory-lock limit is 0: raise it with `ulimit -l unlimited`)";
                    case 11 -> "the system could not lock that much memory now (EAGAIN)";
                    default -> "mlock failed with errno " + errno;
                };
            }
        } catch (Throwable e) {
            return "mlock could not be called: " + e;
        }
    }
}
