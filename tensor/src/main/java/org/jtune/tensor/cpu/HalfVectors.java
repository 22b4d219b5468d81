package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.DType;
import org.jtune.tensor.Half;
import org.jtune.tensor.Tensor;

/**
 * Vector loads of 16-bit floats widened to F32 in registers: one {@link FloatVector} of the preferred
 * species from as many consecutive shorts (a half-width vector). BF16 is the top half of a binary32, so
 * the bits are sign-extended to int and shifted left by 16. F16 (binary16) uses the exponent re-bias
 * trick: (bits & 0x7fff) << 13 read as a float and multiplied by 2^112 is exact for normal and
 * subnormal values; exponent 31 (Inf/NaN) gets the F32 all-ones exponent OR-ed in; the sign is OR-ed
 * back (eight vector operations). Both are exact (every 16-bit value is representable in F32), matching {@link org.jtune.tensor.Half}.
 */
final class HalfVectors {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private HalfVectors() {}

    static FloatVector bf16(short[] a, int index) {
        return bf16Bits(ShortVector.fromArray(H, a, index));
    }

    static FloatVector bf16(MemorySegment s, long byteOffset) {
        return bf16Bits(ShortVector.fromMemorySegment(H, s, byteOffset, LE));
    }

    static FloatVector f16(short[] a, int index) {
        return f16Bits(ShortVector.fromArray(H, a, index));
    }

    static FloatVector f16(MemorySegment s, long byteOffset) {
        return f16Bits(ShortVector.fromMemorySegment(H, s, byteOffset, LE));
    }

    /** {@link #bf16} or {@link #f16}: a KV cache's row, whose format is one flag for a whole call. */
    static FloatVector widen(short[] a, int index, boolean bf16) {
        return bf16 ? bf16(a, index) : f16(a, index);
    }

    /** One element of such a row. */
    static float widen(short bits, boolean bf16) {
        return bf16 ? Half.bf16ToFloat(bits) : Half.f16ToFloat(bits);
    }

    /** dst[d, d + n) ← the 16-bit floats src[s, s + n) (BF16 when {@code bf16}, else F16), widened exactly. */
    static void widenRun(short[] src, int s, float[] dst, int d, int n, boolean bf16) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) widen(src, s + i, bf16).intoArray(dst, d + i);
        for (; i < n; i++) dst[d + i] = widen(src[s + i], bf16);
    }

    /** {@link #widenRun} from 16-bit floats in host memory (a mapped checkpoint), element s at byte 2·s of seg. */
    static void widenRun(MemorySegment seg, long s, float[] dst, int d, int n, boolean bf16) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            (bf16 ? bf16(seg, 2 * (s + i)) : f16(seg, 2 * (s + i))).intoArray(dst, d + i);
        }
        for (; i < n; i++) {
            short bits = seg.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 2 * (s + i));
            dst[d + i] = widen(bits, bf16);
        }
    }

    /**
     * dst[d, d + n) ← src[s, s + n) rounded to nearest even: BF16 by whole vectors (the bits of {@link Half#floatToBf16}, NaN
     * kept a quiet NaN), F16 by {@link Half#floatToF16} one element at a time.
     */
    static void narrowRun(float[] src, int s, short[] dst, int d, int n, boolean bf16) {
        int i = 0;
        if (bf16) {
            for (int bound = F.loopBound(n); i < bound; i += F.length()) {
                IntVector x = FloatVector.fromArray(F, src, s + i).reinterpretAsInts(), high = x.lanewise(VectorOperators.LSHR, 16);
                IntVector rounded = x.add(high.and(1).add(0x7fff)).lanewise(VectorOperators.LSHR, 16);
                VectorMask<Integer> nan = x.and(0x7fffffff).compare(VectorOperators.GT, 0x7f800000);
                ((ShortVector) rounded.blend(high.or(0x40), nan).convertShape(VectorOperators.I2S, H, 0)).intoArray(dst, d + i);
            }
        }
        for (; i < n; i++) dst[d + i] = bf16 ? Half.floatToBf16(src[s + i]) : Half.floatToF16(src[s + i]);
    }

    /** The short[] under t when t is heap BF16 or F16 with unit stride along its last dim (a half-precision KV cache), else null. */
    static short[] shorts(Tensor t) {
        if (t.dtype() != DType.BF16 && t.dtype() != DType.F16 || !t.storage().isHost()) return null;
        if (t.rank() > 0 && t.stride(-1) != 1 && t.size(-1) > 1) return null;
        return t.storage().segment().heapBase().orElse(null) instanceof short[] a ? a : null;
    }

    private static FloatVector bf16Bits(ShortVector bits) {
        IntVector w = (IntVector) bits.convertShape(VectorOperators.S2I, I, 0);
        return w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector f16Bits(ShortVector bits) {
        IntVector h = (IntVector) bits.convertShape(VectorOperators.S2I, I, 0), magnitude = h.and(0x7fff);
        FloatVector v = magnitude.lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
        // Inf/NaN (exponent 31) came out as 2^16·1.m: all-ones exponent, same mantissa; the sign is bit 31 of the sign-extended h
        IntVector bitsOut = v.reinterpretAsInts().lanewise(VectorOperators.OR, 0x7f800000, magnitude.compare(VectorOperators.GE, 0x7c00));
        return bitsOut.or(h.and(0x80000000)).reinterpretAsFloats();
    }
}
