package org.jtune.autograd;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Optimizer-free end-to-end checks: small compositions of our ops trained with plain SGD on one
 * batch must drive the loss below 1% of its start (they can memorise the batch), within a few
 * hundred steps.
 */
class TrainingTest {
    private static void sgd(List<Variable> params, float lr) {
        try (var g = NoGrad.enter()) {
            for (Variable p : params) {
                Ops.addInPlace(p.value(), Ops.scale(p.grad(), -lr));
                p.zeroGrad();
            }
        }
    }

    @Test
    void twoLayerMlpMemorisesABatch() {
        Rng rng = new Rng(31);
        int n = 32, in = 16, hidden = 64, classes = 8;
        Tensor x = Tensor.randn(rng, 1f, n, in);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = rng.nextInt(classes);
        Tensor targets = Tensor.ofInts(labels, n);
        Variable w1 = Variable.parameter(Tensor.randn(rng, (float) (1 / Math.sqrt(in)), hidden, in));
        Variable b1 = Variable.parameter(Tensor.zeros(hidden));
        Variable w2 = Variable.parameter(Tensor.randn(rng, (float) (1 / Math.sqrt(hidden)), classes, hidden));
        List<Variable> params = List.of(w1, b1, w2);
        float first = 0, last = 0;
        int steps = 0;
        for (; steps < 400; steps++) {
            Variable h = Activations.gelu(Linear.apply(Variable.constant(x), w1, b1));
            Variable loss = CrossEntropy.apply(Linear.apply(h, w2), targets, -100, n);
            last = loss.value().item();
            if (steps == 0) first = last;
            if (last < 0.01f * first) break;
            loss.backward();
            sgd(params, 0.5f);
        }
        assertTrue(last < 0.01f * first, "loss " + first + " -> " + last + " after " + steps + " steps");
    }

    @Test
    void attentionBlockMemorisesASequence() {
        // next-token prediction on one random sequence: embedding rows as a parameter (gathered by a
        // one-hot matmul) plus learned positions, RMSNorm, GQA attention, SwiGLU MLP, residuals, cross-entropy
        Rng rng = new Rng(32);
        int t = 12, vocab = 11, dim = 16, hq = 4, hkv = 2, hd = dim / hq;
        int[] tokens = new int[t + 1];
        for (int i = 0; i <= t; i++) tokens[i] = rng.nextInt(vocab);
        float[] onehot = new float[t * vocab];
        for (int i = 0; i < t; i++) onehot[i * vocab + tokens[i]] = 1f;
        Tensor inputs = Tensor.of(onehot, t, vocab);
        Tensor targets = Tensor.ofInts(java.util.Arrays.copyOfRange(tokens, 1, t + 1), t);
        float std = 0.3f;
        Variable emb = Variable.parameter(Tensor.randn(rng, 1f, vocab, dim));
        Variable pos = Variable.parameter(Tensor.randn(rng, 1f, t, dim)); // learned positions (no RoPE kernel needed)
        Variable norm1 = Variable.parameter(Tensor.ones(dim)), norm2 = Variable.parameter(Tensor.ones(dim));
        Variable wq = Variable.parameter(Tensor.randn(rng, std, hq * hd, dim));
        Variable wk = Variable.parameter(Tensor.randn(rng, std, hkv * hd, dim));
        Variable wv = Variable.parameter(Tensor.randn(rng, std, hkv * hd, dim));
        Variable wo = Variable.parameter(Tensor.randn(rng, std, dim, hq * hd));
        Variable wg = Variable.parameter(Tensor.randn(rng, std, 32, dim));
        Variable wu = Variable.parameter(Tensor.randn(rng, std, 32, dim));
        Variable wd = Variable.parameter(Tensor.randn(rng, std, dim, 32));
        Variable head = Variable.parameter(Tensor.randn(rng, std, vocab, dim));
        List<Variable> params = List.of(emb, pos, norm1, norm2, wq, wk, wv, wo, wg, wu, wd, head);
        float first = 0, last = 0;
        int steps = 0;
        for (; steps < 400; steps++) {
            Variable x = Arithmetic.add(MatMul.apply(Variable.constant(inputs), emb), pos).unsqueeze(0); // (1, T, dim)
            Variable h = RmsNorm.apply(x, norm1, 1e-5f);
            Variable q = Linear.apply(h, wq).view(1, t, hq, hd);
            Variable k = Linear.apply(h, wk).view(1, t, hkv, hd);
            Variable v = Linear.apply(h, wv).view(1, t, hkv, hd);
            Variable a = Attention.apply(q, k, v, AttentionMask.causalMask()).view(1, t, dim);
            x = Arithmetic.add(x, Linear.apply(a, wo));
            Variable m = RmsNorm.apply(x, norm2, 1e-5f);
            x = Arithmetic.add(x, Linear.apply(SwiGlu.apply(Linear.apply(m, wg), Linear.apply(m, wu)), wd));
            Variable loss = CrossEntropy.applyConsumingLogits(Linear.apply(x, head).view(t, vocab), targets, -100, t);
            last = loss.value().item();
            if (steps == 0) first = last;
            if (last < 0.01f * first) break;
            loss.backward();
            sgd(params, 0.3f);
        }
        assertTrue(last < 0.01f * first, "loss " + first + " -> " + last + " after " + steps + " steps");
    }
}
