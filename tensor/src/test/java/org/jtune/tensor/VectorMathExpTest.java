package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorMath#exp} against e^x in double (Math.exp, within 1 ulp of double: negligible here), on
 * a sweep of float bit patterns over the whole normal range of results and on the edges.
 *
 * <p>Bound, 1.5 ulp of the float nearest e^x: with |r| ≤ ln2/2 the result is p·2^n, p = 1 + (r + r²P(r))
 * in [0.70, 1.42]; the final add rounds by ≤ 0.5 ulp(p), the add of r before it by ≤ 0.5 ulp(r) ≤
 * 0.25 ulp(p), the Horner part r²P ≤ 0.07·p carries ~6 roundings of u relative to itself (≤ 0.05 ulp(p)),
 * the reduction's rounding of n·LN2_LO (|·| ≤ 0.03) ≤ 2^−30 absolute in r, and the Cephes fit ≤ 2^−24
 * relative: ≤ 1.1 ulp(p), and scaling by 2^n is exact except in the last binade above the flush, where
 * the intermediate p·2^(n−1) is subnormal for p &lt; 1 and loses ≤ 0.5 more ulp.
 */
class VectorMathExpTest {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private static float exp(float x) {
        float[] in = new float[S.length()];
        java.util.Arrays.fill(in, x);
        return VectorMath.exp(FloatVector.fromArray(S, in, 0)).lane(S.length() - 1);
    }

    private static double ulp(double exact) {
        return Math.ulp((float) exact);
    }

    @Test
    void withinOneAndAHalfUlpOverTheNormalRange() {
        float lo = -86.98f, hi = 88.72f;
        float[] xs = new float[S.length()], got = new float[S.length()];
        int filled = 0;
        double worst = 0;
        float worstAt = 0;
        // every 1021st float bit pattern on each side of 0, plus the small |x| near 0
        java.util.List<Float> all = new java.util.ArrayList<>();
        for (int bits = Float.floatToIntBits(1e-8f); bits <= Float.floatToIntBits(hi); bits += 1021) all.add(Float.intBitsToFloat(bits));
        for (int bits = Float.floatToIntBits(1e-8f); bits <= Float.floatToIntBits(-lo); bits += 1021) all.add(-Float.intBitsToFloat(bits));
        for (float x : new float[] {0f, -0f, hi, lo, 1f, -1f, 0.34657359f, -0.34657359f, 88.0f, 88.37f, 88.38f, -86.0f, -86.5f})
            all.add(x);
        for (int k = 0; k < all.size(); k++) {
            xs[filled++] = all.get(k);
            if (filled == xs.length || k == all.size() - 1) {
                VectorMath.exp(FloatVector.fromArray(S, xs, 0)).intoArray(got, 0);
                for (int i = 0; i < filled; i++) {
                    double want = Math.exp(xs[i]);
                    double err = Math.abs(got[i] - want) / ulp(want);
                    if (err > worst) {
                        worst = err;
                        worstAt = xs[i];
                    }
                }
                filled = 0;
            }
        }
        assertTrue(worst <= 1.5, "exp worst error " + worst + " ulp at x = " + worstAt);
    }

    /** The softmax form leaves out the upper clamp, which never acts on x ≤ 0: the same bits as exp there. */
    @Test
    void nonPositiveFormGivesTheSameBits() {
        java.util.List<Float> all = new java.util.ArrayList<>();
        for (int bits = 0; bits <= Float.floatToIntBits(1e30f); bits += 2039) all.add(-Float.intBitsToFloat(bits));
        for (float x : new float[] {0f, -0f, Float.NEGATIVE_INFINITY, Float.NaN, -87.5f, -87.6f, -86.99f, -Float.MIN_VALUE}) all.add(x);
        float[] xs = new float[S.length()], want = new float[S.length()], got = new float[S.length()];
        for (int k = 0; k < all.size(); k += xs.length) {
            for (int i = 0; i < xs.length; i++) xs[i] = all.get(Math.min(k + i, all.size() - 1));
            FloatVector v = FloatVector.fromArray(S, xs, 0);
            VectorMath.exp(v).intoArray(want, 0);
            VectorMath.expOfNonPositive(v).intoArray(got, 0);
            for (int i = 0; i < xs.length; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "x = " + xs[i]);
            }
        }
    }

    @Test
    void edges() {
        assertEquals(Float.POSITIVE_INFINITY, exp(Float.POSITIVE_INFINITY));
        assertEquals(0f, exp(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(exp(Float.NaN)));
        assertEquals(1f, exp(0f));
        assertEquals(1f, exp(-0f));
        assertEquals(Float.POSITIVE_INFINITY, exp(88.73f), "past Float.MAX_VALUE");
        assertEquals(Float.POSITIVE_INFINITY, exp(1e30f));
        assertTrue(exp(88.72f) < Float.POSITIVE_INFINITY, "e^88.72 = 3.39e38 is finite");
        assertEquals(0f, exp(-100f));
        assertEquals(0f, exp(-1e30f));
        assertEquals(0f, exp(-87.2f), "under 2^−125: flushed");
        // the flush region: 0 or e^x, never anything else
        for (float x = -87.6f; x < -86.9f; x += 1e-3f) {
            float e = exp(x);
            assertTrue(e == 0f || Math.abs(e - Math.exp(x)) <= 2 * ulp(Math.exp(x)), "x = " + x + ": " + e);
        }
    }
}
