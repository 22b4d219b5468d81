package org.jtune.autograd;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.jtune.testing.Close;
import org.junit.jupiter.api.Test;

/**
 * Under no-grad the fused ops run the tensor module's forward kernel alone, and record nothing;
 * when recording they run our fused forward (which also yields the saved statistics). Both paths
 * must agree.
 */
class InferencePathTest {
    @Test
    void noGradAndRecordingForwardsAgree() {
        Refs.assumeKernel("attention/rmsNorm", () -> Ops.rmsNorm(Tensor.ones(1, 2), Tensor.ones(2), 1e-5f));
        Rng rng = new Rng(50);
        Tensor q = Tensor.randn(rng, 1f, 2, 4, 9, 16).transpose(1, 2), k = Tensor.randn(rng, 1f, 2, 9, 2, 16), v = Tensor.randn(rng, 1f, 2, 9, 2, 16);
        int[] seg = {0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 2, 2, 2, 2};
        AttentionMask mask = AttentionMask.causalMask().withWindow(4).withSegments(Tensor.ofInts(seg, 2, 9));
        Tensor x = Tensor.randn(rng, 1f, 5, 33), w = Tensor.randn(rng, 1f, 33).to(DType.BF16);
        Tensor trained, inferred, trainedNorm, inferredNorm;
        Variable vq = Variable.parameter(q), vx = Variable.parameter(x);
        trained = Attention.apply(vq, Variable.constant(k), Variable.constant(v), mask).value();
        trainedNorm = RmsNorm.apply(vx, Variable.constant(w), 1e-5f).value();
        try (var g = NoGrad.enter()) {
            Variable a = Attention.apply(vq, Variable.constant(k), Variable.constant(v), mask);
            Variable n = RmsNorm.apply(vx, Variable.constant(w), 1e-5f);
            assertNull(a.node);
            assertNull(n.node);
            inferred = a.value();
            inferredNorm = n.value();
        }
        Close.assertClose(Close.values(inferred), trained, 1e-5, 1e-6, "attention");
        Close.assertClose(Close.values(inferredNorm), trainedNorm, 1e-5, 1e-6, "rms_norm");
        // the cross-entropy loss matches the tensor module's per-row losses
        Tensor logits = Tensor.randn(rng, 3f, 6, 301);
        Tensor targets = Tensor.ofInts(new int[] {5, -100, 300, 0, 17, -100}, 6);
        float ours = CrossEntropy.apply(Variable.constant(logits), targets, -100, 4f).value().item();
        assertEquals(Ops.crossEntropy(logits, targets, -100), ours, 1e-5f);
    }
}
