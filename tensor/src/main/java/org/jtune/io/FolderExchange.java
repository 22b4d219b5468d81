package org.jtune.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * Swaps two existing paths in one atomic step: Linux's renameat2(2) with RENAME_EXCHANGE (kernel
 * 3.15, glibc 2.28), called through the foreign-function API. With it, replacing a folder leaves no
 * moment in which the target path is missing. Where it is unavailable (another OS, an old libc, a
 * file system that refuses the flag) {@link #exchange} answers false and the caller falls back to two
 * renames, recovering from a crash between them on its next run.
 */
final class FolderExchange {
    private static final int AT_FDCWD = -100;
    private static final int RENAME_EXCHANGE = 2;
    private static final int EINVAL = 22, ENOSYS = 38, EOPNOTSUPP = 95;

    private static final MethodHandle RENAMEAT2;
    private static final StructLayout CAPTURE;
    private static final VarHandle ERRNO;

    static {
        MethodHandle h = null;
        StructLayout capture = null;
        VarHandle errno = null;
        try {
            if (System.getProperty("os.name", "").startsWith("Linux")) {
                Linker linker = Linker.nativeLinker();
                capture = Linker.Option.captureStateLayout();
                errno = capture.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
                h = linker.defaultLookup().find("renameat2").map(addr -> linker.downcallHandle(addr,
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
                        Linker.Option.captureCallState("errno"))).orElse(null);
            }
        } catch (RuntimeException | LinkageError e) {
            h = null; // no native access: the two-rename fallback
        }
        RENAMEAT2 = h;
        CAPTURE = capture;
        ERRNO = errno;
    }

    private FolderExchange() {}

    /** Atomically exchanges {@code a} and {@code b} (both must exist); false when this system cannot. */
    static boolean exchange(Path a, Path b) throws IOException {
        if (RENAMEAT2 == null || Boolean.getBoolean("jtune.noRenameExchange")) return false;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment pa = arena.allocateFrom(a.toAbsolutePath().toString());
            MemorySegment pb = arena.allocateFrom(b.toAbsolutePath().toString());
            int rc = (int) RENAMEAT2.invokeExact(state, AT_FDCWD, pa, AT_FDCWD, pb, RENAME_EXCHANGE);
            if (rc == 0) return true;
            int errno = (int) ERRNO.get(state, 0L);
            if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) return false;
            throw new IOException("cannot exchange " + a + " and " + b + ": renameat2 failed with errno " + errno);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("cannot exchange " + a + " and " + b + ": " + t, t);
        }
    }
}
