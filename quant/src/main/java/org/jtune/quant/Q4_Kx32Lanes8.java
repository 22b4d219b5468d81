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
 *
 * <p>From {@value #PANEL_MIN_ROWS} activation rows (a prefill, a large batch) all but the last few take a float panel
 * ({@link #panelRows}): half a super-block's codes widened once to floats, six activation rows times 16 weight rows in
 * twelve F32 registers per sub-block, each sum exact and read back as an integer from its bits ({@link #MAGIC}); the same
 * totals and outputs as the integer kernels. 5632 × 2048 on one thread (minima of runs): 64 rows 32–40 → 25–32 ms, 128 rows 70–71 →
 * 50–53 ms; 24 rows ~10 % faster, 12 rows level (alternating in one process, 2026-12-07).
 */
final class Q4_Kx32Lanes8 {
    private static final int QK = Q4_Kx32Format.QK, GROUP = 32;
    private static final int CHUNK = Q4_Kx32Format.CHUNK, PLANES = Q4_Kx32Format.PLANES, D = Q4_Kx32Format.D, DMIN = Q4_Kx32Format.DMIN;
    private static final int BLOCK_BYTES = Q4_Kx32Format.BLOCK_BYTES;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256, S8 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128, B8 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

    /** Activation rows from which groups are multiplied through a float panel ({@link #panelRows}); rows per tile. */
    static final int PANEL_MIN_ROWS = 24, TILE_ROWS = ActivationStrips.ROWS;

    /**
     * Half a super-block of a group widened for the panel: codes[k·32 + r] = row r's q of its column k (0..127) as a float
     * (16 KiB); the super-block's sub-block scales and mins sc[j·32 + r], mn[j·32 + r], each row's Σ_j sc_j, and its d and
     * dmin widened as {@link #finish} widens them (row order); the totals of every tile and half of the group between the
     * two halves.
     */
    private record Panel(float[] codes, int[] sc, int[] mn, int[] scSum, float[] d, float[] dmin, int[][] totals) {}
    private static final ThreadLocal<Panel> PANEL = ThreadLocal.withInitial(() -> new Panel(new float[128 * GROUP], new int[8 * GROUP],
            new int[8 * GROUP], new int[GROUP], new float[GROUP], new float[GROUP], new int[][] {new int[0]}));
    /**
     * The sums' starting value, 1.5·2^23: a sum S of products (|S| ≤ 15·127·32) added to it stays in [2^23, 2^24), where
     * F32 holds every integer, so its bits are 0x4B400000 + S: S as an int without a conversion (F2I on AVX2 is
     * vcvttps2dq plus Java's fix-up for NaN and overflow, and converting went through memory: the first panel spent half
     * its time there).
     */
    static final float MAGIC = 0x1.8p23f;
    static final int MAGIC_BITS = 0x4B400000;
    /** This thread's last call's activation rows as floats in strips, for the panel. */
    private static final ThreadLocal<ActivationStrips.Strips> STRIPS = ActivationStrips.cache();

    private Q4_Kx32Lanes8() {}

    /** {@link Q4_Kx32Format#multiplyGroups} on groups [g0, g1) at address base (group g0), every row of x. */
    static void multiply(long base, int g0, int g1, int blocks, Q8Rows x, float[] out, int outOff, int outStride) {
        int m = x.rows(), cols = blocks * QK, sr = 8 * blocks;
        long groupBytes = (long) blocks * BLOCK_BYTES;
        int[] T = new int[64], M = new int[64], sums = x.sums();
        short[] acc = new short[128], a = x.pairedCodes();
        ActivationStrips.Strips strips = ActivationStrips.of(STRIPS, x, PANEL_MIN_ROWS);
        for (int g = g0; g < g1; g++) {
            long group = base + (g - g0) * groupBytes;
            if (strips.tiled() > 0) panelRows(group, g, blocks, x, strips.a(), strips.tiled(), out, outOff, outStride);
            for (int i = strips.tiled(); i < m; i += 2) {
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

    /**
     * Activation rows [0, tiled) times group g (at address group), for a prefill: each half super-block widened once into
     * a float panel ({@link #widen}), then six activation rows at a time times each half of the group's rows ({@link
     * #tile}). Each sub-block's Σ q·a is summed in F32 from exact integers (|·| ≤ 15·127·32 &lt; 2^24), so it is exact;
     * converted back to int32 and multiplied by its scale it adds up to the integer kernels' total T, bit for bit, and the
     * two F32 multiply-adds per super-block are theirs: the same outputs.
     */
    private static void panelRows(long group, int g, int blocks, Q8Rows x, float[] a, int tiled, float[] out, int outOff, int outStride) {
        Panel panel = PANEL.get();
        int[][] totals = panel.totals();
        if (totals[0].length < tiled / TILE_ROWS * 2 * TILE_ROWS * 16) totals[0] = new int[tiled / TILE_ROWS * 2 * TILE_ROWS * 16];
        for (int i = 0; i < tiled; i++) java.util.Arrays.fill(out, outOff + i * outStride + g * GROUP, outOff + i * outStride + g * GROUP + GROUP, 0f);
        for (int b = 0; b < blocks; b++) {
            for (int half = 0; half < 2; half++) {
                widen(group + (long) b * BLOCK_BYTES, half, panel);
                for (int i = 0; i < tiled; i += TILE_ROWS) {
                    for (int h = 0; h < GROUP; h += 16) {
                        tile(panel, b, half, blocks, x, a, i, totals[0], (i / TILE_ROWS * 2 + h / 16) * TILE_ROWS * 16,
                                out, outOff + i * outStride + g * GROUP + h, outStride, h);
                    }
                }
            }
        }
    }

    /**
     * Half (0: chunks 0, 1; 1: chunks 2, 3) of the super-block at c into the panel: its codes as floats; with the first
     * half, the super-block's scales and mins as ints and its d and dmin widened.
     */
    private static void widen(long c, int half, Panel p) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        float[] codes = p.codes();
        for (int ch = 2 * half; ch < 2 * half + 2; ch++) {
            long cc = c + (long) CHUNK * ch;
            for (int l = 0; l < 16; l++) {
                for (int s = 0; s < 2; s++) {
                    int k = 64 * (ch & 1) + 32 * s + l;               // the column's low nibbles; its high ones are k + 16
                    for (int q = 0; q < 4; q++) {
                        IntVector u = (IntVector) ByteVector.fromMemorySegment(B8, mem, cc + 64L * l + 32 * s + 8 * q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                        ((FloatVector) u.and(15).convert(VectorOperators.I2F, 0)).intoArray(codes, k * GROUP + 8 * q);
                        ((FloatVector) u.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).intoArray(codes, (k + 16) * GROUP + 8 * q);
                    }
                }
            }
        }
        if (half == 1) return;
        for (int ch = 0; ch < 4; ch++) {
            for (int q = 0; q < 4; q++) {
                long plane = c + (long) CHUNK * ch + PLANES + 8 * q;
                IntVector p0 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector p1 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector p2 = (IntVector) ByteVector.fromMemorySegment(B8, mem, plane + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                int j = 2 * ch;
                p0.and(63).intoArray(p.sc(), j * GROUP + 8 * q);
                p1.and(63).intoArray(p.sc(), (j + 1) * GROUP + 8 * q);
                p2.and(63).intoArray(p.mn(), j * GROUP + 8 * q);
                p0.lanewise(VectorOperators.LSHR, 6).or(p1.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 2))
                        .or(p2.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4)).intoArray(p.mn(), (j + 1) * GROUP + 8 * q);
            }
        }
        for (int q = 0; q < 4; q++) {
            IntVector sum = IntVector.zero(I);
            for (int j = 0; j < 8; j++) sum = sum.add(IntVector.fromArray(I, p.sc(), j * GROUP + 8 * q));
            sum.intoArray(p.scSum(), 8 * q);
        }
        for (int q = 0; q < 4; q++) {                                  // as finish: rows 8q .. 8q + 7
            IntVector h = IntVector.fromMemorySegment(I, mem, c + D + 32 * (q & 1), LE), g = IntVector.fromMemorySegment(I, mem, c + DMIN + 32 * (q & 1), LE);
            if (q < 2) {
                h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                        .or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats().intoArray(p.d(), 8 * q);
                g.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                        .or(g.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats().intoArray(p.dmin(), 8 * q);
            } else {
                h.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                        .or(h.and(0x80000000)).reinterpretAsFloats().intoArray(p.d(), 8 * q);
                g.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                        .or(g.and(0x80000000)).reinterpretAsFloats().intoArray(p.dmin(), 8 * q);
            }
        }
    }

    /**
     * Activation rows i .. i + 5 times weight rows h .. h + 15 of half a super-block b in the panel: per sub-block the
     * 6 × 16 sums in twelve F32 registers from {@link #MAGIC}, then T[t0 ..] += S·sc_j (T from zero with the first half); after the
     * second, M = Σ_j m_j·A_j and out += float(T)·(d·d_a), then += float(M)·(dmin·(−d_a)), as {@link #finish}.
     */
    private static void tile(Panel p, int b, int half, int blocks, Q8Rows x, float[] a, int i, int[] T, int t0, float[] out, int o, int stride, int h) {
        int cols = blocks * QK, sr = 8 * blocks;
        float[] codes = p.codes();
        if (half == 0) java.util.Arrays.fill(T, t0, t0 + TILE_ROWS * 16, 0);
        for (int jj = 0; jj < 4; jj++) {
            int j = 4 * half + jj;                                      // the sub-block
            int k = i * cols + TILE_ROWS * (b * QK + 32 * j);          // column b·256 + 32j of strip i / 6
            FloatVector z = FloatVector.broadcast(F, MAGIC), c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
            for (int l = 0; l < 32; l++) {
                int w = (32 * jj + l) * GROUP + h, kl = k + TILE_ROWS * l;
                FloatVector w0 = FloatVector.fromArray(F, codes, w), w1 = FloatVector.fromArray(F, codes, w + 8);
                FloatVector v = FloatVector.broadcast(F, a[kl]);
                c00 = w0.fma(v, c00);
                c01 = w1.fma(v, c01);
                v = FloatVector.broadcast(F, a[kl + 1]);
                c10 = w0.fma(v, c10);
                c11 = w1.fma(v, c11);
                v = FloatVector.broadcast(F, a[kl + 2]);
                c20 = w0.fma(v, c20);
                c21 = w1.fma(v, c21);
                v = FloatVector.broadcast(F, a[kl + 3]);
                c30 = w0.fma(v, c30);
                c31 = w1.fma(v, c31);
                v = FloatVector.broadcast(F, a[kl + 4]);
                c40 = w0.fma(v, c40);
                c41 = w1.fma(v, c41);
                v = FloatVector.broadcast(F, a[kl + 5]);
                c50 = w0.fma(v, c50);
                c51 = w1.fma(v, c51);
            }
            // T += (bits − MAGIC_BITS)·sc_j, the MAGIC_BITS·Σ_j sc_j taken off once in the epilogue (int32 wraps, the total fits)
            IntVector sl = IntVector.fromArray(I, p.sc(), j * GROUP + h), sh = IntVector.fromArray(I, p.sc(), j * GROUP + h + 8);
            IntVector.fromArray(I, T, t0).add(c00.reinterpretAsInts().mul(sl)).intoArray(T, t0);
            IntVector.fromArray(I, T, t0 + 8).add(c01.reinterpretAsInts().mul(sh)).intoArray(T, t0 + 8);
            IntVector.fromArray(I, T, t0 + 16).add(c10.reinterpretAsInts().mul(sl)).intoArray(T, t0 + 16);
            IntVector.fromArray(I, T, t0 + 24).add(c11.reinterpretAsInts().mul(sh)).intoArray(T, t0 + 24);
            IntVector.fromArray(I, T, t0 + 32).add(c20.reinterpretAsInts().mul(sl)).intoArray(T, t0 + 32);
            IntVector.fromArray(I, T, t0 + 40).add(c21.reinterpretAsInts().mul(sh)).intoArray(T, t0 + 40);
            IntVector.fromArray(I, T, t0 + 48).add(c30.reinterpretAsInts().mul(sl)).intoArray(T, t0 + 48);
            IntVector.fromArray(I, T, t0 + 56).add(c31.reinterpretAsInts().mul(sh)).intoArray(T, t0 + 56);
            IntVector.fromArray(I, T, t0 + 64).add(c40.reinterpretAsInts().mul(sl)).intoArray(T, t0 + 64);
            IntVector.fromArray(I, T, t0 + 72).add(c41.reinterpretAsInts().mul(sh)).intoArray(T, t0 + 72);
            IntVector.fromArray(I, T, t0 + 80).add(c50.reinterpretAsInts().mul(sl)).intoArray(T, t0 + 80);
            IntVector.fromArray(I, T, t0 + 88).add(c51.reinterpretAsInts().mul(sh)).intoArray(T, t0 + 88);
        }
        if (half == 0) return;
        int[] sums = x.sums();
        float[] ds = x.scales();
        for (int v = 0; v < 2; v++) {
            FloatVector d = FloatVector.fromArray(F, p.d(), h + 8 * v), dm = FloatVector.fromArray(F, p.dmin(), h + 8 * v);
            IntVector offset = IntVector.fromArray(I, p.scSum(), h + 8 * v).mul(MAGIC_BITS);
            for (int r = 0; r < TILE_ROWS; r++) {
                int s = (i + r) * sr + 8 * b;
                IntVector M = IntVector.zero(I);
                for (int j = 0; j < 8; j++) M = M.add(IntVector.fromArray(I, p.mn(), j * GROUP + h + 8 * v).mul(sums[s + j]));
                float da = ds[(i + r) * blocks + b];
                int q = o + r * stride + 8 * v;
                ((FloatVector) M.convert(VectorOperators.I2F, 0)).fma(dm.mul(-da), ((FloatVector) IntVector.fromArray(I, T, t0 + 16 * r + 8 * v).sub(offset)
                        .convert(VectorOperators.I2F, 0)).fma(d.mul(da), FloatVector.fromArray(F, out, q))).intoArray(out, q);
            }
        }
    }
}
