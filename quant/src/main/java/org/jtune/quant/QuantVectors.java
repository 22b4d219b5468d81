package org.jtune.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.NativeMemory;

/**
 * The vector shapes the quantized dot kernels use: F32 lanes of the preferred species and a byte species
 * with as many lanes, so that {@code convertShape(B2F, F, 0)} widens a load of L quant bytes into one
 * float vector in registers. ggml's sub-blocks are 16 or 32 elements long, so the kernels need
 * 8 ≤ L ≤ 16 (AVX2, AVX-512); elsewhere ({@link #ENABLED} false, e.g. 128-bit NEON) the formats fall back
 * to their scalar dot (-Djtune.quant.scalar=true forces that path; a test execution of the quant module
 * runs the oracles on it). Also the little-endian scalar accessors of block fields, and what the decode kernels
 * share: the checked address of native rows they load from through a segment of exact class, a per-thread native
 * copy of heap rows, and a lane sum in a fixed order.
 */
final class QuantVectors {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final boolean ENABLED = L >= 8 && L <= 16 && !Boolean.getBoolean("jtune.quant.scalar");
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    static final VectorSpecies<Integer> I = jdk.incubator.vector.IntVector.SPECIES_PREFERRED;
    /** Shorts with as many lanes as F (for F16/BF16 rows). */
    static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, L * 16)));
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    /**
     * F16 → F32 for finite values in vectors, as the interleaved formats widen their scales: the magnitude bits shifted into
     * F32's place, times 2¹¹² (exact, subnormals too), the sign OR-ed back.
     */
    static final float F16_BIAS = 0x1p112f;

    private QuantVectors() {}

    /**
     * All of native memory as one segment of exact class, loaded from at absolute addresses ({@link #checkedAddress}):
     * tensor's {@link NativeMemory#ALL} (why: see there; here the Q8_0 GEMV fell from 20 to 6.6–8.8 GB/s on one thread
     * through a segment of polluted profile, and a segment made per call allocated 80 bytes per row; bench/RESULTS.md).
     */
    static final MemorySegment ALL_NATIVE = NativeMemory.ALL;

    /** The absolute address of bytes [off, off + n) of the native segment s, checked inside it and alive. */
    static long checkedAddress(MemorySegment s, long off, long n) {
        return NativeMemory.address(s, off, n, "the memory of a quantized weight was released");
    }

    private static final ThreadLocal<MemorySegment[]> SCRATCH = ThreadLocal.withInitial(() -> new MemorySegment[1]);

    /**
     * s itself when it is native; otherwise (rows on the heap: tests, callers' arrays) bytes [off, off + n) of s copied
     * to the start of this thread's native scratch, so that a kernel built on {@link #checkedAddress} takes any segment.
     */
    static MemorySegment nativeRows(MemorySegment s, long off, long n) {
        if (s.isNative()) return s;
        MemorySegment[] held = SCRATCH.get();
        if (held[0] == null || held[0].byteSize() < n) held[0] = java.lang.foreign.Arena.ofAuto().allocate(Math.max(n, 1 << 12), 64);
        MemorySegment.copy(s, off, held[0], 0, n);
        return held[0];
    }

    static final jdk.incubator.vector.VectorShuffle<Float> X8 = jdk.incubator.vector.VectorShuffle.fromOp(F, i -> (i ^ 8) & (L - 1));
    static final jdk.incubator.vector.VectorShuffle<Float> X4 = jdk.incubator.vector.VectorShuffle.fromOp(F, i -> (i ^ 4) & (L - 1));
    static final jdk.incubator.vector.VectorShuffle<Float> X2 = jdk.incubator.vector.VectorShuffle.fromOp(F, i -> (i ^ 2) & (L - 1));
    static final jdk.incubator.vector.VectorShuffle<Float> X1 = jdk.incubator.vector.VectorShuffle.fromOp(F, i -> (i ^ 1) & (L - 1));

    /**
     * The sum of the 16 lanes of v in a fixed tree (lanes i and i^8 added, then i^4, i^2, i^1), so a row's result is
     * the same bits compiled or interpreted: {@code reduceLanes(ADD)} may add F32 lanes in another order in its
     * intrinsic than in its Java fallback (a Q6_K GEMV gave different last bits on the same rows before and after C2
     * compiled it). Four permutes and four adds, where {@code VectorMath.sum}'s lane-by-lane sum takes sixteen extractions.
     */
    static float sum16(FloatVector v) {
        v = v.add(v.rearrange(X8));
        v = v.add(v.rearrange(X4));
        v = v.add(v.rearrange(X2));
        v = v.add(v.rearrange(X1));
        return v.lane(0);
    }

    /** The F16 field at byte offset off, as a float. */
    static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(SHORT, off));
    }

    static void putF16(MemorySegment s, long off, float v) {
        s.set(SHORT, off, Float.floatToFloat16(v));
    }

    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);

    static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    static byte i8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off);
    }

    static void put(MemorySegment s, long off, int b) {
        s.set(ValueLayout.JAVA_BYTE, off, (byte) b);
    }

    /** L bytes at off, sign-extended to int lanes (shifts and masks are native on int lanes, emulated on bytes). */
    static jdk.incubator.vector.IntVector widen(MemorySegment s, long off) {
        return (jdk.incubator.vector.IntVector) ByteVector.fromMemorySegment(B, s, off, LE).convertShape(jdk.incubator.vector.VectorOperators.B2I, I, 0);
    }

    /** F16 (binary16) bits widened exactly: magnitude re-biased by 2^112, Inf/NaN patched, sign or-ed back. */
    static FloatVector f16Bits(jdk.incubator.vector.ShortVector bits) {
        var h = (jdk.incubator.vector.IntVector) bits.convertShape(jdk.incubator.vector.VectorOperators.S2I, I, 0);
        var magnitude = h.and(0x7fff).lanewise(jdk.incubator.vector.VectorOperators.LSHL, 13);
        FloatVector v = magnitude.reinterpretAsFloats().mul(0x1p112f);
        var special = h.and(0x7c00).eq(0x7c00);
        var out = v.reinterpretAsInts().blend(magnitude.or(0x7f800000), special);
        return out.or(h.and(0x8000).lanewise(jdk.incubator.vector.VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** BF16 bits widened exactly (the top half of a binary32). */
    static FloatVector bf16Bits(jdk.incubator.vector.ShortVector bits) {
        var w = (jdk.incubator.vector.IntVector) bits.convertShape(jdk.incubator.vector.VectorOperators.S2I, I, 0);
        return w.lanewise(jdk.incubator.vector.VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
