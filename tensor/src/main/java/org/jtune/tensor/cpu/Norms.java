package org.jtune.tensor.cpu;

import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * RMSNorm (Zhang &amp; Sennrich 2019, as in Llama: y = x · rsqrt(mean(x²) + eps) · w) and LayerNorm
 * (Ba et al. 2016: y = (x − μ) · rsqrt(σ² + eps) · w + b, biased σ², two-pass) over the last dim,
 * row by row. Weight and bias (any dtype) are converted to F32 once per call.
 */
final class Norms {
    private Norms() {}

    static void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        run(x, vector(weight), null, eps, false, out);
    }

    static void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        run(x, vector(weight), bias == null ? null : vector(bias), eps, true, out);
    }

    private static float[] vector(Tensor t) {
        Rows r = new Rows(t, 0);
        float[] v = new float[r.length()];
        r.load(0, v);
        return v;
    }

    private static void run(Tensor x, float[] w, float[] b, float eps, boolean center, Tensor out) {
        Rows in = Rows.lastDim(x);
        Rows o = Rows.lastDim(out);
        int n = in.length();
        Parallel.forRange(in.count(), Rows.grain(3L * n), (r0, r1) -> {
            float[] buf = in.direct() ? null : new float[n];
            float[] obuf = o.direct() ? null : new float[n];
            for (int r = r0; r < r1; r++) {
                float[] a = in.arrayOf(r, buf);
                int base = in.baseOf(r, buf);
                float mean = center ? RowKernels.sum(a, base, n) / n : 0f;
                float ms = RowKernels.sumSquaredDeviations(a, base, n, mean) / n;
                float inv = (float) (1.0 / Math.sqrt(ms + eps));
                float[] d = obuf == null ? o.array() : obuf;
                int dOff = obuf == null ? (int) o.offset(r) : 0;
                RowKernels.normalize(a, base, n, mean, inv, w, b, d, dOff);
                if (obuf != null) o.store(r, obuf);
            }
        });
    }
}
