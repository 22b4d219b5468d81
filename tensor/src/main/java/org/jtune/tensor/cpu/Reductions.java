package org.jtune.tensor.cpu;

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
