package org.jtune.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp and tanh on float vectors from IEEE add, multiply and FMA only. The Vector API's own EXP and
 * TANH give different bits when the JIT has compiled a loop (Intel SVML) and while it has not (a
 * scalar fallback), so results would depend on warm-up; these give the same bits at every stage and
 * on every run, which makes training bit-reproducible. exp: within 1 ulp of Math.exp rounded to float
 * (so within 1.5 ulp of e^x; {@code VectorMathExpTest} checks this on a dense sweep) for results of
 * at least 2^−125 (x ≥ −125.5·ln 2 ≈ −86.99); smaller results flush to 0, results past Float.MAX_VALUE
 * (x &gt; 88.72) are +Inf; NaN stays NaN.
 */
public final class VectorMath {
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;          // Cody–Waite split of ln 2
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5·2^23 + 126: z·log2 e + this rounds to an integer n and leaves n + 126 in the low mantissa bits. */
    private static final float ROUND_BIASED = 12582912f + 126f;
    /** Clamp of the argument: −87.5 gives n = −126, whose scale bits are 0 (a flush to +0); 89 gives n = 128 (+Inf). */
    private static final float LOW = -87.5f, HIGH = 89f;

    private VectorMath() {}

    /**
     * e^x = 2^n · e^r with n = round(x·log2 e), r = x − n·ln 2 (Cody–Waite, |r| ≤ ln2/2) and the classic
     * minimax fit of e^r (Cephes expf). 2^(n−1) is built from the bits of the rounded sum: the low
     * mantissa bits of z·log2 e + 1.5·2^23 + 126 are n + 126 ∈ [0, 254] after the clamp, and shifted left
     * by 23 they are the exponent field of 2^(n−1) (0 for n = −126: the flush to +0). Multiplying by 2
     * last keeps n = 128 finite until the product overflows. The clamp is written as compare-and-blend,
     * not max/min, so a NaN passes through it (and through the arithmetic) unchanged and needs no fix-up.
     * About 19 vector operations, no division and no table.
     */
    public static FloatVector exp(FloatVector x) {
        FloatVector z = x.blend(LOW, x.lt(LOW));
        return expClamped(z.blend(HIGH, z.compare(VectorOperators.GT, HIGH)));
    }

    /**
     * {@link #exp} of arguments that are ≤ 0 or NaN (x − max x in softmax, log-sum-exp and attention), bit for
     * bit: the upper clamp can never act there, so it is left out (two of the ~19 operations; 3.6 → 3.0 ns per
     * 16 floats with the store, in cache, 2026-12-04). A positive argument is not allowed: past 89 the result
     * would be garbage rather than +Inf.
     */
    public static FloatVector expOfNonPositive(FloatVector x) {
        return expClamped(x.blend(LOW, x.lt(LOW)));
    }

    /** The body of {@link #exp} once z is in [LOW, HIGH] (or NaN). */
    private static FloatVector expClamped(FloatVector z) {
        FloatVector t = z.fma(z.broadcast(LOG2E), z.broadcast(ROUND_BIASED));
        FloatVector n = t.sub(ROUND_BIASED);                                // round(z·log2 e)
        FloatVector r = n.fma(n.broadcast(-LN2_HI), z);
        r = n.fma(n.broadcast(-LN2_LO), r);
        FloatVector p = r.broadcast(1.9875691500e-4f);
        p = p.fma(r, r.broadcast(1.3981999507e-3f));
        p = p.fma(r, r.broadcast(8.3334519073e-3f));
        p = p.fma(r, r.broadcast(4.1665795894e-2f));
        p = p.fma(r, r.broadcast(1.6666665459e-1f));
        p = p.fma(r, r.broadcast(5.0000001201e-1f));
        p = p.fma(r.mul(r), r).add(1f);                                     // e^r = 1 + r + r²·P(r)
        FloatVector half = ((IntVector) t.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(half).mul(2f);
    }

    /**
     * tanh x: an odd polynomial for |x| &lt; 0.625 (Cephes tanhf), else 1 − 2/(e^{2|x|} + 1) with the sign
     * of x.
     */
    public static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector x2 = x.mul(x);
        FloatVector p = x2.broadcast(-5.70498872745e-3f);
        p = p.fma(x2, x2.broadcast(2.06390887954e-2f));
        p = p.fma(x2, x2.broadcast(-5.37397155531e-2f));
        p = p.fma(x2, x2.broadcast(1.33314422036e-1f));
        p = p.fma(x2, x2.broadcast(-3.33332819422e-1f));
        FloatVector small = p.mul(x2).mul(x).add(x);
        FloatVector e = exp(a.mul(2f));
        FloatVector large = x.broadcast(1f).sub(x.broadcast(2f).div(e.add(1f)));
        large = large.blend(large.neg(), x.lt(0f));
        return large.blend(small, a.lt(0.625f));
    }

    /** The logistic function 1/(1 + e^−x). */
    public static FloatVector sigmoid(FloatVector x) {
        return x.broadcast(1f).div(exp(x.neg()).add(1f));
    }

    /**
     * The sum of the lanes, always in the same order (lane 0, 1, 2, ...). reduceLanes(ADD) may add
     * in another order once compiled than before, which changes the last bits from run to run.
     */
    public static float sum(FloatVector v) {
        // lane(i), not toArray(): toArray allocates a float[] per call that C2 does not always remove (a QLoRA
        // step of the 1.1B shape allocated ~0.8 GB/s here, mostly from this call in BlockMatmul.tile4xM, and the
        // young collections that garbage caused promoted the step pool's loans before they could come back)
        if (v.length() == 16) {
            return v.lane(0) + v.lane(1) + v.lane(2) + v.lane(3) + v.lane(4) + v.lane(5) + v.lane(6) + v.lane(7) + v.lane(8)
                    + v.lane(9) + v.lane(10) + v.lane(11) + v.lane(12) + v.lane(13) + v.lane(14) + v.lane(15);
        }
        if (v.length() == 8) return v.lane(0) + v.lane(1) + v.lane(2) + v.lane(3) + v.lane(4) + v.lane(5) + v.lane(6) + v.lane(7);
        float s = 0f;
        for (int i = 0; i < v.length(); i++) s += v.lane(i);
        return s;
    }

    /**
     * Σ of v's lanes by whole-vector adds of v and v rotated by half its lanes, then a quarter, ..., one lane: a fixed
     * tree (lane 0 of the result), the same bits compiled or not (rotations and lanewise adds are exact operations), where
     * {@link #sum} adds lane by lane: log2(lanes) dependent adds instead of lanes − 1 and no lane extractions. For vectors
     * of the preferred species (the CPU kernels'); others are summed by {@link #sum}.
     */
    public static float treeSum(FloatVector v) {
        if (v.species() != PREFERRED || PREFERRED.length() > 16) return sum(v);
        int n = PREFERRED.length();
        if (n >= 16) v = v.add(v.rearrange(ROTATE_8));
        if (n >= 8) v = v.add(v.rearrange(ROTATE_4));
        if (n >= 4) v = v.add(v.rearrange(ROTATE_2));
        if (n >= 2) v = v.add(v.rearrange(ROTATE_1));
        return v.lane(0);
    }

    private static final VectorSpecies<Float> PREFERRED = FloatVector.SPECIES_PREFERRED;
    private static final VectorShuffle<Float> ROTATE_8 = rotation(8), ROTATE_4 = rotation(4), ROTATE_2 = rotation(2),
            ROTATE_1 = rotation(1);

    /** Lane i ← lane (i + by) mod the preferred length (the identity when by is not below it). */
    private static VectorShuffle<Float> rotation(int by) {
        int n = PREFERRED.length();
        return VectorShuffle.fromOp(PREFERRED, i -> by < n ? (i + by) % n : i);
    }
}
