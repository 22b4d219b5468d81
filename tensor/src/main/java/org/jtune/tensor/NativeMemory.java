package org.jtune.tensor;

import java.lang.foreign.MemorySegment;
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

    /** {@link #address}, with the message of the exception thrown when s's memory was released. */
    public static long address(MemorySegment s, long offset, long bytes, String releasedMessage) {
        Objects.checkFromIndexSize(offset, bytes, s.byteSize());
        if (!s.scope().isAlive()) throw new IllegalStateException(releasedMessage);
        return s.address() + offset;
    }
}
