package org.jtune.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * RMSNorm (Zhang &amp; Sennrich 2019, as in Llama: y = x · r · w with r = rsqrt(mean(x²) + eps)) and
 * LayerNorm (Ba et al. 2016: y = (x − μ) · rsqrt(σ² + eps) · w + b, biased σ², two-pass) over the last
 * dim, row by row, and the backward of RMSNorm from the saved r: with x̂ = x·r,
 * dx = r · (g∘w − x̂ · mean(g∘w∘x̂)) = r·g∘w − r²·c·x with c = r·Σ(g∘w∘x)/d,  dw = Σ_rows g∘x̂.
 * Weight and bias (any dtype) are converted to F32 once per call.
 */
final class Norms {
    /** Rows whose dw contributions are summed together before the blocks are added in order. */
    static final int DW_BLOCK = 32;

    private Norms() {}

    static void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) {
        run(x, vector(weight), null, eps, false, out, rstd);
    }

    static void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        run(x, vector(weight), bias == null ? null : vector(bias), eps, true, out, null);
    }

    private static float[] vector(Tensor t) {
        Rows r = new Rows(t, 0);
        float[] v = new float[r.length()];
        r.load(0, v);
        return v;
    }

    private static void run(Tensor x, float[] w, float[] b, float eps, boolean center, Tensor out, Tensor rstd) {
        Rows in = Rows.lastDim(x);
        Rows o = Rows.lastDim(out);
        int n = in.length();
        float[] ra = rstd == null ? null : Elementwise.arr(rstd);
        int ro = rstd == null ? 0 : (int) rstd.offset();
        Parallel.forPieces(in.count(), Rows.grain(3L * n), (r0, r1) -> {
            float[] buf = in.direct() ? null : new float[n];
            float[] obuf = o.direct() ? null : new float[n];
            for (int r = r0; r < r1; r++) {
                float[] a = in.arrayOf(r, buf);
                int base = in.baseOf(r, buf);
                float mean = center ? RowKernels.sum(a, base, n) / n : 0f;
                float ms = center ? RowKernels.sumSquaredDeviations(a, base, n, mean) / n : RowKernels.dot(a, base, a, base, n) / n;
                float inv = (float) (1.0 / Math.sqrt(ms + eps));
                if (ra != null) ra[ro + r] = inv;
                float[] d = obuf == null ? o.array() : obuf;
                int dOff = obuf == null ? (int) o.offset(r) : 0;
                RowKernels.normalize(a, base, n, mean, inv, w, b, d, dOff);
                if (obuf != null) o.store(r, obuf);
            }
        });
    }

    /** dx and/or dw (either may be null) of RMSNorm for upstream g; rows of x, g, dx are the last dim. */
    static void rmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor g, Tensor dx, Tensor dw) {
        Tensor xd = Elementwise.dense(x), gd = Elementwise.dense(g), rd = Elementwise.dense(rstd);
        float[] w = vector(weight);
        int d = w.length;
        int n = d == 0 ? 0 : (int) (xd.numel() / d);
        float[] xa = Elementwise.arr(xd), ga = Elementwise.arr(gd), rs = Elementwise.arr(rd);
        int xo = (int) xd.offset(), go = (int) gd.offset(), rso = (int) rd.offset();
        float[] dxa = dx == null ? null : Elementwise.arr(dx);
        int dxo = dx == null ? 0 : (int) dx.offset();
        int blocks = (n + DW_BLOCK - 1) / DW_BLOCK;
        float[][] partial = dw == null ? null : new float[blocks][];
        Parallel.forRange(blocks, Math.max(1, 4096 / Math.max(d, 1) / DW_BLOCK), (b0, b1) -> {
            float[] gw = new float[d];
            for (int blk = b0; blk < b1; blk++) {
                float[] dwp = partial == null ? null : (partial[blk] = new float[d]);
                for (int r = blk * DW_BLOCK, end = Math.min(n, r + DW_BLOCK); r < end; r++) {
                    int xb = xo + r * d, gb = go + r * d, ob = dxo + r * d;
                    float rr = rs[rso + r];
                    if (dwp != null) rowDw(ga, gb, xa, xb, rr, dwp, d);
                    if (dxa != null) rowDx(ga, gb, xa, xb, w, rr, gw, dxa, ob, d);
                }
            }
        });
        if (dw != null) {
            float[] o = Elementwise.arr(dw);
            int oo = (int) dw.offset();
            for (float[] p : partial) for (int i = 0; i < d; i++) o[oo + i] += p[i];
        }
    }

    /** dw[i] += g[i]·x[i]·r. */
    private static void rowDw(float[] ga, int gb, float[] xa, int xb, float r, float[] dw, int d) {
        int i = 0;
        for (int bound = RowKernels.S.loopBound(d); i < bound; i += RowKernels.L) {
            FloatVector.fromArray(RowKernels.S, ga, gb + i).mul(FloatVector.fromArray(RowKernels.S, xa, xb + i)).mul(r)
                    .add(FloatVector.fromArray(RowKernels.S, dw, i)).intoArray(dw, i);
        }
        for (; i < d; i++) dw[i] += ga[gb + i] * xa[xb + i] * r;
    }

    /** dx[i] = r·gw[i] − r²·c·x[i] with gw = g∘w (into the scratch row) and c = r·(gw·x)/d. */
    private static void rowDx(float[] ga, int gb, float[] xa, int xb, float[] w, float r, float[] gw, float[] dx, int ob, int d) {
        int i = 0;
        for (int bound = RowKernels.S.loopBound(d); i < bound; i += RowKernels.L) {
            FloatVector.fromArray(RowKernels.S, ga, gb + i).mul(FloatVector.fromArray(RowKernels.S, w, i)).intoArray(gw, i);
        }
        for (; i < d; i++) gw[i] = ga[gb + i] * w[i];
        float c = r * RowKernels.dot(gw, 0, xa, xb, d) / d;
        float k = r * r * c;
        i = 0;
        for (int bound = RowKernels.S.loopBound(d); i < bound; i += RowKernels.L) {
            FloatVector.fromArray(RowKernels.S, gw, i).mul(r).sub(FloatVector.fromArray(RowKernels.S, xa, xb + i).mul(k)).intoArray(dx, ob + i);
        }
        for (; i < d; i++) dx[ob + i] = r * gw[i] - k * xa[xb + i];
    }
}
