package org.jtune.train.optim;

import java.util.List;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.Parallel;

/**
 * Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_ with the 2-norm: the norm of all
 * gradients taken together, and when it exceeds {@code maxNorm} every gradient is scaled by
 * maxNorm / (norm + 1e-6). Squares are summed in double over fixed chunks of {@link #CHUNK} elements
 * whose partial sums are added in order, so the norm does not depend on the thread count.
 */
public final class GradientClipping {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());
    static final int CHUNK = 1 << 16;

    private GradientClipping() {}

    /** The 2-norm of all gradients. A non-finite gradient gives a non-finite norm. */
    public static double globalNorm(List<Parameter> params) {
        double sum = 0;
        for (Parameter p : params) sum += sumOfSquares(p.gradArray(), p.gradOffset(), p.numel());
        return Math.sqrt(sum);
    }

    /**
     * Scales the gradients so that their global norm is at most {@code maxNorm}; returns the norm
     * before clipping (what to log). {@code maxNorm} ≤ 0 only measures. A NaN or infinite norm
     * leaves the gradients as they are (the caller decides to skip the step).
     */
    public static double clip(List<Parameter> params, double maxNorm) {
        double norm = globalNorm(params);
        if (maxNorm > 0 && Double.isFinite(norm) && norm > maxNorm) {
            float coef = (float) (maxNorm / (norm + 1e-6));
            for (Parameter p : params) scale(p.gradArray(), p.gradOffset(), p.numel(), coef);
        }
        return norm;
    }

    /** Σ a[off+i]² for i in [0, n), in double, chunked as described above. */
    static double sumOfSquares(float[] a, int off, int n) {
        int chunks = (n + CHUNK - 1) / CHUNK;
        double[] partial = new double[chunks];
        Parallel.forRange(chunks, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                int from = off + c * CHUNK;
                partial[c] = chunkSumOfSquares(a, from, Math.min(from + CHUNK, off + n));
            }
        });
        double s = 0;
        for (double x : partial) s += x;
        return s;
    }

    private static double chunkSumOfSquares(float[] a, int from, int to) {
        DoubleVector acc0 = DoubleVector.zero(D), acc1 = DoubleVector.zero(D);
        int i = from;
        for (int bound = from + F.loopBound(to - from); i < bound; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            DoubleVector lo = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector hi = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 1);
            acc0 = lo.fma(lo, acc0);
            acc1 = hi.fma(hi, acc1);
        }
        double s = 0;
        double[] lanes0 = acc0.toArray(), lanes1 = acc1.toArray();
        for (int l = 0; l < lanes0.length; l++) s += lanes0[l] + lanes1[l];
        for (; i < to; i++) s += (double) a[i] * a[i];
        return s;
    }

    private static void scale(float[] a, int off, int n, float coef) {
        Parallel.forRange(n, 1 << 15, (from, to) -> {
            int i = from;
            for (int bound = from + F.loopBound(to - from); i < bound; i += F.length()) {
                FloatVector.fromArray(F, a, off + i).mul(coef).intoArray(a, off + i);
            }
            for (; i < to; i++) a[off + i] *= coef;
        });
    }
}
