package org.jtune.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Objects;

/**
 * All of native memory as one segment of exact class, for vector loads from weights in native memory (a mapped
 * checkpoint, an arena). Why: the type profiles under {@code FloatVector.fromMemorySegment} (and the short and byte
 * loads) are one per JVM, shared by every caller; once they have seen a second segment class (a heap segment, an
 * arena, a mapped file), C2 compiles loads from a segment of unknown class through a type switch whose paths are not
 * intrinsified, 2–3 × slower (bench/RESULTS.md, "F32 decode GEMV over mapped weights"). Loads through {@link #ALL},
 * a constant, bind statically whatever the profiles say, and allocate nothing. It spans all memory with the global
 * scope, so a caller first checks its range against the weight's own segment with {@link #address}, once per call.
 * Used by the F32/BF16 GEMV and GEMM packing of {@code tensor.cpu} and by the quantized kernels of {@code quant}.
 */
public final class NativeMemory {
    public static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private NativeMemory() {}

    /**
     * The absolute address of bytes [offset, offset + bytes) of the native segment s, after checking that they lie
     * within it and that its memory is still alive.
     */
    public static long address(MemorySegment s, long offset, long bytes) {
        return address(s, offset, bytes, "matmul: the memory of a weight was released");
    }

    /** 2 MiB: the size of an x86-64 huge page. */
    static final long HUGE_PAGE = 2L << 20;

    /** Below this a weight's block comes from the JVM's allocator (a mapping per block would waste most of a page). */
    static final long SMALL = 64L << 10;

    /**
     * A new zeroed native segment of {@code bytes} for weights that are read again and again (the repacked layouts), freed
     * when it becomes unreachable. On Linux, from {@link #SMALL} up, an anonymous mapping of its own — outside the JVM's
     * direct-memory cap (MaxDirectMemorySize, by default the maximum heap, a quarter of the machine under `jtune serve`),
     * which the thousands of small expert matrices of a mixture of experts exceed (a Qwen3-30B-A3B slice of 12 layers failed
     * at 6.3 GB of them). From {@link #HUGE_PAGE} up the mapping is aligned to 2 MiB and advised {@code MADV_HUGEPAGE} before
     * it is touched, so that the kernel backs it with transparent huge pages where it allows them
     * ({@code /sys/kernel/mm/transparent_hugepage/enabled}: always or madvise): the hardware prefetchers stop at
     * every 4 KiB page and a weight stream pays a TLB walk per page; one row of BF16 weights in row groups streamed 46 GB/s
     * from huge pages against 34 from 4 KiB pages (two threads, 2026-12-06, bench/RESULTS.md; {@code -Djtune.hugePages=false}
     * leaves the advice out). Elsewhere, or when the mapping fails: an ordinary 64-byte-aligned allocation.
     */
    public static MemorySegment allocateLarge(long bytes) {
        if (bytes >= SMALL && Huge.MMAP != null) {
            try {
                boolean huge = bytes >= HUGE_PAGE && Huge.ADVISE;
                long len = huge ? bytes + HUGE_PAGE : bytes;
                MemorySegment base = (MemorySegment) Huge.MMAP.invokeExact(MemorySegment.NULL, len, 3, 0x22, -1, 0L);   // RW, private anonymous
                if (base.address() != -1L) {
                    long start = huge ? (base.address() + HUGE_PAGE - 1) & -HUGE_PAGE : base.address();
                    if (huge) {
                        // only the whole huge pages inside the block: a partly used last one would hold up to 2 MiB more
                        // resident than the block needs (per matrix: ~150 MB over a 1B model's projections)
                        MemorySegment whole = MemorySegment.ofAddress(start).reinterpret(bytes & -HUGE_PAGE);
                        int advised = (int) Huge.MADVISE.invokeExact(whole, whole.byteSize(), 14);                           // MADV_HUGEPAGE
                    }
                    long mappedAt = base.address();
                    return MemorySegment.ofAddress(start).reinterpret(bytes, Arena.ofAuto(), s -> unmap(mappedAt, len));
                }
            } catch (Throwable e) {
                // fall through to an ordinary allocation
            }
        }
        return Arena.ofAuto().allocate(bytes, 64);
    }

    private static void unmap(long address, long len) {
        try {
            int ignored = (int) Huge.MUNMAP.invokeExact(MemorySegment.ofAddress(address), len);
        } catch (Throwable e) {
            // nothing else to do with memory that cannot be given back
        }
    }

    /** libc's mmap, madvise and munmap, looked up once (null off Linux or when they cannot be bound); ADVISE: huge pages wanted. */
    private static final class Huge {
        static final MethodHandle MMAP, MADVISE, MUNMAP;
        static final boolean ADVISE = !"false".equals(System.getProperty("jtune.hugePages"));

        static {
            MethodHandle mmap = null, madvise = null, munmap = null;
            if (System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")
                    && System.getProperty("os.arch", "").matches("amd64|x86_64")) {
                try {
                    Linker linker = Linker.nativeLinker();
                    mmap = linker.downcallHandle(linker.defaultLookup().find("mmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS,
                            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                    madvise = linker.downcallHandle(linker.defaultLookup().find("madvise").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                    munmap = linker.downcallHandle(linker.defaultLookup().find("munmap").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
                } catch (RuntimeException | Error e) {   // no native access granted, or no such symbol
                    mmap = madvise = munmap = null;
                }
            }
            MMAP = mmap;
            MADVISE = madvise;
            MUNMAP = munmap;
        }
    }

    /** {@link #address}, with the message of the exception thrown when s's memory was released. */
    public static long address(MemorySegment s, long offset, long bytes, String releasedMessage) {
        Objects.checkFromIndexSize(offset, bytes, s.byteSize());
        if (!s.scope().isAlive()) throw new IllegalStateException(releasedMessage);
        return s.address() + offset;
    }
}
