package org.jtune.quant;

import static org.jtune.quant.QuantVectors.F16_BIAS;
import static org.jtune.quant.QuantVectors.LE;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 *
 * <p>From {@value #PANEL_MIN_ROWS} activation rows, whole tiles of six take a float panel instead ({@link #panelRows}), as
 * {@link Q4_Kx32Lanes8}'s, with the same bits: the integer kernel takes one activation row at a time and reads the whole
 * matrix for each. 5632 × 2048 on one thread (minima of runs, alternating in one process, 2026-12-07): 6 rows 6.9–7.4 → 5.5–6.2 ms, 12
 * rows 14–26 → 8.6–13, 24 rows 30–44 → 16–20, 64 rows 79–80 → 41–43.
 */
final class Q6_Kx32Lanes8 {
    private static final int QK = Q6_Kx32Format.QK, GROUP = 32, BLOCK_BYTES = Q6_Kx32Format.BLOCK_BYTES;
    private static final int CHUNK = Q6_Kx32Format.CHUNK, PLANES = Q6_Kx32Format.PLANES, D = Q6_Kx32Format.D;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

    /** Activation rows from which groups are multiplied through a float panel ({@link #panelRows}); rows per tile. */
    static final int PANEL_MIN_ROWS = 6, TILE_ROWS = ActivationStrips.ROWS;

    /**
     * Half a super-block of a group widened for the panel (weights 128h .. 128h + 127): codes[k·32 + r] = row r's q − 32 of
     * its column k as a float (16 KiB); the super-block's 16 scales sc[g·32 + r], each row's Σ_g sc_g, its d widened as
     * {@link #finish} widens it (row order); the totals of every tile and half of the group between the two halves.
     */
    private record Panel(float[] codes, int[] sc, int[] scSum, float[] d, int[][] totals) {}
    private static final ThreadLocal<Panel> PANEL = ThreadLocal.withInitial(() -> new Panel(new float[128 * GROUP], new int[16 * GROUP],
            new int[GROUP], new float[GROUP], new int[][] {new int[0]}));
    /** This thread's last call's activation rows as floats in strips, for the panel. */
    private static final ThreadLocal<ActivationStrips.Strips> STRIPS = ActivationStrips.cache();

    private Q6_Kx32Lanes8() {}

    /** {@link Q6_Kx32Format#multiplyGroups} on groups [g0, g1) at address base (group g0), every row of x. */
    static void multiply(long base, int g0, int g1, int blocks, Q8Rows x, float[] out, int outOff, int outStride) {
        int m = x.rows();
        long groupBytes = (long) blocks * BLOCK_BYTES;
        int[] T = new int[32];
        short[] acc = new short[128];
        ActivationStrips.Strips strips = ActivationStrips.of(STRIPS, x, PANEL_MIN_ROWS);
        for (int g = g0; g < g1; g++) {
            long group = base + (g - g0) * groupBytes;
            if (strips.tiled() > 0) panelRows(group, g, blocks, x, strips.segment(), strips.tiled(), out, outOff, outStride);
            for (int i = strips.tiled(); i < m; i++) {
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

    /**
     * Activation rows [0, tiled) times group g (at address group), for a prefill, as {@link Q4_Kx32Lanes8}'s panel: each
     * half super-block widened once ({@link #widen}), then six activation rows at a time times each half of the group's
     * rows ({@link #tile}). Each 16-group's Σ (q − 32)·a (|·| ≤ 32·127·16) is summed in F32 from {@link
     * Q4_Kx32Lanes8#MAGIC} and read back exactly from its bits, times the group's scale into the int32 total T: the
     * integer kernel's T, so out += float(T)·(d·d_a) gives its bits.
     */
    private static void panelRows(long group, int g, int blocks, Q8Rows x, MemorySegment a, int tiled, float[] out, int outOff, int outStride) {
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
     * Half h of the super-block at c (its chunks 2h and 2h + 1) into the panel: its codes q − 32 as floats, column
     * l + 32k for weight 128h + l + 32k; with the first half, the super-block's scales as ints, their sums and its d.
     */
    private static void widen(long c, int h, Panel p) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        float[] codes = p.codes();
        for (int u = 2 * h; u < 2 * h + 2; u++) {
            for (int j = 0; j < 16; j++) {
                long col = c + (long) CHUNK * u + 96L * j;
                int l = 16 * (u & 1) + j;
                for (int q = 0; q < 4; q++) {
                    IntVector vx = (IntVector) ByteVector.fromMemorySegment(B8, mem, col + 8 * q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector vy = (IntVector) ByteVector.fromMemorySegment(B8, mem, col + 32 + 8 * q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector vz = (IntVector) ByteVector.fromMemorySegment(B8, mem, col + 64 + 8 * q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector q3 = vx.lanewise(VectorOperators.LSHR, 6).or(vy.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 2))
                            .or(vz.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4));
                    ((FloatVector) vx.and(63).sub(32).convert(VectorOperators.I2F, 0)).intoArray(codes, l * GROUP + 8 * q);
                    ((FloatVector) vy.and(63).sub(32).convert(VectorOperators.I2F, 0)).intoArray(codes, (l + 32) * GROUP + 8 * q);
                    ((FloatVector) vz.and(63).sub(32).convert(VectorOperators.I2F, 0)).intoArray(codes, (l + 64) * GROUP + 8 * q);
                    ((FloatVector) q3.sub(32).convert(VectorOperators.I2F, 0)).intoArray(codes, (l + 96) * GROUP + 8 * q);
                }
            }
        }
        if (h == 1) return;
        for (int q = 0; q < 4; q++) {
            IntVector sum = IntVector.zero(I);
            for (int u = 0; u < 4; u++) {
                for (int k = 0; k < 4; k++) {                          // group 8·(u / 2) + 2k + u mod 2
                    IntVector sc = (IntVector) ByteVector.fromMemorySegment(B8, mem, c + (long) CHUNK * u + PLANES + 32 * k + 8 * q, LE).convertShape(VectorOperators.B2I, I, 0);
                    sc.intoArray(p.sc(), (8 * (u / 2) + 2 * k + (u & 1)) * GROUP + 8 * q);
                    sum = sum.add(sc);
                }
            }
            sum.intoArray(p.scSum(), 8 * q);
            IntVector d = IntVector.fromMemorySegment(I, mem, c + D + 32 * (q & 1), LE);   // as finish: rows 8q .. 8q + 7
            (q < 2 ? d.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                            .or(d.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats()
                    : d.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                            .or(d.and(0x80000000)).reinterpretAsFloats()).intoArray(p.d(), 8 * q);
        }
    }

    /**
     * Activation rows i .. i + 5 times weight rows h .. h + 15 of half a super-block b in the panel: per 16-group the
     * 6 × 16 sums in twelve F32 registers from {@link Q4_Kx32Lanes8#MAGIC}, then T[t0 ..] += S·sc_g (T from zero with
     * the first half); after the second, out += float(T)·(d·d_a), as {@link #finish}. The activations are read through
     * their strips' heap segment: read from the float[], C2 scheduled three broadcasts ahead and kept one of the twelve
     * sums in memory (a load and a store per step on its FMA chain); through the segment the broadcasts stay in program
     * order, one register, no spill (a 64-row 5632 × 2048 product on one thread 43–45 → 30–33 ms). Its bounds are
     * checked per read: over sixteen steps, hoisting them (a slice per strip) cost more in C2's pre- and post-loops
     * than it saved (39–42 ms).
     */
    private static void tile(Panel p, int b, int half, int blocks, Q8Rows x, MemorySegment a, int i, int[] T, int t0, float[] out, int o, int stride, int h) {
        int cols = blocks * QK;
        float[] codes = p.codes();
        if (half == 0) java.util.Arrays.fill(T, t0, t0 + TILE_ROWS * 16, 0);
        for (int lg = 0; lg < 8; lg++) {
            int g = 8 * half + lg;                                      // the 16-group
            int k = i * cols + TILE_ROWS * (b * QK + 16 * g);          // column b·256 + 16g of strip i / 6
            FloatVector z = FloatVector.broadcast(F, Q4_Kx32Lanes8.MAGIC), c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
            for (int l = 0; l < 16; l++) {
                int w = (16 * lg + l) * GROUP + h;
                long kl = (k + TILE_ROWS * l) * (long) Float.BYTES;
                FloatVector w0 = FloatVector.fromArray(F, codes, w), w1 = FloatVector.fromArray(F, codes, w + 8);
                FloatVector v = FloatVector.broadcast(F, a.get(FLOAT, kl));
                c00 = w0.fma(v, c00);
                c01 = w1.fma(v, c01);
                v = FloatVector.broadcast(F, a.get(FLOAT, kl + 4));
                c10 = w0.fma(v, c10);
                c11 = w1.fma(v, c11);
                v = FloatVector.broadcast(F, a.get(FLOAT, kl + 8));
                c20 = w0.fma(v, c20);
                c21 = w1.fma(v, c21);
                v = FloatVector.broadcast(F, a.get(FLOAT, kl + 12));
                c30 = w0.fma(v, c30);
                c31 = w1.fma(v, c31);
                v = FloatVector.broadcast(F, a.get(FLOAT, kl + 16));
                c40 = w0.fma(v, c40);
                c41 = w1.fma(v, c41);
                v = FloatVector.broadcast(F, a.get(FLOAT, kl + 20));
                c50 = w0.fma(v, c50);
                c51 = w1.fma(v, c51);
            }
            // T += (bits − MAGIC_BITS)·sc_g, the MAGIC_BITS·Σ_g sc_g taken off once in the epilogue (int32 wraps, the total fits)
            IntVector sl = IntVector.fromArray(I, p.sc(), g * GROUP + h), sh = IntVector.fromArray(I, p.sc(), g * GROUP + h + 8);
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
        float[] ds = x.scales();
        for (int v = 0; v < 2; v++) {
            FloatVector d = FloatVector.fromArray(F, p.d(), h + 8 * v);
            IntVector offset = IntVector.fromArray(I, p.scSum(), h + 8 * v).mul(Q4_Kx32Lanes8.MAGIC_BITS);
            for (int r = 0; r < TILE_ROWS; r++) {
                float da = ds[(i + r) * blocks + b];
                int q = o + r * stride + 8 * v;
                ((FloatVector) IntVector.fromArray(I, T, t0 + 16 * r + 8 * v).sub(offset).convert(VectorOperators.I2F, 0))
                        .fma(d.mul(da), FloatVector.fromArray(F, out, q)).intoArray(out, q);
            }
        }
    }
}
