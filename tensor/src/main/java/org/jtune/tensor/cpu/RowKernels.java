package org.jtune.tensor.cpu;

import org.jtune.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API loops over one run of floats a[off, off+n): the building blocks of the row kernels
 * (reductions, softmax, norms, attention, loss). Each accumulates in float lanes of
 * {@link FloatVector#SPECIES_PREFERRED}, then reduces the lanes and adds the scalar tail in index
 * order, so the result depends only on n and the machine's vector width (never on threads).
 * Accumulators stay local variables of the one method that uses them (the JIT keeps them in registers).
 */
final class RowKernels {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    private RowKernels() {}

    static float sum(float[] a, int off, int n) {
        int i = 0;
        float s = 0f;
        if (n >= L) {
            FloatVector acc = FloatVector.zero(S);
            for (int bound = S.loopBound(n); i < bound; i += L) acc = acc.add(FloatVector.fromArray(S, a, off + i));
            s = VectorMath.sum(acc);
        }
        for (; i < n; i++) s += a[off + i];
        return s;
    }

    /** Maximum; NaN if any element is NaN; −∞ for n = 0. */
    static float max(float[] a, int off, int n) {
        int i = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (n >= L) {
            FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int bound = S.loopBound(n); i < bound; i += L) acc = acc.max(FloatVector.fromArray(S, a, off + i));
            m = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) m = Math.max(m, a[off + i]);
        return m;
    }

    /** Minimum; NaN if any element is NaN; +∞ for n = 0. */
    static float min(float[] a, int off, int n) {
        int i = 0;
        float m = Float.POSITIVE_INFINITY;
        if (n >= L) {
            FloatVector acc = FloatVector.broadcast(S, Float.POSITIVE_INFINITY);
            for (int bound = S.loopBound(n); i < bound; i += L) acc = acc.min(FloatVector.fromArray(S, a, off + i));
            m = acc.reduceLanes(VectorOperators.MIN);
        }
        for (; i < n; i++) m = Math.min(m, a[off + i]);
        return m;
    }

    /** Σ (a[i] − c)². */
    static float sumSquaredDeviations(float[] a, int off, int n, float c) {
        int i = 0;
        float s = 0f;
        if (n >= L) {
            FloatVector acc = FloatVector.zero(S);
            for (int bound = S.loopBound(n); i < bound; i += L) {
                FloatVector d = FloatVector.fromArray(S, a, off + i).sub(c);
                acc = d.fma(d, acc);
            }
            s = VectorMath.sum(acc);
        }
        for (; i < n; i++) {
            float d = a[off + i] - c;
            s += d * d;
        }
        return s;
    }

    /**
     * Σ a[i]·b[i]: the dot product of the CPU backend (norms, attention forward and backward, their gradients;
     * inference's attention scores take {@link #scoreDot}): lanes accumulate with FMA, then {@link VectorMath#sum}
     * adds them in lane order and the tail follows in index order, so the result depends only on n and the vector width.
     */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return dot(a, aOff, b, bOff, n, false);
    }

    /**
     * Σ a[i]·b[i] for inference's attention scores (decode steps and short chunks, dense and paged alike): lanes accumulate
     * with FMA as in {@link #dot}, then {@link VectorMath#treeSum} adds them in a fixed tree of whole-vector adds: a 64-wide
     * key 4.8–5.9 ns against 10.5 with {@code dot}'s lane-order sum, decode attention at 1024 tokens −11 % (2026-12-06).
     * (Training scores through transposed keys, as its backward recomputes them.) Depends only on n and the vector width.
     */
    static float scoreDot(float[] a, int aOff, float[] b, int bOff, int n) {
        return dot(a, aOff, b, bOff, n, true);
    }

    /**
     * {@link #scoreDot} of a against a row b of 16-bit floats (a BF16 or F16 KV cache; {@code bf16} picks the format), each
     * widened exactly to F32 in registers: the bits of scoreDot over the widened row.
     */
    static float scoreDot(float[] a, int aOff, short[] b, int bOff, int n, boolean bf16) {
        int i = 0;
        float s = 0f;
        if (n >= L) {
            FloatVector acc = FloatVector.zero(S);
            for (int bound = S.loopBound(n); i < bound; i += L) {
                acc = FloatVector.fromArray(S, a, aOff + i).fma(HalfVectors.widen(b, bOff + i, bf16), acc);
            }
            s = VectorMath.treeSum(acc);
        }
        for (; i < n; i++) s += a[aOff + i] * HalfVectors.widen(b[bOff + i], bf16);
        return s;
    }

    /** {@link #dot} (lanes summed in lane order) or {@link #scoreDot} (in a tree); the flag is a constant at every call. */
    private static float dot(float[] a, int aOff, float[] b, int bOff, int n, boolean tree) {
        int i = 0;
        float s = 0f;
        if (n >= L) {
            FloatVector acc = FloatVector.zero(S);
            for (int bound = S.loopBound(n); i < bound; i += L) {
                acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
            }
            s = tree ? VectorMath.treeSum(acc) : VectorMath.sum(acc);
        }
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /**
     * dst[i] ← exp(a[i] − shift) (when dst is not null); returns Σ exp(a[i] − shift). shift must be at least every
     * a[i] that is a number (the row's maximum, or a running maximum that includes this run), so that the
     * arguments are ≤ 0 or NaN ({@link VectorMath#expOfNonPositive}).
     */
    static float expShiftedSum(float[] a, int off, int n, float shift, float[] dst, int dOff) {
        int i = 0;
        float s = 0f;
        if (n >= L) {
            FloatVector acc = FloatVector.zero(S);
            for (int bound = S.loopBound(n); i < bound; i += L) {
                FloatVector e = VectorMath.expOfNonPositive(FloatVector.fromArray(S, a, off + i).sub(shift));
                if (dst != null) e.intoArray(dst, dOff + i);
                acc = acc.add(e);
            }
            s = VectorMath.sum(acc);
        }
        for (; i < n; i++) {
            float e = VectorMath.expOfNonPositive(a[off + i] - shift);
            if (dst != null) dst[dOff + i] = e;
            s += e;
        }
        return s;
    }

    /** dst[i] ← a[i]·f. */
    static void scale(float[] a, int off, int n, float f, float[] dst, int dOff) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, a, off + i).mul(f).intoArray(dst, dOff + i);
        }
        for (; i < n; i++) dst[dOff + i] = a[off + i] * f;
    }

    /** dst[i] ← a[i] + c. */
    static void addScalar(float[] a, int off, int n, float c, float[] dst, int dOff) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, a, off + i).add(c).intoArray(dst, dOff + i);
        }
        for (; i < n; i++) dst[dOff + i] = a[off + i] + c;
    }

    /** y[yOff + i] ← y[yOff + i] + p·x[xOff + i]. */
    static void axpy(float p, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        FloatVector vp = FloatVector.broadcast(S, p);
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(vp, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += p * x[xOff + i];
    }

    /** dst[i] ← (a[i] − mean)·inv·w[i] (+ b[i] when b is not null): the affine step of RMSNorm and LayerNorm. */
    static void normalize(float[] a, int off, int n, float mean, float inv, float[] w, float[] b, float[] dst, int dOff) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector y = FloatVector.fromArray(S, a, off + i).sub(mean).mul(inv).mul(FloatVector.fromArray(S, w, i));
            if (b != null) y = y.add(FloatVector.fromArray(S, b, i));
            y.intoArray(dst, dOff + i);
        }
        for (; i < n; i++) {
            float y = (a[off + i] - mean) * inv * w[i];
            dst[dOff + i] = b != null ? y + b[i] : y;
        }
    }
}
