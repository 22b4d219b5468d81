package org.jtune.autograd;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.tensor.DType;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Batched matmul with broadcast batch dims and transposed operands; Linear with a frozen BF16 weight. */
class MatMulGradTest {
    /** (batchA..., m, k) · (batchB..., k, n) in double, numpy broadcasting over the batch dims. */
    private static double[] matmulRef(double[] a, int[] as, double[] b, int[] bs, int[] out) {
        int m = as[as.length - 2], k = as[as.length - 1], n = bs[bs.length - 1];
        int[] outBatch = java.util.Arrays.copyOf(out, out.length - 2);
        int[] aBatch = java.util.Arrays.copyOf(as, as.length - 2), bBatch = java.util.Arrays.copyOf(bs, bs.length - 2);
        int batches = Refs.numel(outBatch);
        double[] y = new double[batches * m * n];
        for (int p = 0; p < batches; p++) {
            int ab = aBatch.length == 0 ? 0 : Refs.broadcastIndex(outBatch, aBatch, p), bb = bBatch.length == 0 ? 0 : Refs.broadcastIndex(outBatch, bBatch, p);
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                double s = 0;
                for (int q = 0; q < k; q++) s += a[(ab * m + i) * k + q] * b[(bb * k + q) * n + j];
                y[(p * m + i) * n + j] = s;
            }
        }
        return y;
    }

    @Test
    void batchedBroadcastAndTransposedOperands() {
        Rng rng = new Rng(11);
        int[][][] cases = {
                {{3, 5}, {5, 7}, {3, 7}},
                {{2, 1, 3, 5}, {4, 5, 6}, {2, 4, 3, 6}},
                {{3, 4, 2}, {2, 3}, {3, 4, 3}},
                {{1, 9}, {2, 9, 1}, {2, 1, 1}},
        };
        for (int[][] c : cases) {
            for (boolean strided : new boolean[] {false, true}) {
                Tensor a = Refs.randn(rng, 1f, strided, c[0]), b = Refs.randn(rng, 1f, strided, c[1]);
                for (boolean freezeB : new boolean[] {false, true}) {
                    Variable va = Variable.parameter(a), vb = Variable.of(b, !freezeB);
                    Refs.check(in -> MatMul.apply(in[0], in[1]), in -> matmulRef(in[0], c[0], in[1], c[1], c[2]), va, vb);
                    if (freezeB) assertNull(vb.grad(), "a frozen operand gets no gradient");
                }
            }
        }
    }

    @Test
    void matrixTimesVector() {
        Rng rng = new Rng(12);
        Variable a = Variable.parameter(Tensor.randn(rng, 1f, 4, 3)), x = Variable.parameter(Tensor.randn(rng, 1f, 3));
        Refs.check(in -> MatMul.apply(in[0], in[1]), in -> matmulRef(in[0], new int[] {4, 3}, in[1], new int[] {3, 1}, new int[] {4, 1}), a, x);
    }

    @Test
    void linearWithFrozenBf16WeightAndBias() {
        Rng rng = new Rng(13);
        int in = 11, out = 6;
        Tensor x = Refs.randn(rng, 1f, true, 2, 3, in);
        Tensor w = Tensor.randn(rng, 0.5f, out, in).to(DType.BF16);
        Tensor bias = Tensor.randn(rng, 1f, out);
        Variable vw = Variable.constant(w);
        GradCheck.Reference ref = v -> {
            double[] y = new double[6 * out];
            for (int r = 0; r < 6; r++) for (int o = 0; o < out; o++) {
                double s = v.length > 2 ? v[2][o] : 0;
                for (int i = 0; i < in; i++) s += v[0][r * in + i] * v[1][o * in + i];
                y[r * out + o] = s;
            }
            return y;
        };
        Refs.check(v -> Linear.apply(v[0], v[1]), ref, Variable.parameter(x), vw);
        assertNull(vw.grad());
        Refs.check(v -> Linear.apply(v[0], v[1], v[2]), ref, Variable.parameter(x), Variable.parameter(w.to(DType.F32)), Variable.parameter(bias));
        Refs.check(v -> Linear.apply(v[0], v[1]), ref, Variable.constant(x), Variable.parameter(Tensor.randn(rng, 0.5f, out, in)));
    }
}
