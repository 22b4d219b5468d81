package org.jtune.autograd;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.tensor.DType;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RMSNorm, SwiGLU and cross-entropy against double references. */
class FusedGradTest {
    @ParameterizedTest
    @ValueSource(ints = {1, 13, 37})
    void rmsNormWithTrainableAndFrozenWeight(int d) {
        Rng rng = new Rng(d);
        float eps = 1e-5f;
        Tensor x = Refs.randn(rng, 1.5f, true, 2, 3, d);
        Tensor w = Tensor.uniform(rng, 0.5f, 1.5f, d);
        GradCheck.Reference ref = in -> {
            double[] y = new double[in[0].length];
            for (int r = 0; r < y.length / d; r++) {
                double ss = 0;
                for (int i = 0; i < d; i++) ss += in[0][r * d + i] * in[0][r * d + i];
                double rs = 1 / Math.sqrt(ss / d + eps);
                for (int i = 0; i < d; i++) y[r * d + i] = in[0][r * d + i] * rs * in[1][i];
            }
            return y;
        };
        Refs.check(in -> RmsNorm.apply(in[0], in[1], eps), ref, Variable.parameter(x), Variable.parameter(w));
        Variable frozen = Variable.constant(w.to(DType.BF16));
        Refs.check(in -> RmsNorm.apply(in[0], in[1], eps), ref, Variable.parameter(x), frozen);
        assertNull(frozen.grad());
    }

    @Test
    void swiGlu() {
        Rng rng = new Rng(4);
        Tensor gate = Refs.randn(rng, 2f, true, 3, 37), up = Tensor.randn(rng, 1f, 3, 37);
        Refs.check(in -> SwiGlu.apply(in[0], in[1]), in -> {
            double[] y = new double[in[0].length];
            for (int i = 0; i < y.length; i++) y[i] = in[0][i] / (1 + Math.exp(-in[0][i])) * in[1][i];
            return y;
        }, Variable.parameter(gate), Variable.parameter(up));
    }

    private static double[] crossEntropyRef(double[] x, int[] t, int v, int ignore, double norm) {
        double loss = 0;
        for (int r = 0; r < t.length; r++) {
            if (t[r] == ignore) continue;
            double m = Double.NEGATIVE_INFINITY, z = 0;
            for (int j = 0; j < v; j++) m = Math.max(m, x[r * v + j]);
            for (int j = 0; j < v; j++) z += Math.exp(x[r * v + j] - m);
            loss += m + Math.log(z) - x[r * v + t[r]];
        }
        return new double[] {loss / norm};
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void crossEntropyWithIgnoredRowsAndACallerNormaliser(boolean consumeLogits) {
        Rng rng = new Rng(5);
        int n = 7, v = 37, ignore = -100;
        int[] t = {3, ignore, 36, 0, ignore, 17, 17};
        Tensor targets = Tensor.ofInts(t, n);
        Tensor logits = Refs.randn(rng, 2f, true, n, v);
        float norm = 9f; // e.g. the token count of the whole accumulation window
        GradCheck.Forward f = consumeLogits
                ? in -> CrossEntropy.applyConsumingLogits(Arithmetic.scale(in[0], 1f), targets, ignore, norm) // logits produced by an op
                : in -> CrossEntropy.apply(in[0], targets, ignore, norm);
        Refs.check(f, in -> crossEntropyRef(in[0], t, v, ignore, norm), Variable.parameter(logits));
        // (..., V) logits with (...) targets
        Tensor l3 = Tensor.randn(rng, 1f, 2, 3, v);
        int[] t3 = {1, 2, ignore, 4, 5, 6};
        Refs.check(in -> CrossEntropy.apply(in[0], Tensor.ofInts(t3, 2, 3), ignore, 5f), in -> crossEntropyRef(in[0], t3, v, ignore, 5),
                Variable.parameter(l3));
    }

    @Test
    void crossEntropyEdgeCases() {
        Variable x = Variable.parameter(Tensor.ones(2, 5));
        Variable loss = CrossEntropy.apply(x, Tensor.ofInts(new int[] {-1, -1}, 2), -1, 1f);
        assertEquals(0f, loss.value().item());
        loss.backward();
        assertArrayEquals(new float[10], x.grad().toFloatArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.apply(x, Tensor.ofInts(new int[] {0, 5}, 2), -1, 1f));
        assertTrue(e.getMessage().contains("row 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CrossEntropy.apply(x, Tensor.ofInts(new int[] {0, 1}, 2), -1, 0f));
        // uniform logits: loss = log V per row
        Variable y = CrossEntropy.apply(Variable.constant(Tensor.zeros(3, 1000)), Tensor.ofInts(new int[] {1, 2, 3}, 3), -100, 3f);
        assertEquals(Math.log(1000), y.value().item(), 1e-5);
    }
}
