package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.DType;
import org.jtune.tensor.Half;
import org.jtune.tensor.NativeMemory;
import org.jtune.tensor.Tensor;

/**
 * A read-only 2-D strided matrix of F32, BF16 or F16 data as the matrix-multiply kernels see it:
 * element (r, c) is at storage index {@code offset + r·rowStride + c·colStride} (strides in elements,
 * any sign or zero). Reads return F32. {@link #readRun} converts a run of consecutive storage elements
 * with vector loads; heap arrays (float[] / short[] at segment address 0) are read directly, any other
 * segment (off-heap, memory-mapped) through {@link NativeMemory#ALL} at the run's checked address (a load of exact class).
 */
record StridedMatrix(MemorySegment segment, float[] floats, short[] shorts, DType dtype,
                     long offset, long rowStride, long colStride, int rows, int cols) {
    private static final VectorSpecies<Float> S = HalfVectors.F;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final java.nio.ByteOrder LE = java.nio.ByteOrder.LITTLE_ENDIAN;

    /** The matrix formed by the last two dims of {@code t}, starting {@code batchOffset} elements past t's offset. */
    static StridedMatrix of(Tensor t, long batchOffset) {
        DType dt = t.dtype();
        if (dt != DType.F32 && dt != DType.BF16 && dt != DType.F16) {
            throw new IllegalArgumentException("matmul: unsupported dtype " + dt + " of " + t);
        }
        MemorySegment seg = t.storage().segment();
        Object base = seg.address() == 0 ? seg.heapBase().orElse(null) : null;
        return new StridedMatrix(seg, base instanceof float[] f && dt == DType.F32 ? f : null,
                base instanceof short[] s && dt != DType.F32 ? s : null, dt,
                t.offset() + batchOffset, t.stride(-2), t.stride(-1), t.size(-2), t.size(-1));
    }

    StridedMatrix transposed() {
        return new StridedMatrix(segment, floats, shorts, dtype, offset, colStride, rowStride, cols, rows);
    }

    /** Storage index of element (r, c). */
    long index(int r, int c) {
        return offset + r * rowStride + c * colStride;
    }

    /** The element at storage index {@code i}, as F32. */
    float at(long i) {
        return switch (dtype) {
            case F32 -> floats != null ? floats[(int) i] : segment.get(F32, i << 2);
            case BF16 -> Half.bf16ToFloat(shorts != null ? shorts[(int) i] : segment.get(I16, i << 1));
            default -> Half.f16ToFloat(shorts != null ? shorts[(int) i] : segment.get(I16, i << 1));
        };
    }

    /** dst[dstOff + t] ← element at storage index {@code start + t}, for t in [0, len). */
    void readRun(long start, int len, float[] dst, int dstOff) {
        int step = S.length();
        int bound = len - len % step;
        int t = 0;
        if (floats == null && shorts == null && bound > 0 && segment.isNative()) {
            // native rows (a mapped checkpoint): loads at absolute addresses through NativeMemory.ALL, of exact class
            int shift = dtype == DType.F32 ? 2 : 1;
            long at = NativeMemory.address(segment, start << shift, (long) bound << shift);
            MemorySegment all = NativeMemory.ALL;
            switch (dtype) {
                case F32 -> {
                    for (; t < bound; t += step) FloatVector.fromMemorySegment(S, all, at + ((long) t << 2), LE).intoArray(dst, dstOff + t);
                }
                case BF16 -> {
                    for (; t < bound; t += step) HalfVectors.bf16(all, at + ((long) t << 1)).intoArray(dst, dstOff + t);
                }
                default -> {
                    for (; t < bound; t += step) HalfVectors.f16(all, at + ((long) t << 1)).intoArray(dst, dstOff + t);
                }
            }
        } else {
            switch (dtype) {
                case F32 -> {
                    if (floats != null) {
                        System.arraycopy(floats, (int) start, dst, dstOff, len);
                        return;
                    }
                    for (; t < bound; t += step) FloatVector.fromMemorySegment(S, segment, (start + t) << 2, LE).intoArray(dst, dstOff + t);
                }
                case BF16 -> {
                    if (shorts != null) for (; t < bound; t += step) HalfVectors.bf16(shorts, (int) start + t).intoArray(dst, dstOff + t);
                    else for (; t < bound; t += step) HalfVectors.bf16(segment, (start + t) << 1).intoArray(dst, dstOff + t);
                }
                default -> {
                    if (shorts != null) for (; t < bound; t += step) HalfVectors.f16(shorts, (int) start + t).intoArray(dst, dstOff + t);
                    else for (; t < bound; t += step) HalfVectors.f16(segment, (start + t) << 1).intoArray(dst, dstOff + t);
                }
            }
        }
        for (; t < len; t++) dst[dstOff + t] = at(start + t);
    }
}
