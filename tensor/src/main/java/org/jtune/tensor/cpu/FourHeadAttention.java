package org.jtune.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Attention}'s inference rows over transposed keys (a prefill), four query heads of one kv group at a time: each
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

    /** Per-thread scratch: the four heads' query rows, scores over all keys, visible scores, sums, outputs; visible keys. */
    static final class Scratch {
        final float[] q, all, scores, sums = new float[HEADS], acc, row;
        final int[] keys;
        final int d, sp, s;

        Scratch(int d, int sp, int s) {
            this.d = d;
            this.sp = sp;
            this.s = s;
            q = new float[HEADS * d];
            all = new float[HEADS * sp];
            scores = new float[HEADS * s];
            acc = new float[HEADS * d];
            row = new float[d];
            keys = new int[s];
        }
    }

    /**
     * all[h·sp + j] = Σ_e q[h·d + e]·kT[base + e·sp + j] (FMA in increasing e) for the four heads h and j in [j0, hi]
     * rounded up to whole vectors; j0 a multiple of the lane count. Two vectors of keys at a time (eight accumulators),
     * then one.
     */
    static void scores(float[] q, int d, float[] kt, int base, int sp, int j0, int hi, float[] all) {
        int j = j0;
        for (; j + 2 * L <= hi + 1; j += 2 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int e = 0, o = base + j; e < d; e++, o += sp) {
                FloatVector k0 = FloatVector.fromArray(F, kt, o), k1 = FloatVector.fromArray(F, kt, o + L);
                FloatVector q0 = FloatVector.broadcast(F, q[e]), q1 = FloatVector.broadcast(F, q[d + e]);
                FloatVector q2 = FloatVector.broadcast(F, q[2 * d + e]), q3 = FloatVector.broadcast(F, q[3 * d + e]);
                a0 = k0.fma(q0, a0);
                b0 = k1.fma(q0, b0);
                a1 = k0.fma(q1, a1);
                b1 = k1.fma(q1, b1);
                a2 = k0.fma(q2, a2);
                b2 = k1.fma(q2, b2);
                a3 = k0.fma(q3, a3);
                b3 = k1.fma(q3, b3);
            }
            a0.intoArray(all, j);
            b0.intoArray(all, j + L);
            a1.intoArray(all, sp + j);
            b1.intoArray(all, sp + j + L);
            a2.intoArray(all, 2 * sp + j);
            b2.intoArray(all, 2 * sp + j + L);
            a3.intoArray(all, 3 * sp + j);
            b3.intoArray(all, 3 * sp + j + L);
        }
        for (; j <= hi; j += L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int e = 0, o = base + j; e < d; e++, o += sp) {
                FloatVector k0 = FloatVector.fromArray(F, kt, o);
                a0 = k0.fma(FloatVector.broadcast(F, q[e]), a0);
                a1 = k0.fma(FloatVector.broadcast(F, q[d + e]), a1);
                a2 = k0.fma(FloatVector.broadcast(F, q[2 * d + e]), a2);
                a3 = k0.fma(FloatVector.broadcast(F, q[3 * d + e]), a3);
            }
            a0.intoArray(all, j);
            a1.intoArray(all, sp + j);
            a2.intoArray(all, 2 * sp + j);
            a3.intoArray(all, 3 * sp + j);
        }
    }

    /**
     * acc[h·d + c] = Σ_i p[h·s + i]·v[vRow + keys[i]·vs1 + c] for the four heads (acc zero on entry), per element the
     * FMA sequence of {@link Attention#weightedValues} (increasing i; mul-then-add in the scalar tail of d).
     */
    static void weightedValues(float[] p, int s, int[] keys, int n, float[] va, long vRow, long vs1, int d, float[] acc) {
        int c = 0;
        for (; c + 2 * L <= d; c += 2 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int i = 0; i < n; i++) {
                int o = (int) (vRow + keys[i] * vs1) + c;
                FloatVector v0 = FloatVector.fromArray(F, va, o), v1 = FloatVector.fromArray(F, va, o + L);
                FloatVector p0 = FloatVector.broadcast(F, p[i]), p1 = FloatVector.broadcast(F, p[s + i]);
                FloatVector p2 = FloatVector.broadcast(F, p[2 * s + i]), p3 = FloatVector.broadcast(F, p[3 * s + i]);
                a0 = v0.fma(p0, a0);
                b0 = v1.fma(p0, b0);
                a1 = v0.fma(p1, a1);
                b1 = v1.fma(p1, b1);
                a2 = v0.fma(p2, a2);
                b2 = v1.fma(p2, b2);
                a3 = v0.fma(p3, a3);
                b3 = v1.fma(p3, b3);
            }
            a0.intoArray(acc, c);
            b0.intoArray(acc, c + L);
            a1.intoArray(acc, d + c);
            b1.intoArray(acc, d + c + L);
            a2.intoArray(acc, 2 * d + c);
            b2.intoArray(acc, 2 * d + c + L);
            a3.intoArray(acc, 3 * d + c);
            b3.intoArray(acc, 3 * d + c + L);
        }
        for (; c + L <= d; c += L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i < n; i++) {
                FloatVector v0 = FloatVector.fromArray(F, va, (int) (vRow + keys[i] * vs1) + c);
                a0 = v0.fma(FloatVector.broadcast(F, p[i]), a0);
                a1 = v0.fma(FloatVector.broadcast(F, p[s + i]), a1);
                a2 = v0.fma(FloatVector.broadcast(F, p[2 * s + i]), a2);
                a3 = v0.fma(FloatVector.broadcast(F, p[3 * s + i]), a3);
            }
            a0.intoArray(acc, c);
            a1.intoArray(acc, d + c);
            a2.intoArray(acc, 2 * d + c);
            a3.intoArray(acc, 3 * d + c);
        }
        for (; c < d; c++) {
            for (int h = 0; h < HEADS; h++) {
                float a = 0f;
                for (int i = 0; i < n; i++) a += p[h * s + i] * va[(int) (vRow + keys[i] * vs1) + c];
                acc[h * d + c] = a;
            }
        }
    }
}
