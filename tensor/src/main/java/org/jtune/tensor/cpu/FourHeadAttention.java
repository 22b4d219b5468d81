package org.jtune.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Attention}'s rows over transposed keys (a prefill or a training step), four query heads of one kv group at a time: each
 * vector of transposed keys is loaded once for the four heads' scores, each vector of a value row once for their
 * weighted sums, where one head at a time read a sequence's keys and values from L2 once per head (256 KB each at
 * 1024 positions of a 64-wide kv head). Per head every score and every output element is the same FMA sequence as
 * {@link Attention#scores} and {@link Attention#weightedValues} compute for that head alone, in the same order, so the
 * results are the same bits; only the loads are shared.
 */
final class FourHeadAttention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    static final int HEADS = 4;

    private FourHeadAttention() {}

    /** Per-thread scratch: the four heads' query rows, scores over all keys, visible scores, sums, outputs; visible keys, row offsets. */
    static final class Scratch {
        final float[] q, all, scores, sums = new float[HEADS], acc, row;
        final int[] keys, offsets;

        Scratch(int d, int sp, int s) {
            q = new float[HEADS * d];
            all = new float[HEADS * sp];
            scores = new float[HEADS * s];
            acc = new float[HEADS * d];
            row = new float[d];
            keys = new int[s];
            offsets = new int[Math.max(d, s)];
        }
    }

    /**
     * all[h·sp + j] = Σ_e q[h·d + e]·kT[base + e·sp + j] (FMA in increasing e) for the four rows h and j in [j0, hi]
     * rounded up to whole vectors; j0 a multiple of the lane count; offsets holds at least d ints of scratch. Also
     * {@link AttentionBackward}'s products of four query rows with kT and of their dO with vT.
     */
    static void scores(float[] q, int d, float[] kt, int base, int sp, int j0, int hi, float[] all, int[] offsets) {
        for (int e = 0; e < d; e++) offsets[e] = base + e * sp;
        int j = j0;
        for (; j + 2 * L <= hi + 1; j += 2 * L) accumulateTwo(kt, offsets, d, q, d, j, all, sp);
        for (; j <= hi; j += L) accumulateOne(kt, offsets, d, q, d, j, all, sp);
    }

    /**
     * acc[h·d + c] = Σ_i p[h·s + i]·v[vRow + keys[i]·vs1 + c] for the four heads (acc zero on entry), per element the
     * FMA sequence of {@link Attention#weightedValues} (increasing i; mul-then-add in the scalar tail of d).
     */
    static void weightedValues(float[] p, int s, int[] keys, int n, float[] va, long vRow, long vs1, int d, float[] acc, Scratch w) {
        for (int i = 0; i < n; i++) w.offsets[i] = (int) (vRow + keys[i] * vs1);
        int c = 0;
        for (; c + 2 * L <= d; c += 2 * L) accumulateTwo(va, w.offsets, n, p, s, c, acc, d);
        for (; c + L <= d; c += L) accumulateOne(va, w.offsets, n, p, s, c, acc, d);
        for (; c < d; c++) {
            for (int h = 0; h < HEADS; h++) {
                float a = 0f;
                for (int i = 0; i < n; i++) a += p[h * s + i] * va[w.offsets[i] + c];
                acc[h * d + c] = a;
            }
        }
    }

    /**
     * out[h·os + col, +2L) = Σ_{i<n} coef[h·cs + i]·src[off[i] + col, +2L) for the four heads h, by FMA in increasing i:
     * each of the two vectors of src loaded once for the four heads (eight accumulators).
     */
    private static void accumulateTwo(float[] src, int[] off, int n, float[] coef, int cs, int col, float[] out, int os) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int i = 0; i < n; i++) {
            int o = off[i] + col;
            FloatVector x = FloatVector.fromArray(F, src, o), y = FloatVector.fromArray(F, src, o + L);
            FloatVector c0 = FloatVector.broadcast(F, coef[i]), c1 = FloatVector.broadcast(F, coef[cs + i]);
            FloatVector c2 = FloatVector.broadcast(F, coef[2 * cs + i]), c3 = FloatVector.broadcast(F, coef[3 * cs + i]);
            a0 = x.fma(c0, a0);
            b0 = y.fma(c0, b0);
            a1 = x.fma(c1, a1);
            b1 = y.fma(c1, b1);
            a2 = x.fma(c2, a2);
            b2 = y.fma(c2, b2);
            a3 = x.fma(c3, a3);
            b3 = y.fma(c3, b3);
        }
        a0.intoArray(out, col);
        b0.intoArray(out, col + L);
        a1.intoArray(out, os + col);
        b1.intoArray(out, os + col + L);
        a2.intoArray(out, 2 * os + col);
        b2.intoArray(out, 2 * os + col + L);
        a3.intoArray(out, 3 * os + col);
        b3.intoArray(out, 3 * os + col + L);
    }

    /** {@link #accumulateTwo} for one vector of src. */
    private static void accumulateOne(float[] src, int[] off, int n, float[] coef, int cs, int col, float[] out, int os) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < n; i++) {
            FloatVector x = FloatVector.fromArray(F, src, off[i] + col);
            a0 = x.fma(FloatVector.broadcast(F, coef[i]), a0);
            a1 = x.fma(FloatVector.broadcast(F, coef[cs + i]), a1);
            a2 = x.fma(FloatVector.broadcast(F, coef[2 * cs + i]), a2);
            a3 = x.fma(FloatVector.broadcast(F, coef[3 * cs + i]), a3);
        }
        a0.intoArray(out, col);
        a1.intoArray(out, os + col);
        a2.intoArray(out, 2 * os + col);
        a3.intoArray(out, 3 * os + col);
    }
}
