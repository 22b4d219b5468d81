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
 * column shared by the rows), then their exact 32-bit totals Σ_j sc_j·Σ q·a and Σ_j m_j·A_j ({@link #chunkTotals}); per
 * super-block the two F32 multiply-adds per row, out += float(T)·(d·d_a), then out += float(M)·(dmin·(−d_a)) ({@link
 * #finish}), in the 512-bit kernel's order. The steps pass their vectors through small arrays rather than as arguments:
 * C2 boxes the vectors of a call it does not inline, and one method holding all the steps was too large for it to inline
 * the Vector API's own calls (70 MB allocated per decoded token, bench/RESULTS.md).
 */
final class Q4_Kx32Lanes8 {
    private static final int QK = Q4_Kx32Format.QK, GROUP = 32;
    private static final int CHUNK = Q4_Kx32Format.CHUNK, PLANES = Q4_Kx32Format.PLANES, D = Q4_Kx32Format.D, DMIN = Q4_Kx32Format.DMIN;
    private static final int BLOCK_BYTES = Q4_Kx32Format.BLOCK_BYTES;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

    private Q4_Kx32Lanes8() {}

    /** {@link Q4_Kx32Format#multiplyGroups} on groups [g0, g1) at address base (group g0), every row of x. */
    static void multiply(long base, int g0, int g1, int blocks, Q8Rows x, float[] out, int outOff, int outStride) {
        int m = x.rows(), cols = blocks * QK, sr = 8 * blocks;
        long groupBytes = (long) blocks * BLOCK_BYTES;
        int[] T = new int[64], M = new int[64];
        short[] acc = new short[128], a = x.codes();
        for (int g = g0; g < g1; g++) {
            long group = base + (g - g0) * groupBytes;
            for (int i = 0; i < m; i += 2) {
                int n = Math.min(2, m - i), o = outOff + i * outStride + g * GROUP;
                for (int r = 0; r < n; r++) java.util.Arrays.fill(out, o + r * outStride, o + r * outStride + GROUP, 0f);
                for (int b = 0; b < blocks; b++) {
                    long c = group + (long) b * BLOCK_BYTES;
                    int k = i * cols + b * QK;
                    java.util.Arrays.fill(T, 0);
                    java.util.Arrays.fill(M, 0);
                    for (int ch = 0; ch < 4; ch++) {
                        long cc = c + (long) CHUNK * ch;
                        if (n == 2) sums2(cc, a, k + 64 * ch, cols, acc);
                        else sums1(cc, a, k + 64 * ch, acc);
                        chunkTotals(cc, acc, n, x.sums(), i * sr + 8 * b, sr, 2 * ch, T, M);
                    }
                    finish(c, T, M, n, x.scales(), i * blocks + b, blocks, out, o, outStride);
                }
            }
        }
    }

    /** The 16-bit sums Σ q·a of chunk cc's two sub-blocks for one activation row (codes from a[kc ..]), into acc: per row, low nibbles rows 0..15, high nibbles rows 0..15, then the same for rows 16..31. */
    private static void sums1(long cc, short[] a, int kc, short[] acc) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        ShortVector zs = ShortVector.zero(S), lA0 = zs, hA0 = zs, lB0 = zs, hB0 = zs;
        for (int l = 0; l < 32; l++) {
            ShortVector u = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + 32 * l, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + 32 * l + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector ul = u.and((short) 15), uh = u.lanewise(VectorOperators.LSHR, 4), vl = v.and((short) 15), vh = v.lanewise(VectorOperators.LSHR, 4);
            short p = a[kc + l], q = a[kc + l + 32];
            lA0 = lA0.add(ul.mul(p));
            hA0 = hA0.add(uh.mul(q));
            lB0 = lB0.add(vl.mul(p));
            hB0 = hB0.add(vh.mul(q));
        }
        lA0.intoArray(acc, 0);
        hA0.intoArray(acc, 16);
        lB0.intoArray(acc, 32);
        hB0.intoArray(acc, 48);
    }

    /** The 16-bit sums Σ q·a of chunk cc's two sub-blocks for two activation rows (codes from a[kc ..] and a[kc + cols ..]), into acc: per row, low nibbles rows 0..15, high nibbles rows 0..15, then the same for rows 16..31. */
    private static void sums2(long cc, short[] a, int kc, int cols, short[] acc) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        ShortVector zs = ShortVector.zero(S), lA0 = zs, hA0 = zs, lB0 = zs, hB0 = zs, lA1 = zs, hA1 = zs, lB1 = zs, hB1 = zs;
        for (int l = 0; l < 32; l++) {
            ShortVector u = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + 32 * l, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + 32 * l + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector ul = u.and((short) 15), uh = u.lanewise(VectorOperators.LSHR, 4), vl = v.and((short) 15), vh = v.lanewise(VectorOperators.LSHR, 4);
            short p = a[kc + l], q = a[kc + l + 32];
            lA0 = lA0.add(ul.mul(p));
            hA0 = hA0.add(uh.mul(q));
            lB0 = lB0.add(vl.mul(p));
            hB0 = hB0.add(vh.mul(q));
            p = a[kc + cols + l];
            q = a[kc + cols + l + 32];
            lA1 = lA1.add(ul.mul(p));
            hA1 = hA1.add(uh.mul(q));
            lB1 = lB1.add(vl.mul(p));
            hB1 = hB1.add(vh.mul(q));
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
     * Adds chunk cc's part to the integer totals of rows 0..n−1 (their 16-bit sums in acc, as {@link #sums1} leaves them;
     * their code sums A_j at sums[s + r·sr + j], sub-blocks j and j + 1): T += (S_lo + 8·A_j)·sc_j + (S_hi + 8·A_{j+1})·sc_{j+1}
     * after the 16-bit S − 8·A (exact, as in the 512-bit kernel), M += m_j·A_j + m_{j+1}·A_{j+1}; 32 per row.
     */
    private static void chunkTotals(long cc, short[] acc, int n, int[] sums, int s, int sr, int j, int[] T, int[] M) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        for (int half = 0; half < 2; half++) {
            int h = 16 * half;
            ShortVector p0 = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + PLANES + h, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector p1 = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + PLANES + 32 + h, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector p2 = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + PLANES + 64 + h, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector scl = p0.and((short) 63), sch = p1.and((short) 63), ml = p2.and((short) 63);
            ShortVector mh = p0.lanewise(VectorOperators.LSHR, 6).or(p1.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 2))
                    .or(p2.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4));
            for (int r = 0; r < n; r++) {
                int al = sums[s + r * sr + j], ah = sums[s + r * sr + j + 1];
                ShortVector lo = ShortVector.fromArray(S, acc, 64 * r + 32 * half).sub((short) (8 * al));
                ShortVector hi = ShortVector.fromArray(S, acc, 64 * r + 32 * half + 16).sub((short) (8 * ah));
                for (int part = 0; part < 2; part++) {
                    int t = 32 * r + h + 8 * part;
                    IntVector.fromArray(I, T, t).add(((IntVector) lo.convertShape(VectorOperators.S2I, I, part)).add(8 * al).mul((IntVector) scl.convertShape(VectorOperators.S2I, I, part)))
                            .add(((IntVector) hi.convertShape(VectorOperators.S2I, I, part)).add(8 * ah).mul((IntVector) sch.convertShape(VectorOperators.S2I, I, part))).intoArray(T, t);
                    IntVector.fromArray(I, M, t).add(((IntVector) ml.convertShape(VectorOperators.S2I, I, part)).mul(al))
                            .add(((IntVector) mh.convertShape(VectorOperators.S2I, I, part)).mul(ah)).intoArray(M, t);
                }
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
