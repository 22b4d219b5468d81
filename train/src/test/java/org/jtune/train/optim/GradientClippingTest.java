package org.jtune.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.jtune.autograd.Variable;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

class GradientClippingTest {
    private static Variable withGrad(String name, float[] g, int... shape) {
        Variable p = Params.param(name, Tensor.zeros(shape));
        Params.setGrad(p, g);
        return p;
    }

    @Test
    void normOfHandComputedGradients() {
        // 3-4-5 and 12: sqrt(9 + 16 + 144) = 13
        var a = withGrad("a", new float[] {3, 4}, 2);
        var b = withGrad("b", new float[] {0, 0, 12}, 3);
        assertEquals(13.0, GradientClipping.globalNorm(List.of(a, b)), 0);
        double before = GradientClipping.clip(List.of(a, b), 6.5);
        assertEquals(13.0, before, 0);
        double coef = 6.5 / (13 + 1e-6);
        assertArrayEquals(new float[] {(float) (3 * coef), (float) (4 * coef)}, a.grad().toFloatArray(), 1e-6f);
        assertEquals(6.5, GradientClipping.globalNorm(List.of(a, b)), 1e-5);
    }

    @Test
    void belowTheLimitNothingChanges() {
        var a = withGrad("a", new float[] {0.3f, -0.4f}, 2);
        assertEquals(0.5, GradientClipping.clip(List.of(a), 1.0), 1e-7);
        assertArrayEquals(new float[] {0.3f, -0.4f}, a.grad().toFloatArray());
    }

    @Test
    void nonFiniteNormIsReportedAndGradientsLeftAlone() {
        var a = withGrad("a", new float[] {Float.NaN, 1f}, 2);
        assertTrue(Double.isNaN(GradientClipping.clip(List.of(a), 1.0)));
        assertEquals(1f, a.grad().get(1));
    }

    @Test
    void largeOddSizedNormMatchesDoubleSumAndIsThreadIndependent() {
        Rng rng = new Rng(1);
        int n = 3 * (1 << 16) + 12_345; // several of the reduction's fixed chunks and a partial one
        float[] g = Tensor.randn(rng, 1, n).toFloatArray();
        double want = 0;
        for (float x : g) want += (double) x * x;
        var p = withGrad("g", g, n);
        int saved = Parallel.threads();
        try {
            Parallel.setThreads(1);
            double one = GradientClipping.globalNorm(List.of(p));
            Parallel.setThreads(2);
            double two = GradientClipping.globalNorm(List.of(p));
            assertEquals(Double.doubleToLongBits(one), Double.doubleToLongBits(two));
            assertEquals(Math.sqrt(want), one, 1e-12 * Math.sqrt(want));
        } finally {
            Parallel.setThreads(saved);
        }
    }
}
