package org.jtune.tensor.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.ReduceOp;
import org.jtune.tensor.Tensor;

/**
 * Reductions along one dim (sum, mean, max, min, variance with a correction) and argmax. The input
 * is walked as rows along the reduced dim ({@link Rows}); a row with unit stride in heap F32 is
 * reduced in place with the Vector API, any other row is first converted into a scratch buffer.
 * Output element r (out has size 1 along dim) receives row r. Max and min propagate NaN; variance
 * is two-pass (mean, then Σ(x − mean)²) divided by max(0, n − correction), as torch.var does.
 */
final class Reductions {
    private Reductions() {}

    static void reduce(ReduceOp op, Tensor x, int dim, int correction, Tensor out) {
        Rows in = new Rows(x, dim);
        Rows o = new Rows(out, dim);
        int n = in.length();
        Parallel.forRange(in.count(), Rows.grain(n), (r0, r1) -> {
            float[] buf = in.direct() ? null : new float[n];
            for (int r = r0; r < r1; r++) {
                float[] a = in.arrayOf(r, buf);
                int base = in.baseOf(r, buf);
                float v = switch (op) {
                    case SUM -> RowKernels.sum(a, base, n);
                    case MEAN -> RowKernels.sum(a, base, n) / n;
                    case MAX -> RowKernels.max(a, base, n);
                    case MIN -> RowKernels.min(a, base, n);
                    case VAR -> {
                        float mean = RowKernels.sum(a, base, n) / n;
                        yield RowKernels.sumSquaredDeviations(a, base, n, mean) / Math.max(0, n - correction);
                    }
                };
                out.storage().setFloat(out.dtype(), o.offset(r), v);
            }
        });
    }

    /**
     * out ← g summed over the dims where out (g's rank) has size 1 and g does not: the backward of
     * broadcasting. g is walked once in row-major order, each run of its last dim either added into
     * the matching run of out or (when the last dim is summed) reduced to one value first: a fixed
     * order, on the calling thread.
     */
    static void sumTo(Tensor g, Tensor out) {
        Elementwise.fill(out, 0f);
        if (g.numel() == 0) return;
        int[] gs = g.shape();
        Tensor src = Elementwise.dense(g);
        long[] dst = out.expand(gs).strides(); // stride 0 along the summed dims
        float[] in = Elementwise.arr(src), o = Elementwise.arr(out);
        int r = gs.length;
        int inner = gs[r - 1];
        long innerStride = dst[r - 1];
        int[] idx = new int[r];
        long outer = src.numel() / inner;
        int at = (int) src.offset();
        for (long run = 0; run < outer; run++, at += inner) {
            long base = out.offset();
            for (int d = 0; d < r - 1; d++) base += idx[d] * dst[d];
            int ob = (int) base;
            if (innerStride == 0) {
                o[ob] += RowKernels.sum(in, at, inner);
            } else {
                int i = 0;
                for (int bound = RowKernels.S.loopBound(inner); i < bound; i += RowKernels.L) {
                    FloatVector.fromArray(RowKernels.S, o, ob + i).add(FloatVector.fromArray(RowKernels.S, in, at + i)).intoArray(o, ob + i);
                }
                for (; i < inner; i++) o[ob + i] += in[at + i];
            }
            for (int d = r - 2; d >= 0; d--) {
                if (++idx[d] < gs[d]) break;
                idx[d] = 0;
            }
        }
    }

    /** Elements per chunk of {@link #sumOfSquares}: the chunks' partial sums are added in order. */
    static final int SQUARES_CHUNK = 1 << 16;

    /**
     * Σ x² in double over fixed chunks of {@link #SQUARES_CHUNK} elements whose partial sums are added
     * in order, so the result does not depend on the thread count (a gradient's norm for clipping).
     */
    static double sumOfSquares(Tensor x) {
        Tensor d = Elementwise.dense(x);
        float[] a = Elementwise.arr(d);
        int off = (int) d.offset(), n = (int) d.numel();
        int chunks = (n + SQUARES_CHUNK - 1) / SQUARES_CHUNK;
        double[] partial = new double[chunks];
        Parallel.forRange(chunks, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                int from = off + c * SQUARES_CHUNK;
                partial[c] = chunkSumOfSquares(a, from, Math.min(from + SQUARES_CHUNK, off + n));
            }
        });
        double s = 0;
        for (double p : partial) s += p;
        return s;
    }

    private static double chunkSumOfSquares(float[] a, int from, int to) {
        DoubleVector acc0 = DoubleVector.zero(D), acc1 = DoubleVector.zero(D);
        int i = from;
        for (int bound = from + RowKernels.S.loopBound(to - from); i < bound; i += RowKernels.L) {
            FloatVector x = FloatVector.fromArray(RowKernels.S, a, i);
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

    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, RowKernels.S.vectorShape());

    /** Index of the first maximum along dim; the first NaN wins over any number. */
    static void argmax(Tensor x, int dim, Tensor out) {
        Rows in = new Rows(x, dim);
        Rows o = new Rows(out, dim);
        int n = in.length();
        Parallel.forRange(in.count(), Rows.grain(n), (r0, r1) -> {
            float[] buf = in.direct() ? null : new float[n];
            for (int r = r0; r < r1; r++) {
                float[] a = in.arrayOf(r, buf);
                int base = in.baseOf(r, buf);
                out.storage().setInt(DType.I32, o.offset(r), argmax(a, base, n));
            }
        });
    }

    /** The first maximum of a[off, off+n), or the first NaN. A vector max finds the value, a scan finds its index. */
    static int argmax(float[] a, int off, int n) {
        float m = RowKernels.max(a, off, n);
        if (m != m) {
            for (int i = 0; i < n; i++) if (a[off + i] != a[off + i]) return i;
        }
        for (int i = 0; i < n; i++) if (a[off + i] == m) return i;
        return 0;
    }
}
