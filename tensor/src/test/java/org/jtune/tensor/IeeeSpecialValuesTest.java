package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * NaN and ±∞ propagate as IEEE 754 and the ops' formulas say, on both the vector path (rows of
 * 37 elements: two vectors and a tail) and the scalar tail (the special value placed in either).
 */
class IeeeSpecialValuesTest {
    static final float NAN = Float.NaN, INF = Float.POSITIVE_INFINITY;
    static final int N = 37;

    /** A row of N small values with {@code special} at position {@code at}. */
    static Tensor rowWith(float special, int at) {
        float[] a = new float[N];
        for (int i = 0; i < N; i++) a[i] = (i % 7) * 0.25f - 0.5f;
        a[at] = special;
        return Tensor.of(a, 1, N);
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void softmaxWithInfinities(Backend be) {
        for (int at : new int[] {3, N - 1}) {
            float[] s = Ops.using(be, () -> Ops.softmax(rowWith(-INF, at), -1)).toFloatArray();
            assertEquals(0f, s[at], "softmax of −∞ is 0");
            double sum = 0;
            for (float v : s) sum += v;
            assertEquals(1.0, sum, 1e-5);
            assertEquals(-INF, Ops.using(be, () -> Ops.logSoftmax(rowWith(-INF, at), -1)).toFloatArray()[at]);
            for (float v : Ops.using(be, () -> Ops.softmax(rowWith(NAN, at), -1)).toFloatArray()) assertTrue(Float.isNaN(v), "NaN spreads over its row");
            for (float v : Ops.using(be, () -> Ops.softmax(rowWith(INF, at), -1)).toFloatArray()) assertTrue(Float.isNaN(v), "+∞ gives ∞ − ∞ = NaN");
        }
        Tensor allNegInf = Tensor.full(-INF, 2, N);
        for (float v : Ops.using(be, () -> Ops.softmax(allNegInf, 1)).toFloatArray()) assertTrue(Float.isNaN(v), "all −∞ is 0/0");
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void reductionsWithNanAndInfinity(Backend be) {
        for (int at : new int[] {0, 20, N - 1}) {
            Tensor nan = rowWith(NAN, at);
            assertTrue(Float.isNaN(Ops.using(be, () -> Ops.max(nan, 1, false)).item()), "max with NaN");
            assertTrue(Float.isNaN(Ops.using(be, () -> Ops.min(nan, 1, false)).item()), "min with NaN");
            assertTrue(Float.isNaN(Ops.using(be, () -> Ops.sum(nan, 1, false)).item()), "sum with NaN");
            assertEquals(at, Ops.using(be, () -> Ops.argmax(nan, 1, false)).getInt(0), "argmax points at NaN");
            assertTrue(Float.isNaN(Ops.using(be, () -> Ops.max(nan.t(), 0, false)).item()), "max with NaN along a strided dim");
            assertEquals(INF, Ops.using(be, () -> Ops.sum(rowWith(INF, at), 1, false)).item());
            assertEquals(INF, Ops.using(be, () -> Ops.max(rowWith(INF, at), 1, false)).item());
            assertEquals(-INF, Ops.using(be, () -> Ops.min(rowWith(-INF, at), 1, false)).item());
        }
        Tensor both = Tensor.of(new float[] {INF, -INF}, 2);
        assertTrue(Float.isNaN(Ops.using(be, () -> Ops.sum(both, 0, false)).item()), "∞ + −∞");
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void elementwiseSpecials(Backend be) {
        float[] in = new float[N];
        for (int i = 0; i < N; i++) in[i] = i % 3 == 0 ? INF : i % 3 == 1 ? -INF : NAN;
        Tensor x = Tensor.of(in, N);
        float[] e = Ops.using(be, () -> Ops.exp(x)).toFloatArray();
        float[] c = Ops.using(be, () -> Ops.clamp(x, -1, 1)).toFloatArray();
        float[] mx = Ops.using(be, () -> Ops.maximum(x, Tensor.zeros(N))).toFloatArray();
        for (int i = 0; i < N; i++) {
            float wantExp = i % 3 == 0 ? INF : i % 3 == 1 ? 0f : NAN;
            assertEquals(wantExp, e[i], "exp of " + in[i]);
            assertEquals(i % 3 == 0 ? 1f : i % 3 == 1 ? -1f : NAN, c[i], "clamp of " + in[i]);
            assertEquals(i % 3 == 1 ? 0f : in[i], mx[i], "maximum(" + in[i] + ", 0)");
        }
        assertArrayEquals(new float[] {-INF, NAN, INF},
                Ops.using(be, () -> Ops.log(Tensor.of(new float[] {0f, -1f, INF}, 3))).toFloatArray());
        assertArrayEquals(new float[] {INF, -INF}, Ops.using(be, () -> Ops.div(Tensor.of(new float[] {1f, -1f}, 2), Tensor.zeros(2))).toFloatArray());
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void crossEntropyAndNormsWithSpecials(Backend be) {
        float[] row = new float[2 * 3000];
        for (int i = 0; i < row.length; i++) row[i] = (i % 11) * 0.1f;
        row[7] = -INF;                                   // row 0: the target's logit is −∞ → loss +∞
        for (int j = 3000; j < 5100; j++) row[j] = -INF; // row 1: a whole first block of −∞ is harmless
        Tensor logits = Tensor.of(row, 2, 3000);
        float[] loss = Ops.using(be, () -> Ops.crossEntropyPerRow(logits, Tensor.ofInts(new int[] {7, 2999}, 2), -100)).toFloatArray();
        assertEquals(INF, loss[0]);
        double m = 0, s = 0;
        for (int j = 5100; j < 6000; j++) m = Math.max(m, row[j]);
        for (int j = 5100; j < 6000; j++) s += Math.exp(row[j] - m);
        assertEquals(m + Math.log(s) - row[5999], loss[1], 1e-4);
        Tensor x = rowWith(NAN, 5);
        for (float v : Ops.using(be, () -> Ops.rmsNorm(x, Tensor.ones(N), 1e-5f)).toFloatArray()) assertTrue(Float.isNaN(v), "rms_norm of a NaN row");
    }
}
