package org.jtune.autograd;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/** Test helpers: random inputs (optionally as non-contiguous views), broadcasting index maps for double references, tolerances. */
final class Refs {
    private Refs() {}

    /**
     * Gradient tolerance against a double reference. Our kernels compute in F32 (ε = 6e−8); sums of
     * up to ~100 terms and a few chained ops give relative errors below 1e−5, and cancellations
     * (softmax − onehot, p·(dp − Δ)) can make a small gradient's relative error larger, which the
     * absolute term covers for gradients of order 1. A wrong rule is off by O(|grad|) ≈ 0.1–1,
     * hundreds of times these bounds.
     */
    static final GradCheck.Tolerance GRAD = new GradCheck.Tolerance(1e-3, 1e-4);
    /** Forward values against the double reference, same reasoning. */
    static final GradCheck.Tolerance FORWARD = new GradCheck.Tolerance(1e-4, 1e-5);

    /** N(0, std) values of {@code shape}; when {@code strided}, a transposed view of a larger tensor (not contiguous). */
    static Tensor randn(Rng rng, float std, boolean strided, int... shape) {
        if (!strided || shape.length < 2) return Tensor.randn(rng, std, shape);
        int[] big = shape.clone();
        int r = big.length;
        int tmp = big[r - 1];
        big[r - 1] = big[r - 2] + 1; // one extra column, narrowed away below
        big[r - 2] = tmp;
        Tensor t = Tensor.randn(rng, std, big).narrow(r - 1, 1, shape[r - 2]).transpose(r - 2, r - 1);
        if (t.isContiguous()) throw new AssertionError("expected a non-contiguous view");
        return t;
    }

    /** Flat row-major index into {@code in} (broadcast to {@code out}) of flat output index {@code k}. */
    static int broadcastIndex(int[] out, int[] in, int k) {
        int idx = 0, mul = 1;
        for (int d = out.length - 1; d >= 0; d--) {
            int pos = k % out[d];
            k /= out[d];
            int id = d - (out.length - in.length);
            if (id >= 0) {
                if (in[id] != 1) idx += pos * mul;
                mul *= in[id];
            }
        }
        return idx;
    }

    static int numel(int... shape) {
        return (int) Tensor.numel(shape);
    }

    /** Skips the calling test while the tensor module's kernel behind {@code probe} is not written yet. */
    static void assumeKernel(String name, Runnable probe) {
        boolean present;
        try {
            probe.run();
            present = true;
        } catch (UnsupportedOperationException e) {
            present = false;
        }
        assumeTrue(present, "skipped: the tensor module's " + name + " kernel is not implemented on this branch yet");
    }

    static void assumeSoftmaxKernels() {
        assumeKernel("softmax/reduce", () -> {
            Ops.softmax(Tensor.ones(2), 0);
            Ops.sum(Tensor.ones(2), 0, false);
        });
    }

    static void check(GradCheck.Forward f, GradCheck.Reference ref, Variable... in) {
        GradCheck.againstReference(f, ref, in, FORWARD, GRAD, 17).assertPassed();
    }
}
