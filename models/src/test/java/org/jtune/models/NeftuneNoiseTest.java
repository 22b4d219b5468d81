package org.jtune.models;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.autograd.NoGrad;
import org.jtune.autograd.Variable;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * NEFTune's noise on the training embeddings, as transformers' Trainer adds it: uniform in ±alpha/√(T·dim) over the
 * whole (B, T, dim) output, a constant (the embeddings' gradient is unchanged), drawn from the pass's generator (the same
 * seed gives the same noise), absent at alpha 0 and in passes that do not ask for it; a training forward of a model sees
 * it, a validation forward does not.
 */
class NeftuneNoiseTest {
    @Test
    void uniformNoiseOfTheDocumentedMagnitudeThatLeavesTheGradientAlone() {
        int b = 3, t = 40, d = 64;
        Tensor e = Tensor.randn(new Rng(1), 1f, b, t, d);
        Variable x = Variable.parameter(e);
        ForwardPass pass = ForwardPass.training(AttentionMask.causalMask(), new Rng(9), false).withNeftune(5f);
        Variable y = pass.embedded(x);
        float[] in = e.toFloatArray(), out = y.value().toFloatArray();
        double bound = 5 / Math.sqrt(t * d), sum = 0, sumSq = 0, max = 0;
        for (int i = 0; i < in.length; i++) {
            double n = out[i] - in[i];
            max = Math.max(max, Math.abs(n));
            sum += n;
            sumSq += n * n;
        }
        assertTrue(max <= bound * (1 + 1e-5), max + " beyond " + bound);
        assertTrue(max > 0.99 * bound, "the noise fills its range: " + max);
        int n = in.length;
        assertEquals(0, sum / n, 4 * bound / Math.sqrt(3 * n), "mean 0");
        assertEquals(bound * bound / 3, sumSq / n, 0.05 * bound * bound / 3, "variance of a uniform: magnitude² / 3");
        org.jtune.autograd.Reductions.sum(y).backward();
        float[] grad = x.grad().toFloatArray();
        for (float g : grad) assertEquals(1f, g, "d(e + noise)/de = 1");
        float[] again = ForwardPass.training(AttentionMask.causalMask(), new Rng(9), false).withNeftune(5f).embedded(Variable.constant(e)).value().toFloatArray();
        assertArrayEquals(out, again, "the same generator state gives the same noise");
        assertSame(x, ForwardPass.training(AttentionMask.causalMask(), new Rng(9), false).embedded(x), "alpha 0: untouched");
        assertThrows(IllegalArgumentException.class, () -> ForwardPass.of(AttentionMask.causalMask()).withNeftune(5f), "noise needs a generator");
    }

    @Test
    void aTrainingForwardSeesTheNoiseAndAValidationForwardDoesNot() {
        try (CausalLM m = TinyModels.random(41)) {
            Tensor ids = Tensor.ofInts(new int[] {1, 5, 9, 14, 2, 7}, 1, 6), pos = Tensor.ofInts(new int[] {0, 1, 2, 3, 4, 5}, 1, 6);
            try (NoGrad ignored = NoGrad.enter()) {
                float[] plain = m.hidden(ids, pos, ForwardPass.of(AttentionMask.causalMask())).value().toFloatArray();
                float[] trainingNoNoise = m.hidden(ids, pos, ForwardPass.training(AttentionMask.causalMask(), new Rng(3), false)).value().toFloatArray();
                float[] noisy = m.hidden(ids, pos, ForwardPass.training(AttentionMask.causalMask(), new Rng(3), false).withNeftune(5f)).value().toFloatArray();
                assertArrayEquals(plain, trainingNoNoise);
                assertFalse(java.util.Arrays.equals(plain, noisy));
            }
        }
    }
}
