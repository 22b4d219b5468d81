package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.testing.Close;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * cross-entropy with an ignore index over vocabularies up to 32000 (odd sizes, transposed logits) and
 * top-k (ties keep the lower index) against double-precision loops.
 * Tolerance: 1e-5 relative + 1e-5 absolute on the loss (one float log-sum-exp over V terms).
 */
class LossAndTopKConformanceTest {
    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void crossEntropyWithIgnoreIndex(Backend be) {
        Rng rng = new Rng(77);
        for (int v : new int[] {1, 7, 33, 1000, 32000}) {
            int n = 1 + rng.nextInt(9);
            Tensor logits = Tensor.randn(rng, 3f, n, v);
            if (v == 33) logits = Tensor.randn(rng, 3f, v, n).t(); // non-contiguous rows
            int[] t = new int[n];
            for (int i = 0; i < n; i++) t[i] = i % 3 == 2 ? -100 : rng.nextInt(v);
            Tensor targets = Tensor.ofInts(t, n), lg = logits;
            Tensor got = Ops.using(be, () -> Ops.crossEntropyPerRow(lg, targets, -100));
            double[] want = new double[n];
            for (int i = 0; i < n; i++) {
                if (t[i] == -100) continue;
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j < v; j++) max = Math.max(max, lg.get(i, j));
                for (int j = 0; j < v; j++) sum += Math.exp(lg.get(i, j) - max);
                want[i] = Math.log(sum) + max - lg.get(i, t[i]);
            }
            Close.assertClose(want, got, 1e-5, 1e-5, "cross-entropy V=" + v);
        }
        Tensor bad = Tensor.zeros(2, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.using(be, () -> Ops.crossEntropyPerRow(bad, Tensor.ofInts(new int[] {1, 9}, 2), -100)));
        assertTrue(e.getMessage().contains("9"), e.getMessage());
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void topKIsSortedAndStable(Backend be) {
        Rng rng = new Rng(5);
        for (int v : new int[] {1, 7, 33, 1000}) {
            int k = Math.min(v, 1 + rng.nextInt(10));
            float[] x = new float[3 * v];
            for (int i = 0; i < x.length; i++) x[i] = rng.nextInt(5); // many ties
            Tensor[] got = Ops.using(be, () -> Ops.topK(Tensor.of(x, 3, v), k));
            for (int r = 0; r < 3; r++) {
                boolean[] used = new boolean[v];
                for (int j = 0; j < k; j++) {
                    int best = -1;
                    for (int c = 0; c < v; c++) if (!used[c] && (best < 0 || x[r * v + c] > x[r * v + best])) best = c;
                    used[best] = true;
                    assertEquals(best, got[1].getInt(r, j), "index row " + r + " rank " + j + " (V=" + v + ")");
                    assertEquals(x[r * v + best], got[0].get(r, j));
                }
            }
        }
    }
}
