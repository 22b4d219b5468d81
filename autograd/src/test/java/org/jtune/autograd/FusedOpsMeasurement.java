package org.jtune.autograd;

import java.lang.management.ManagementFactory;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Figures for the fused ops' design choices, printed (not asserted): the two cross-entropy
 * strategies (time and bytes allocated on the calling thread, where the N×V buffers are made) and
 * attention forward/backward time. Tagged heavy: run with
 * {@code ./mvnw -pl autograd -am test -Djtune.excludedTags=none -Dtest=FusedOpsMeasurement -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("heavy")
class FusedOpsMeasurement {
    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void crossEntropyStrategies() {
        int n = 512, v = 32000;
        Rng rng = new Rng(1);
        Tensor base = Tensor.randn(rng, 2f, n, v);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = i % 7 == 0 ? -100 : rng.nextInt(v);
        Tensor targets = Tensor.ofInts(t, n);
        for (int rep = 0; rep < 4; rep++) {
            for (boolean inPlace : new boolean[] {false, true}) {
                Tensor logits = base.copy();
                Variable x = Variable.parameter(logits);
                long a0 = allocated(), t0 = System.nanoTime();
                Variable loss = inPlace ? CrossEntropy.applyConsumingLogits(x, targets, -100, n) : CrossEntropy.apply(x, targets, -100, n);
                long t1 = System.nanoTime(), a1 = allocated();
                Tensor dLogits = loss.node.rule().apply(new Tensor[] {Tensor.scalar(1f)})[0]; // the rule alone, no leaf copy
                long t2 = System.nanoTime(), a2 = allocated();
                if (rep == 3) {
                    System.out.printf("cross-entropy %s N=%d V=%d: forward %.1f ms (%.1f MB allocated), backward %.1f ms (%.1f MB allocated), logits %.1f MB%n",
                            inPlace ? "in-place " : "recompute", n, v, (t1 - t0) / 1e6, (a1 - a0) / 1e6, (t2 - t1) / 1e6, (a2 - a1) / 1e6, n * (double) v * 4 / 1e6);
                }
            }
        }
    }

    @Test
    void attentionForwardBackward() {
        int b = 1, t = 512, hq = 8, hkv = 2, d = 64;
        Rng rng = new Rng(2);
        Variable q = Variable.parameter(Tensor.randn(rng, 1f, b, t, hq, d));
        Variable k = Variable.parameter(Tensor.randn(rng, 1f, b, t, hkv, d));
        Variable v = Variable.parameter(Tensor.randn(rng, 1f, b, t, hkv, d));
        Tensor up = Tensor.randn(rng, 1f, b, t, hq, d);
        double flops = 2.0 * 2 * b * hq * (t * (t + 1) / 2.0) * d; // QKᵀ and PV over the causal half
        for (int rep = 0; rep < 5; rep++) {
            long t0 = System.nanoTime();
            Variable o = Attention.apply(q, k, v, AttentionMask.causalMask());
            long t1 = System.nanoTime();
            o.backward(up);
            long t2 = System.nanoTime();
            if (rep == 4) {
                System.out.printf("attention B=%d T=S=%d Hq=%d Hkv=%d D=%d causal: forward %.1f ms (%.2f GFLOP/s), backward %.1f ms (%.2f GFLOP/s of its 2.5x work)%n",
                        b, t, hq, hkv, d, (t1 - t0) / 1e6, flops / (t1 - t0), (t2 - t1) / 1e6, 2.5 * flops / (t2 - t1));
            }
        }
    }
}
