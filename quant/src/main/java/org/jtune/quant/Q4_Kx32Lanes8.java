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
 * {@link Q4_Kx32Format}'s product with 256-bit vectors (AVX2), on the same bytes and with the same bits, as
 * {@link Q4_0x32Lanes8} is Q4_0's: each column of 32 code bytes and each plane of scales and mins is two halves of 16 rows.
 * Per chunk of 64 columns, one or two activation rows' 16-bit sub-block sums ({@link #sums1}, {@link #sums2}: each decoded
 * column shared by the rows), then their exact 32-bit totals Σ_j sc_j·Σ q·a and Σ_j m_j·A_j ({@link #totals1},
 * {@link #totals2}); per super-block the two F32 multiply-adds per row, out += float(T)·(d·d_a), then
 * out += float(M)·(dmin·(−d_a)) ({@link #finish}), in the 512-bit kernel's order. The steps pass their vectors through
 * small arrays rather than as arguments: C2 boxes the vectors of a call it does not inline, and one method holding all the
 * steps was too large for it to inline the Vector API's own calls (70 MB allocated per decoded token, bench/RESULTS.md);
 * a whole super-block in one method was too large for C1 ("out of virtual registers"), and the process never left it.
 *
 * <p>A code byte b = lo + 16·hi holds weights j and j + 16 of one sub-block, so, as in {@link Q4_0x32Lanes8}, b zero-extended
 * times code_j plus (b &gt;&gt;&gt; 4) times the paired code_{j+16} − 16·code_j ({@link Q8Rows#pairedCodes}) is lo·code_j +
 * hi·code_{j+16} modulo 2^16, without a mask. The totals widen the 16-bit sums from memory eight at a time and the scale
 * planes' bytes straight to 32 bits (no 16-bit step, no lane extraction). One row, 5632 × 2048 from DRAM on one thread
 * (Zen 3, alternating with the previous kernel, 2026-12-07): 0.84 → 0.70 ms; one 32 × 1024 group from L1: 69 → 52 ns per
 * 1024 weights.
 */
final class Q4_Kx32Lanes8 {
    private static final int QK = Q4_Kx32Format.QK, GROUP = 32;
    private static final int CHUNK = Q4_Kx32Format.CHUNK, PLANES = Q4_Kx32Format.PLANES, D = Q4_Kx32Format.D, DMIN = Q4_Kx32Format.DMIN;
    private static final int BLOCK_BYTES = Q4_Kx32Format.BLOCK_BYTES;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256, S8 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128, B8 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

    private Q4_Kx32Lanes8() {}

    /** {@link Q4_Kx32Format#multiplyGroups} on groups [g0, g1) at address base (group g0), every row of x. */
    static void multiply(long base, int g0, int g1, int blocks, Q8Rows x, float[] out, int outOff, int outStride) {
        int m = x.rows(), cols = blocks * QK, sr = 8 * blocks;
        long groupBytes = (long) blocks * BLOCK_BYTES;
        int[] T = new int[64], M = new int[64], sums = x.sums();
        short[] acc = new short[128], a = x.pairedCodes();
        for (int g = g0; g < g1; g++) {
            long group = base + (g - g0) * groupBytes;
            for (int i = 0; i < m; i += 2) {
                int n = Math.min(2, m - i), o = outOff + i * outStride + g * GROUP;
                for (int r = 0; r < n; r++) java.util.Arrays.fill(out, o + r * outStride, o + r * outStride + GROUP, 0f);
                for (int b = 0; b < blocks; b++) {
                    long c = group + (long) b * BLOCK_BYTES;
                    int k = i * cols + b * QK, s = i * sr + 8 * b;
                    java.util.Arrays.fill(T, 0);
                    java.util.Arrays.fill(M, 0);
                    for (int ch = 0; ch < 4; ch++, s += 2) {
                        long cc = c + (long) CHUNK * ch;
                        if (n == 2) {
                            sums2(cc, a, k + 64 * ch, cols, acc);
                            totals2(cc, acc, sums[s], sums[s + 1], sums[s + sr], sums[s + sr + 1], T, M);
                        } else {
                            sums1(cc, a, k + 64 * ch, acc);
                            totals1(cc, acc, sums[s], sums[s + 1], T, M);
                        }
                    }
                    finish(c, T, M, n, x.scales(), i * blocks + b, blocks, out, o, outStride);
                }
            }
        }
    }

    /**
     * The 16-bit sums Σ q·a of chunk cc's two sub-blocks for one activation row (paired codes from a[kc ..]), into acc:
     * sub-block 2c rows 0..15, sub-block 2c + 1 rows 0..15, then the same for rows 16..31. Column 2l + s (sub-block s) at
     * cc + 64l + 32s: the 64 bytes of an iteration are read in address order.
     */
    private static void sums1(long cc, short[] a, int kc, short[] acc) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        ShortVector zs = ShortVector.zero(S), lA = zs, hA = zs, lB = zs, hB = zs;
        for (int l = 0; l < 16; l++) {
            long col = cc + 64L * l;
            ShortVector u = (ShortVector) ByteVector.fromMemorySegment(B, mem, col, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B, mem, col + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector w = (ShortVector) ByteVector.fromMemorySegment(B, mem, col + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector z = (ShortVector) ByteVector.fromMemorySegment(B, mem, col + 48, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            short p = a[kc + l], q = a[kc + l + 16], p2 = a[kc + l + 32], q2 = a[kc + l + 48];
            lA = lA.add(u.mul(p)).add(u.lanewise(VectorOperators.LSHR, 4).mul(q));
            lB = lB.add(v.mul(p)).add(v.lanewise(VectorOperators.LSHR, 4).mul(q));
            hA = hA.add(w.mul(p2)).add(w.lanewise(VectorOperators.LSHR, 4).mul(q2));
            hB = hB.add(z.mul(p2)).add(z.lanewise(VectorOperators.LSHR, 4).mul(q2));
        }
        lA.intoArray(acc, 0);
        hA.intoArray(acc, 16);
        lB.intoArray(acc, 32);
        hB.intoArray(acc, 48);
    }

    /** {@link #sums1} for two activation rows (the second's paired codes from a[kc + cols ..]), its sums after the first's at acc[64 ..]. */
    private static void sums2(long cc, short[] a, int kc, int cols, short[] acc) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        ShortVector zs = ShortVector.zero(S), lA0 = zs, hA0 = zs, lB0 = zs, hB0 = zs, lA1 = zs, hA1 = zs, lB1 = zs, hB1 = zs;
        for (int l = 0; l < 16; l++) {
            long col = cc + 64L * l;
            ShortVector u = (ShortVector) ByteVector.fromMemorySegment(B, mem, col, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B, mem, col + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector uh = u.lanewise(VectorOperators.LSHR, 4), vh = v.lanewise(VectorOperators.LSHR, 4);
            short p = a[kc + l], q = a[kc + l + 16];
            lA0 = lA0.add(u.mul(p)).add(uh.mul(q));
            lB0 = lB0.add(v.mul(p)).add(vh.mul(q));
            p = a[kc + cols + l];
            q = a[kc + cols + l + 16];
            lA1 = lA1.add(u.mul(p)).add(uh.mul(q));
            lB1 = lB1.add(v.mul(p)).add(vh.mul(q));
            u = (ShortVector) ByteVector.fromMemorySegment(B, mem, col + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            v = (ShortVector) ByteVector.fromMemorySegment(B, mem, col + 48, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            uh = u.lanewise(VectorOperators.LSHR, 4);
            vh = v.lanewise(VectorOperators.LSHR, 4);
            p = a[kc + l + 32];
            q = a[kc + l + 48];
            hA0 = hA0.add(u.mul(p)).add(uh.mul(q));
            hB0 = hB0.add(v.mul(p)).add(vh.mul(q));
            p = a[kc + cols + l + 32];
            q = a[kc + cols + l + 48];
            hA1 = hA1.add(u.mul(p)).add(uh.mul(q));
            hB1 = hB1.add(v.mul(p)).add(vh.mul(q));
        }
        lA0.intoArray(acc, 0);
        hA0.intoArray(acc, 16);
        lB0.intoArray(acc, 32);
        hB0.intoArray(acc, 48);
        lA1.intoArray(acc, 64);
        hA1.intoArray(acc, 80);
        lB1.intoArray(acc, 96);
        hB1.intoArray(acc, 112);
    }

    /**
     * Adds chunk cc's part to one activation row's integer totals (its 16-bit sums in acc as {@link #sums1} leaves them; its
     * code sums A_j = al and A_{j+1} = ah): per 8 rows, T += (S_lo − 8·al + 8·al)·sc_l + (S_hi − 8·ah + 8·ah)·sc_h, the
     * subtraction in 16 bits (exact there, as in the 512-bit kernel) and the rest in 32, M += m_l·al + m_h·ah, where m_h
     * is the top 2 bits of each plane byte: p0 &gt;&gt;&gt; 6 | (p1 &gt;&gt;&gt; 6) &lt;&lt; 2 | (p2 &gt;&gt;&gt; 6) &lt;&lt; 4. The two 8-row quarters
     * of a half are written out (the lane part a constant) and there are no helper methods: with helpers C2 did not inline
     * them all and boxed the vectors they returned; with a loop over quarters, 16-bit sums widened from 128-bit loads were
     * slower (two rows 25 % and 10 % slower than this).
     */
    private static void totals1(long cc, short[] acc, int al, int ah, int[] T, int[] M) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        for (int half = 0; half < 2; half++) {
            int h = 32 * half;
            ShortVector lo0 = ShortVector.fromArray(S, acc, h).sub((short) (8 * al)), hi0 = ShortVector.fromArray(S, acc, h + 16).sub((short) (8 * ah));
            {                                                         // rows 16·half .. 16·half + 7
                long plane = cc + PLANES + 16 * half;
                IntVector p0 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector p1 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector p2 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector scl = p0.and(63), sch = p1.and(63), ml = p2.and(63);
                IntVector mh = p0.lanewise(VectorOperators.LSHR, 6).or(p1.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 2))
                        .or(p2.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4));
                int t = 16 * half;
                IntVector.fromArray(I, T, t).add(((IntVector) lo0.convertShape(VectorOperators.S2I, I, 0)).add(8 * al).mul(scl))
                        .add(((IntVector) hi0.convertShape(VectorOperators.S2I, I, 0)).add(8 * ah).mul(sch)).intoArray(T, t);
                IntVector.fromArray(I, M, t).add(ml.mul(al)).add(mh.mul(ah)).intoArray(M, t);
            }
            {                                                         // rows 16·half + 8 .. 16·half + 15
                long plane = cc + PLANES + 16 * half + 8;
                IntVector p0 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector p1 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector p2 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector scl = p0.and(63), sch = p1.and(63), ml = p2.and(63);
                IntVector mh = p0.lanewise(VectorOperators.LSHR, 6).or(p1.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 2))
                        .or(p2.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4));
                int t = 16 * half + 8;
                IntVector.fromArray(I, T, t).add(((IntVector) lo0.convertShape(VectorOperators.S2I, I, 1)).add(8 * al).mul(scl))
                        .add(((IntVector) hi0.convertShape(VectorOperators.S2I, I, 1)).add(8 * ah).mul(sch)).intoArray(T, t);
                IntVector.fromArray(I, M, t).add(ml.mul(al)).add(mh.mul(ah)).intoArray(M, t);
            }
        }
    }

    /** {@link #totals1} for two activation rows (the second's code sums bl, bh; its sums at acc[64 ..], its totals at T[32 ..] and M[32 ..]). */
    private static void totals2(long cc, short[] acc, int al, int ah, int bl, int bh, int[] T, int[] M) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        for (int half = 0; half < 2; half++) {
            int h = 32 * half;
            ShortVector lo0 = ShortVector.fromArray(S, acc, h).sub((short) (8 * al)), hi0 = ShortVector.fromArray(S, acc, h + 16).sub((short) (8 * ah));
            ShortVector lo1 = ShortVector.fromArray(S, acc, h + 64).sub((short) (8 * bl)), hi1 = ShortVector.fromArray(S, acc, h + 80).sub((short) (8 * bh));
            {                                                         // rows 16·half .. 16·half + 7
                long plane = cc + PLANES + 16 * half;
                IntVector p0 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector p1 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector p2 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector scl = p0.and(63), sch = p1.and(63), ml = p2.and(63);
                IntVector mh = p0.lanewise(VectorOperators.LSHR, 6).or(p1.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 2))
                        .or(p2.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4));
                int t = 16 * half;
                IntVector.fromArray(I, T, t).add(((IntVector) lo0.convertShape(VectorOperators.S2I, I, 0)).add(8 * al).mul(scl))
                        .add(((IntVector) hi0.convertShape(VectorOperators.S2I, I, 0)).add(8 * ah).mul(sch)).intoArray(T, t);
                IntVector.fromArray(I, M, t).add(ml.mul(al)).add(mh.mul(ah)).intoArray(M, t);
                IntVector.fromArray(I, T, t + 32).add(((IntVector) lo1.convertShape(VectorOperators.S2I, I, 0)).add(8 * bl).mul(scl))
                        .add(((IntVector) hi1.convertShape(VectorOperators.S2I, I, 0)).add(8 * bh).mul(sch)).intoArray(T, t + 32);
                IntVector.fromArray(I, M, t + 32).add(ml.mul(bl)).add(mh.mul(bh)).intoArray(M, t + 32);
            }
            {                                                         // rows 16·half + 8 .. 16·half + 15
                long plane = cc + PLANES + 16 * half + 8;
                IntVector p0 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector p1 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector p2 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector scl = p0.and(63), sch = p1.and(63), ml = p2.and(63);
                IntVector mh = p0.lanewise(VectorOperators.LSHR, 6).or(p1.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 2))
                        .or(p2.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4));
                int t = 16 * half + 8;
                IntVector.fromArray(I, T, t).add(((IntVector) lo0.convertShape(VectorOperators.S2I, I, 1)).add(8 * al).mul(scl))
                        .add(((IntVector) hi0.convertShape(VectorOperators.S2I, I, 1)).add(8 * ah).mul(sch)).intoArray(T, t);
                IntVector.fromArray(I, M, t).add(ml.mul(al)).add(mh.mul(ah)).intoArray(M, t);
                IntVector.fromArray(I, T, t + 32).add(((IntVector) lo1.convertShape(VectorOperators.S2I, I, 1)).add(8 * bl).mul(scl))
                        .add(((IntVector) hi1.convertShape(VectorOperators.S2I, I, 1)).add(8 * bh).mul(sch)).intoArray(T, t + 32);
                IntVector.fromArray(I, M, t + 32).add(ml.mul(bl)).add(mh.mul(bh)).intoArray(M, t + 32);
            }
        }
    }

    /**
     * The F32 step of super-block c for rows 0..n−1 (row r's activation scale ds[di + r·blocks], output at out[o + r·stride ..]):
     * out += float(T)·(d·d_a), then += float(M)·(dmin·(−d_a)), d and dmin widened from their words as the 512-bit kernel does.
     */
    private static void finish(long c, int[] T, int[] M, int n, float[] ds, int di, int blocks, float[] out, int o, int stride) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        for (int q = 0; q < 4; q++) {
            // rows 8q .. 8q + 7: words 0..7 (q = 0, 2) or 8..15 (q = 1, 3), low halves (q < 2) or high halves
            IntVector h = IntVector.fromMemorySegment(I, mem, c + D + 32 * (q & 1), LE), g = IntVector.fromMemorySegment(I, mem, c + DMIN + 32 * (q & 1), LE);
            FloatVector d, dm;
            if (q < 2) {
                d = h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                        .or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
                dm = g.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                        .or(g.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            } else {
                d = h.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                        .or(h.and(0x80000000)).reinterpretAsFloats();
                dm = g.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                        .or(g.and(0x80000000)).reinterpretAsFloats();
            }
            for (int r = 0; r < n; r++) {
                float da = ds[di + r * blocks];
                int p = o + r * stride + 8 * q, t = 32 * r + 8 * q;
                ((FloatVector) IntVector.fromArray(I, M, t).convert(VectorOperators.I2F, 0)).fma(dm.mul(-da), ((FloatVector) IntVector.fromArray(I, T, t)
                        .convert(VectorOperators.I2F, 0)).fma(d.mul(da), FloatVector.fromArray(F, out, p))).intoArray(out, p);
            }
        }
    }
}
