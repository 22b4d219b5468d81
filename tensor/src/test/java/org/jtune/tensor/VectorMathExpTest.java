package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorMath#exp} and {@link VectorMath#expOfNonPositive} against e^x in double (Math.exp, within 1 ulp of
 * double: negligible here), on sweeps of float bit patterns over the whole normal range of results and on the edges;
 * the one-float forms against the vector forms bit for bit, in the preferred shape and in the others.
 *
 * <p>Bound, in ulps of the result y = T'·(1 + q), T' = T[j]·2^k (see VectorMath): the final FMA rounds by ≤ 0.5; the
 * table entry T[j] = 2^(j/16) rounded to float is off by ≤ {@link #worstTableError} ulp of itself (0.452, entry 3), which
 * the factor 1 + q ≤ 1.022 carries into y (y stays in T[j]'s binade for j ≥ 1; T[0] = 1 is exact); q is off from
 * e^r − 1 by ≤ 1.5e−8 absolute (the dropped r⁴/24 ≤ 9.2e−9, q's own rounding and r's ≤ 0.93e−9 each, n·LO's ≤ 1.2e−9),
 * ≤ 1.5e−8·2^23·2 = 0.25 ulp against T' &lt; 2^(k+1). So ≤ 0.5 + 0.462 + 0.25 ≈ 1.22 ulp where the result is normal and
 * the scaling exact: e^x ≥ 2^−125 for exp (its intermediate is half the result), ≥ 2^−126 for expOfNonPositive.
 */
class VectorMathExpTest {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** The largest error of an entry 2^(j/16) rounded to float, in ulps of the float. */
    private static double worstTableError() {
        double worst = 0;
        for (int j = 0; j < 16; j++) {
            double exact = StrictMath.pow(2, j / 16.0);
            worst = Math.max(worst, Math.abs((float) exact - exact) / Math.ulp((float) exact));
        }
        return worst;
    }

    private static final double BOUND = 0.5 + worstTableError() * 1.022 + 0.25;

    private static float exp(float x) {
        float[] in = new float[S.length()];
        java.util.Arrays.fill(in, x);
        return VectorMath.exp(FloatVector.fromArray(S, in, 0)).lane(S.length() - 1);
    }

    private static double ulp(double exact) {
        return Math.ulp((float) exact);
    }

    /** Every step-th float bit pattern from `from` outwards (away from 0) up to `to`, same sign. */
    private static List<Float> sweep(float from, float to, int step) {
        List<Float> xs = new ArrayList<>();
        for (int bits = Float.floatToIntBits(Math.abs(from)); bits <= Float.floatToIntBits(Math.abs(to)); bits += step)
            xs.add(Math.copySign(Float.intBitsToFloat(bits), to));
        return xs;
    }

    /** f applied to xs through vectors of the preferred shape. */
    private static float[] apply(UnaryOperator<FloatVector> f, List<Float> xs) {
        float[] out = new float[xs.size()], in = new float[S.length()];
        for (int k = 0; k < xs.size(); k += in.length) {
            for (int i = 0; i < in.length; i++) in[i] = xs.get(Math.min(k + i, xs.size() - 1));
            float[] got = f.apply(FloatVector.fromArray(S, in, 0)).toArray();
            System.arraycopy(got, 0, out, k, Math.min(in.length, xs.size() - k));
        }
        return out;
    }

    /** The worst error in ulps of the results of at least `floor`; smaller results must be within `floor` of e^x. */
    private static void assertWithinBound(UnaryOperator<FloatVector> f, List<Float> xs, double floor) {
        float[] got = apply(f, xs);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < got.length; i++) {
            double want = Math.exp(xs.get(i));
            if (want < floor) {
                assertTrue(Math.abs(got[i] - want) <= floor, "x = " + xs.get(i) + ": " + got[i] + " for " + want);
                continue;
            }
            double err = Math.abs(got[i] - want) / ulp(want);
            if (err > worst) {
                worst = err;
                worstAt = xs.get(i);
            }
        }
        assertTrue(worst <= BOUND, "worst error " + worst + " ulp at x = " + worstAt + ", bound " + BOUND);
    }

    @Test
    void theBoundIsWhatTheContractSays() {
        assertTrue(BOUND <= 1.22, "bound " + BOUND);
    }

    @Test
    void expWithinTheBoundOverTheWholeRange() {
        List<Float> xs = sweep(1e-8f, 88.72f, 1021);
        xs.addAll(sweep(-1e-8f, -88.1f, 1021));
        xs.addAll(List.of(0f, -0f, 88.72f, 88.7228f, -86.64f, 1f, -1f, 0.0216608f, -0.0216608f, 88.0f, 88.37f, 88.38f, -86.0f, -86.5f));
        assertWithinBound(VectorMath::exp, xs, 0x1p-125);
    }

    @Test
    void nonPositiveFormWithinTheBound() {
        List<Float> xs = sweep(-1e-8f, -88.2f, 509);
        xs.addAll(sweep(0.3f, 88.7f, 4099));                   // right for positive x up to 88.70 too
        xs.addAll(List.of(0f, -0f, -87.33f, -87.34f, -88.02f, -88.03f));
        assertWithinBound(VectorMath::expOfNonPositive, xs, 0x1p-126);
    }

    /** exp and its softmax form differ only in the bias of the scale and a doubling, which are exact where e^x ≥ 2^−125. */
    @Test
    void nonPositiveFormGivesTheBitsOfExpAboveTheFlush() {
        List<Float> xs = sweep(0f, -86.63f, 2039);
        xs.addAll(List.of(0f, -0f, Float.NaN, -86.63f, -Float.MIN_VALUE));
        float[] want = apply(VectorMath::exp, xs), got = apply(VectorMath::expOfNonPositive, xs);
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "x = " + xs.get(i));
        }
    }

    /** The one-float forms are the vector forms lane by lane, and so are the other vector shapes (table in 1, 2 or 4 parts). */
    @Test
    void oneFloatAndEveryShapeGiveTheSameBits() {
        List<Float> xs = sweep(1e-6f, 89.5f, 30011);
        xs.addAll(sweep(-1e-6f, -89f, 30011));
        xs.addAll(List.of(0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -88.02f, -87.34f, 88.72f));
        float[] vec = apply(VectorMath::exp, xs), vecNp = apply(VectorMath::expOfNonPositive, xs);
        for (int i = 0; i < xs.size(); i++) {
            float x = xs.get(i);
            assertEquals(Float.floatToRawIntBits(vec[i]) , Float.floatToRawIntBits(VectorMath.exp(x)), "exp, x = " + x);
            if (x <= 88.7f || Float.isNaN(x))
                assertEquals(Float.floatToRawIntBits(vecNp[i]), Float.floatToRawIntBits(VectorMath.expOfNonPositive(x)), "x = " + x);
        }
        for (VectorSpecies<Float> s : List.of(FloatVector.SPECIES_128, FloatVector.SPECIES_256, FloatVector.SPECIES_512)) {
            float[] in = new float[s.length()];
            for (int k = 0; k + in.length <= xs.size(); k += in.length) {
                for (int i = 0; i < in.length; i++) in[i] = xs.get(k + i);
                float[] got = VectorMath.exp(FloatVector.fromArray(s, in, 0)).toArray();
                for (int i = 0; i < in.length; i++)
                    assertEquals(Float.floatToRawIntBits(vec[k + i]), Float.floatToRawIntBits(got[i]), s + ", x = " + in[i]);
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
        assertEquals(Float.POSITIVE_INFINITY, exp(88.72284f), "e^88.72284 rounds past Float.MAX_VALUE");
        assertEquals(Float.POSITIVE_INFINITY, exp(1e30f));
        assertTrue(exp(88.7228f) < Float.POSITIVE_INFINITY, "e^88.7228 = 3.4027e38 is finite");
        assertEquals(0f, exp(-87.34f), "exp: +0 at and below −126·ln 2");
        assertEquals(0f, exp(-100f));
        assertEquals(0f, exp(-1e30f));
        assertEquals(0f, VectorMath.expOfNonPositive(-88.03f), "softmax form: +0 at and below −127·ln 2");
        assertEquals(0f, VectorMath.expOfNonPositive(Float.NEGATIVE_INFINITY), "a masked score weighs exactly nothing");
        assertTrue(Float.isNaN(VectorMath.expOfNonPositive(Float.NaN)));
        assertEquals(1f, VectorMath.expOfNonPositive(-0f));
    }
}
