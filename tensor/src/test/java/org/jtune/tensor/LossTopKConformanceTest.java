package org.jtune.tensor;

import static org.jtune.tensor.ElementwiseConformanceTest.U;
import static org.jtune.tensor.Layouts.NORMAL;
import static org.jtune.tensor.Layouts.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Cross-entropy (with an ignore index, vocabularies up to 32000) and top-k (ties, NaN, both small and large k). */
class LossTopKConformanceTest {
    static final int IGNORE = -100;

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void crossEntropyWithIgnoreIndex(Backend be) {
        Rng rng = new Rng(61);
        int[] vocab = {1, 7, 33, 1000, 2049, 32000};
        for (int trial = 0; trial < 18; trial++) {
            int v = vocab[trial % vocab.length], n = v == 32000 ? 3 : rng.nextInt(12);
            float spread = trial % 2 == 0 ? 1f : 10f;
            Tensor logits = Layouts.any(rng, r -> spread * NORMAL.next(r), true, n, v);
            int[] t = new int[n];
            for (int i = 0; i < n; i++) t[i] = rng.nextInt(4) == 0 ? IGNORE : rng.nextInt(v);
            Tensor targets = Tensor.ofInts(t, n);
            Ref rl = Ref.of(logits), want = Ref.zeros(n);
            double[] tol = new double[n];
            double sum = 0;
            int counted = 0;
            for (int i = 0; i < n; i++) {
                if (t[i] == IGNORE) continue;
                double m = Double.NEGATIVE_INFINITY, s = 0;
                for (int j = 0; j < v; j++) m = Math.max(m, rl.at(i, j));
                for (int j = 0; j < v; j++) s += Math.exp(rl.at(i, j) - m);
                want.v()[i] = m + Math.log(s) - rl.at(i, t[i]);
                sum += want.v()[i];
                counted++;
                // Σ exp in float: (V + 8)·u relative, which log turns into absolute; plus roundings of m, x_t, log s.
                tol[i] = (v + 8) * U + 4 * U * (Math.abs(m) + Math.abs(rl.at(i, t[i])) + Math.abs(Math.log(s)));
            }
            Expect.close("cross_entropy of " + describe(logits), Ops.using(be, () -> Ops.crossEntropyPerRow(logits, targets, IGNORE)), want, tol);
            double mean = counted == 0 ? 0 : sum / counted;
            float got = Ops.using(be, () -> Ops.crossEntropy(logits, targets, IGNORE));
            assertEquals(mean, got, 1e-5 * (1 + Math.abs(mean)), "mean cross_entropy");
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void crossEntropyRejectsATargetOutsideTheVocabulary(Backend be) {
        Tensor logits = Tensor.zeros(4, 10);
        Tensor targets = Tensor.ofInts(new int[] {1, IGNORE, 10, 3}, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.using(be, () -> Ops.crossEntropyPerRow(logits, targets, IGNORE)));
        assertTrue(e.getMessage().contains("cross_entropy") && e.getMessage().contains("10") && e.getMessage().contains("row 2"), e.getMessage());
    }

    /** The reference order: NaN above everything, −0 equal to +0, then the lower index first. */
    static Integer[] order(Ref row, int r, int n) {
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        Arrays.sort(idx, (a, b) -> {
            double x = row.at(r, a), y = row.at(r, b);
            boolean xn = Double.isNaN(x), yn = Double.isNaN(y);
            if (xn != yn) return xn ? -1 : 1;
            if (!xn && x != y) return x > y ? -1 : 1;
            return Integer.compare(a, b);
        });
        return idx;
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void topKInDescendingOrderWithStableTies(Backend be) {
        Rng rng = new Rng(62);
        for (int trial = 0; trial < 30; trial++) {
            int rows = 1 + rng.nextInt(5), n = trial < 4 ? 1000 : Layouts.SIZES[rng.nextInt(Layouts.SIZES.length)];
            // Coarse values (a few distinct levels) make many ties; some rows get NaN and ±0.
            Layouts.Sample sample = trial % 3 == 0 ? r -> r.nextInt(5) - 2 : trial % 3 == 1 ? r -> r.nextInt(20) == 0 ? Float.NaN : NORMAL.next(r)
                    : r -> r.nextInt(2) == 0 ? 0f : -0f;
            Tensor x = Layouts.any(rng, sample, true, rows, n);
            int k = switch (trial % 4) {
                case 0 -> 0;
                case 1 -> Math.min(n, 1 + rng.nextInt(32));
                case 2 -> n;
                default -> rng.nextInt(n + 1);
            };
            Tensor[] got = Ops.using(be, () -> Ops.topK(x, k));
            Ref rx = Ref.of(x), values = Ref.zeros(rows, k), indices = Ref.zeros(rows, k);
            for (int r = 0; r < rows; r++) {
                Integer[] o = order(rx, r, n);
                for (int i = 0; i < k; i++) {
                    indices.v()[r * k + i] = o[i];
                    values.v()[r * k + i] = rx.at(r, o[i]);
                }
            }
            Expect.equal("topk " + k + " values of " + describe(x), got[0], values); // copies: exact
            Expect.equal("topk " + k + " indices of " + describe(x), got[1], indices);
        }
    }
}
