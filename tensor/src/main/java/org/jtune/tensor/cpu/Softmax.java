package org.jtune.tensor.cpu;

import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Stable softmax and log-softmax along the last dim, one row at a time:
 * m = max x, s = Σ exp(x − m); softmax = exp(x − m) / s, log-softmax = x − m − log s.
 * Three passes over a row that stays in cache (max, exp-and-sum, scale). IEEE cases follow from the
 * formula: a −∞ entry gets 0 (log-softmax −∞); a row of all −∞, or with +∞ or NaN, gives NaN.
 */
final class Softmax {
    private Softmax() {}

    static void softmax(Tensor x, Tensor out) {
        run(x, out, false);
    }

    static void logSoftmax(Tensor x, Tensor out) {
        run(x, out, true);
    }

    private static void run(Tensor x, Tensor out, boolean log) {
        Rows in = Rows.lastDim(x);
        Rows o = Rows.lastDim(out);
        int n = in.length();
        Parallel.forRange(in.count(), Rows.grain(4L * n), (r0, r1) -> {
            float[] buf = in.direct() ? null : new float[n];
            float[] obuf = o.direct() ? null : new float[n];
            for (int r = r0; r < r1; r++) {
                float[] a = in.arrayOf(r, buf);
                int base = in.baseOf(r, buf);
                float[] d = obuf == null ? o.array() : obuf;
                int dOff = obuf == null ? (int) o.offset(r) : 0;
                float m = RowKernels.max(a, base, n);
                if (log) {
                    float s = RowKernels.expShiftedSum(a, base, n, m, null, 0);
                    RowKernels.addScalar(a, base, n, -m, d, dOff);
                    RowKernels.addScalar(d, dOff, n, -(float) Math.log(s), d, dOff);
                } else {
                    float s = RowKernels.expShiftedSum(a, base, n, m, d, dOff);
                    RowKernels.scale(d, dOff, n, 1f / s, d, dOff);
                }
                if (obuf != null) o.store(r, obuf);
            }
        });
    }
}
