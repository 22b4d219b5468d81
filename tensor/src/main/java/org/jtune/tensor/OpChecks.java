package org.jtune.tensor;

import java.util.Arrays;

/**
 * The argument checks the op wrappers ({@link Ops}, {@link BackwardOps}, {@link OptimizerOps}) share:
 * each error names the op and the shapes or tensors involved.
 */
final class OpChecks {
    private OpChecks() {}

    static float attentionScale(float scale, Tensor q) {
        return scale > 0 ? scale : (float) (1.0 / Math.sqrt(q.size(3)));
    }

    static AttentionMask placeMask(Backend be, AttentionMask mask) {
        Tensor segs = mask.segments();
        Tensor placed = Placement.aux(be, segs);
        return placed == segs ? mask : mask.withSegments(placed);
    }

    static void checkAttention(Tensor q, Tensor k, Tensor v, AttentionMask mask) {
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4) {
            throw new IllegalArgumentException("attention: q, k, v must be (B, T, H, D): " + shapes(q, k, v));
        }
        int b = q.size(0), hq = q.size(2), d = q.size(3), s = k.size(1), hkv = k.size(2);
        if (k.size(0) != b || v.size(0) != b || v.size(1) != s || v.size(2) != hkv || k.size(3) != d || v.size(3) != d
                || hkv == 0 || hq % hkv != 0) {
            throw new IllegalArgumentException("attention: incompatible q, k, v (query heads must be a multiple of kv heads): " + shapes(q, k, v));
        }
        if (mask.queryOffset() < 0 || mask.queryOffset() + q.size(1) > s && mask.causal()) {
            throw new IllegalArgumentException("attention: queries at " + mask.queryOffset() + ".." + (mask.queryOffset() + q.size(1))
                    + " beyond the " + s + " keys");
        }
        Tensor segs = mask.segments();
        if (segs != null && (segs.dtype() != DType.I32 || segs.rank() != 2 || segs.size(0) != b || segs.size(1) != s)) {
            throw new IllegalArgumentException("attention: segments must be I32 (B, S) = (" + b + ", " + s + "), got " + segs);
        }
        if (segs != null && mask.queryOffset() + q.size(1) > s) {
            throw new IllegalArgumentException("attention: with segments, queries at " + mask.queryOffset() + ".."
                    + (mask.queryOffset() + q.size(1)) + " need their own keys among the " + s + " keys");
        }
    }

    static void checkCrossEntropy(Tensor logits, Tensor targets) {
        requireFloating("cross_entropy", logits);
        requireInt("cross_entropy", targets);
        if (logits.rank() != 2 || targets.rank() != 1 || targets.size(0) != logits.size(0)) {
            throw new IllegalArgumentException("cross_entropy: need logits (N, V) and targets (N): " + shapes(logits, targets));
        }
    }

    /** A dim of x normalised (negative counts from the end); an error names the op and the shape. */
    static int dim(String op, Tensor x, int dim) {
        int r = x.rank();
        if (dim < -r || dim >= r) {
            throw new IllegalArgumentException(op + ": dim " + dim + " out of range for shape " + Arrays.toString(x.shape()));
        }
        return dim < 0 ? dim + r : dim;
    }

    static void requireFloating(String op, Tensor t) {
        if (!t.dtype().isFloating()) throw new IllegalArgumentException(op + ": expected a floating tensor, got " + t);
    }

    static void requireInt(String op, Tensor t) {
        if (t.dtype() != DType.I32) throw new IllegalArgumentException(op + ": expected an I32 index tensor, got " + t);
    }

    /** t is written in place by a kernel that needs it contiguous F32. */
    static void requireDenseF32(String op, Tensor t) {
        if (t.dtype() != DType.F32 || !t.isContiguous()) {
            throw new IllegalArgumentException(op + ": expected a contiguous F32 tensor to write into, got " + t);
        }
    }

    static void requireSameShape(String op, Tensor a, Tensor b) {
        if (!Arrays.equals(a.shape(), b.shape())) throw new IllegalArgumentException(op + ": shapes differ: " + shapes(a, b));
    }

    static void requireLastDim(String op, Tensor x, Tensor w) {
        if (w.rank() != 1 || x.rank() < 1 || w.size(0) != x.size(-1)) {
            throw new IllegalArgumentException(op + ": weight " + Arrays.toString(w.shape()) + " does not match last dim of " + Arrays.toString(x.shape()));
        }
    }

    static String shapes(Tensor... ts) {
        StringBuilder sb = new StringBuilder();
        for (Tensor t : ts) {
            if (!sb.isEmpty()) sb.append(", ");
            sb.append(Arrays.toString(t.shape()));
        }
        return sb.toString();
    }
}
