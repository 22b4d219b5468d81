package org.jtune.quant;

import static org.jtune.quant.QuantVectors.F16_BIAS;
import static org.jtune.quant.QuantVectors.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.Q8Rows;

/**
 * {@link Q6_Kx32Format}'s product with 256-bit vectors (AVX2), on the same bytes and with the same bits, as
 * {@link Q4_Kx32Lanes8} is Q4_K's: the 32 rows of a group in two halves of 16, one activation row at a time. Per chunk and
 * half, the eight 16-bit sums (four quarters × two runs of 8 columns) with 32·Σa subtracted ({@link #sums}), then their
 * exact 32-bit total Σ_g sc_g·Σ (q − 32)·a ({@link #chunkTotals}); per super-block out += float(T)·(d·d_a) ({@link #finish}),
 * in the 512-bit kernel's order. The steps pass vectors through small arrays (C2 boxes the vectors of a call it does not
 * inline).
 */
final class Q6_Kx32Lanes8 {
    private static final int QK = Q6_Kx32Format.QK, GROUP = 32, BLOCK_BYTES = Q6_Kx32Format.BLOCK_BYTES;
    private static final int CHUNK = Q6_Kx32Format.CHUNK, PLANES = Q6_Kx32Format.PLANES, D = Q6_Kx32Format.D;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

    private Q6_Kx32Lanes8() {}

    /** {@link Q6_Kx32Format#multiplyGroups} on groups [g0, g1) at address base (group g0), every row of x. */
    static void multiply(long base, int g0, int g1, int blocks, Q8Rows x, float[] out, int outOff, int outStride) {
        int m = x.rows();
        long groupBytes = (long) blocks * BLOCK_BYTES;
        int[] T = new int[32];
        short[] acc = new short[128];
        for (int g = g0; g < g1; g++) {
            long group = base + (g - g0) * groupBytes;
            for (int i = 0; i < m; i++) {
                int o = outOff + i * outStride + g * GROUP;
                java.util.Arrays.fill(out, o, o + GROUP, 0f);
                for (int b = 0; b < blocks; b++) {
                    long c = group + (long) b * BLOCK_BYTES;
                    java.util.Arrays.fill(T, 0);
                    for (int h = 0; h < 2; h++) {
                        for (int l0 = 0; l0 < 32; l0 += 16) {
                            int k = i * blocks * QK + b * QK + 128 * h + l0;   // the activation of weight (h, l0, quarter 0)
                            long col = c + CHUNK * (2 * h + l0 / 16);
                            for (int half = 0; half < 2; half++) {
                                sums(col + 16 * half, x.codes(), k, x.sums8(), acc);
                                chunkTotals(col + PLANES + 16 * half, acc, T, 16 * half);
                            }
                        }
                    }
                    finish(c, T, x.scales()[i * blocks + b], out, o);
                }
            }
        }
    }

    /**
     * The 16-bit sums of one half (16 rows, codes at p + 96·j, +32, +64 for column j) over the chunk's 16 columns: per
     * quarter q, columns 0..7 into acc[32q ..] and 8..15 into acc[32q + 16 ..], each minus 32·Σa of its 8 activation codes.
     */
    private static void sums(long p0, short[] a, int k, short[] c8, short[] acc) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        ShortVector z = ShortVector.zero(S), s0 = z, s1 = z, s2 = z, s3 = z, u0 = z, u1 = z, u2 = z, u3 = z;
        for (int j = 0; j < 8; j++) {
            long p = p0 + 96 * j;
            ShortVector vx = (ShortVector) ByteVector.fromMemorySegment(B, mem, p, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector vy = (ShortVector) ByteVector.fromMemorySegment(B, mem, p + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector vz = (ShortVector) ByteVector.fromMemorySegment(B, mem, p + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector q3 = vx.lanewise(VectorOperators.LSHR, 6).or(vy.lanewise(VectorOperators.LSHR, 4).and((short) 12))
                    .or(vz.lanewise(VectorOperators.LSHR, 2).and((short) 48));
            s0 = s0.add(vx.and((short) 63).mul(a[k + j]));
            s1 = s1.add(vy.and((short) 63).mul(a[k + j + 32]));
            s2 = s2.add(vz.and((short) 63).mul(a[k + j + 64]));
            s3 = s3.add(q3.mul(a[k + j + 96]));
        }
        for (int j = 8; j < 16; j++) {
            long p = p0 + 96 * j;
            ShortVector vx = (ShortVector) ByteVector.fromMemorySegment(B, mem, p, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector vy = (ShortVector) ByteVector.fromMemorySegment(B, mem, p + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector vz = (ShortVector) ByteVector.fromMemorySegment(B, mem, p + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector q3 = vx.lanewise(VectorOperators.LSHR, 6).or(vy.lanewise(VectorOperators.LSHR, 4).and((short) 12))
                    .or(vz.lanewise(VectorOperators.LSHR, 2).and((short) 48));
            u0 = u0.add(vx.and((short) 63).mul(a[k + j]));
            u1 = u1.add(vy.and((short) 63).mul(a[k + j + 32]));
            u2 = u2.add(vz.and((short) 63).mul(a[k + j + 64]));
            u3 = u3.add(q3.mul(a[k + j + 96]));
        }
        int e = k / 8;                                             // c8 of columns k .. k + 7
        s0.sub((short) (c8[e] << 5)).intoArray(acc, 0);
        u0.sub((short) (c8[e + 1] << 5)).intoArray(acc, 16);
        s1.sub((short) (c8[e + 4] << 5)).intoArray(acc, 32);
        u1.sub((short) (c8[e + 5] << 5)).intoArray(acc, 48);
        s2.sub((short) (c8[e + 8] << 5)).intoArray(acc, 64);
        u2.sub((short) (c8[e + 9] << 5)).intoArray(acc, 80);
        s3.sub((short) (c8[e + 12] << 5)).intoArray(acc, 96);
        u3.sub((short) (c8[e + 13] << 5)).intoArray(acc, 112);
    }

    /** T[t ..] += Σ_q (S_q + U_q)·sc_q for one half (rows t .. t + 15), the int8 scales of quarter q at plane + 32·q. */
    private static void chunkTotals(long plane, short[] acc, int[] T, int t) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        for (int part = 0; part < 2; part++) {
            IntVector total = IntVector.fromArray(I, T, t + 8 * part);
            for (int q = 0; q < 4; q++) {
                ShortVector s = ShortVector.fromArray(S, acc, 32 * q), u = ShortVector.fromArray(S, acc, 32 * q + 16);
                IntVector sc = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane + 32 * q + 8 * part, LE).convertShape(VectorOperators.B2I, I, 0);
                total = total.add(((IntVector) s.convertShape(VectorOperators.S2I, I, part)).add((IntVector) u.convertShape(VectorOperators.S2I, I, part)).mul(sc));
            }
            total.intoArray(T, t + 8 * part);
        }
    }

    /** out[o + r] += float(T_r)·(d_r·da) for the 32 rows of super-block c, d widened from its 16 words as the 512-bit kernel does. */
    private static void finish(long c, int[] T, float da, float[] out, int o) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        for (int q = 0; q < 4; q++) {
            // rows 8q .. 8q + 7: words 0..7 (q = 0, 2) or 8..15 (q = 1, 3), low halves (q < 2) or high halves
            IntVector h = IntVector.fromMemorySegment(I, mem, c + D + 32 * (q & 1), LE);
            FloatVector d = q < 2
                    ? h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                            .or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats()
                    : h.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                            .or(h.and(0x80000000)).reinterpretAsFloats();
            int p = o + 8 * q;
            ((FloatVector) IntVector.fromArray(I, T, 8 * q).convert(VectorOperators.I2F, 0)).fma(d.mul(da), FloatVector.fromArray(F, out, p)).intoArray(out, p);
        }
    }
}
