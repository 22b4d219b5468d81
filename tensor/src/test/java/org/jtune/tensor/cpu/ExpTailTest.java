package org.jtune.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.jtune.tensor.Rng;
import org.junit.jupiter.api.Test;

/**
 * The CPU kernels' exps give an element the same bits whether it falls in a vector or in the scalar tail of a row:
 * the tails use VectorMath's one-float forms (Math.exp, used before, differs from them in the last bit for about
 * half the arguments). Rows of length 2·lanes + 3 whose last three entries repeat three entries of the first vector.
 */
class ExpTailTest {
    private static final int L = RowKernels.L, N = 2 * L + 3;

    private static float[] row(long seed) {
        Rng rng = new Rng(seed);
        float[] a = new float[N];
        for (int i = 0; i < N; i++) a[i] = (rng.nextFloat() - 0.5f) * 20f;
        for (int k = 0; k < 3; k++) a[2 * L + k] = a[k + 1];
        return a;
    }

    @Test
    void expShiftedSumWritesTheSameBitsInTheTail() {
        for (long seed = 1; seed <= 50; seed++) {
            float[] a = row(seed), d = new float[N];
            RowKernels.expShiftedSum(a, 0, N, 10f, d, 0);
            for (int k = 0; k < 3; k++) assertEquals(Float.floatToRawIntBits(d[k + 1]), Float.floatToRawIntBits(d[2 * L + k]), "seed " + seed);
        }
    }

    @Test
    void crossEntropyGradientWritesTheSameBitsInTheTail() {
        for (long seed = 1; seed <= 50; seed++) {
            float[] a = row(seed), g = new float[N];
            CrossEntropy.writeRowGrad(a, 0, N, 9.5f, -1, 0.25f, g, 0);
            for (int k = 0; k < 3; k++) assertEquals(Float.floatToRawIntBits(g[k + 1]), Float.floatToRawIntBits(g[2 * L + k]), "seed " + seed);
        }
    }
}
