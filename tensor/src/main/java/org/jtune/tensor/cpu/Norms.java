package org.jtune.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * RMSNorm (Zhang &amp; Sennrich 2019, as in Llama: y = x · r · w with r = rsqrt(mean(x²) + eps)) and
 * LayerNorm (Ba et al. 2016: y = (x − μ) · rsqrt(σ² + eps) · w + b, biased σ², two-pass) over the last
 * dim, row by row, and the backward of RMSNorm from the saved r: with x̂ = x·r,
 * dx = r · (g∘w − x̂ · mean(g∘w∘x̂)) = r·g∘w − r²·c·x with c = r·Σ(g∘w∘x)/d,  dw = Σ_rows g∘x̂.
 * Weight and bias (any dtype) are converted to F32 once per call. Forward: two passes over a row that
 * stays in cache (Σx², then the scaled write), so memory sees one read and one write per element. RMSNorm
 * on rows read and written in place goes by tiles of {@link #TILE} rows: the Σx² of each, then the scaled
 * write of the tile a column vector at a time ({@link #scaleTile}), each vector of w loaded once for the
 * tile's rows (bench/RESULTS.md: an L1 miss of w cost as much as a row element's trip to memory, 2026-12-04;
 * a load of w per row and vector a quarter of the write rate, 2026-12-06). Rows are claimed in pieces by the
 * threads ({@link Parallel#forClaimed}).
 */
final class Norms {
    /** Rows whose dw contributions are summed together before the blocks are added in order. */
    static final int DW_BLOCK = 32;
    /** Rows whose scaled writes share each vector of w (forward RMSNorm). */
    static final int TILE = 4;

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
        if (!center && in.direct() && o.direct()) {
            Parallel.forPieces(in.count(), Rows.grain(2L * n), 8, (r0, r1) -> rmsNormTiles(in, o, n, w, eps, ra, ro, r0, r1));
            return;
        }
        Parallel.forPieces(in.count(), Rows.grain(2L * n), 8, (r0, r1) -> {
            float[] buf = in.direct() ? null : new float[n];
            float[] obuf = o.direct() ? null : new float[n];
            for (int r = r0; r < r1; r++) {
                float[] a = in.arrayOf(r, buf);
                int base = in.baseOf(r, buf);
                float mean = center ? RowKernels.sum(a, base, n) / n : 0f;
                float ms = (center ? RowKernels.sumSquaredDeviations(a, base, n, mean) : sumOfSquares(a, base, n)) / n;
                float inv = (float) (1.0 / Math.sqrt(ms + eps));
                if (ra != null) ra[ro + r] = inv;
                float[] d = obuf == null ? o.array() : obuf;
                int dOff = obuf == null ? (int) o.offset(r) : 0;
                if (center) RowKernels.normalize(a, base, n, mean, inv, w, b, d, dOff);
                else scaleRow(a, base, n, inv, w, d, dOff);
                if (obuf != null) o.store(r, obuf);
            }
        });
    }

    /** RMSNorm of rows [r0, r1), both read and written in place, by tiles of {@link #TILE} rows. */
    private static void rmsNormTiles(Rows in, Rows o, int n, float[] w, float eps, float[] ra, int ro, int r0, int r1) {
        float[] a = in.array(), d = o.array();
        int[] aOff = new int[TILE], dOff = new int[TILE];
        float[] inv = new float[TILE];
        for (int t0 = r0; t0 < r1; t0 += TILE) {
            int rows = Math.min(TILE, r1 - t0);
            for (int k = 0; k < rows; k++) {
                aOff[k] = (int) in.offset(t0 + k);
                dOff[k] = (int) o.offset(t0 + k);
                inv[k] = (float) (1.0 / Math.sqrt(sumOfSquares(a, aOff[k], n) / n + eps));
                if (ra != null) ra[ro + t0 + k] = inv[k];
            }
            scaleTile(a, aOff, n, inv, w, d, dOff, rows);
        }
    }

    /**
     * {@link #scaleRow} of each of {@code rows} rows, a[aOff[k], aOff[k]+n) into dst[dOff[k], …) with inv[k]: a full tile
     * of {@link #TILE} rows column vector by column vector, each vector of w loaded once for the four rows (a second load
     * stream beside the store stream cost a quarter of a row's write rate); the same products per element as scaleRow
     * (vector up to loopBound(n), scalar after), so the same bits.
     */
    static void scaleTile(float[] a, int[] aOff, int n, float[] inv, float[] w, float[] dst, int[] dOff, int rows) {
        if (rows < TILE) {
            for (int k = 0; k < rows; k++) scaleRow(a, aOff[k], n, inv[k], w, dst, dOff[k]);
            return;
        }
        var S = RowKernels.S;
        int L = RowKernels.L, bound = S.loopBound(n);
        int a0 = aOff[0], a1 = aOff[1], a2 = aOff[2], a3 = aOff[3], d0 = dOff[0], d1 = dOff[1], d2 = dOff[2], d3 = dOff[3];
        float f0 = inv[0], f1 = inv[1], f2 = inv[2], f3 = inv[3];
        int aMax = Math.max(Math.max(a0, a1), Math.max(a2, a3)), dMax = Math.max(Math.max(d0, d1), Math.max(d2, d3));
        int i = 0;
        // The last three tests hold for valid rows; they let C2 drop the bounds checks (see sumOfSquares).
        for (; i < bound && aMax + i + L <= a.length && dMax + i + L <= dst.length && i + L <= w.length; i += L) {
            FloatVector wv = FloatVector.fromArray(S, w, i);
            FloatVector.fromArray(S, a, a0 + i).mul(f0).mul(wv).intoArray(dst, d0 + i);
            FloatVector.fromArray(S, a, a1 + i).mul(f1).mul(wv).intoArray(dst, d1 + i);
            FloatVector.fromArray(S, a, a2 + i).mul(f2).mul(wv).intoArray(dst, d2 + i);
            FloatVector.fromArray(S, a, a3 + i).mul(f3).mul(wv).intoArray(dst, d3 + i);
        }
        for (int k = 0; k < rows; k++) {
            for (int j = i; j < n; j++) dst[dOff[k] + j] = a[aOff[k] + j] * inv[k] * w[j];
        }
    }

    /**
     * Σ a[i]² over four independent vector accumulators (one chained FMA accumulator waits out the FMA
     * latency on every vector, which made this pass as slow as the row's trip to memory), added as
     * (acc0 + acc1) + (acc2 + acc3), lanes in order, then the tail: the order depends only on n and the
     * vector width.
     */
    static float sumOfSquares(float[] a, int off, int n) {
        var S = RowKernels.S;
        int L = RowKernels.L, i = 0;
        float s = 0f;
        if (n >= 4 * L) {
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
            // The second test is always true for a valid row; it lets C2 drop the loads' bounds checks and unroll, which
            // doubled the pass's read rate from memory (10.5 → 24 GB/s, one thread, 128 MiB; bench/RESULTS.md).
            for (; i + 4 * L <= n && off + i + 4 * L <= a.length; i += 4 * L) {
                FloatVector v0 = FloatVector.fromArray(S, a, off + i), v1 = FloatVector.fromArray(S, a, off + i + L);
                FloatVector v2 = FloatVector.fromArray(S, a, off + i + 2 * L), v3 = FloatVector.fromArray(S, a, off + i + 3 * L);
                s0 = v0.fma(v0, s0);
                s1 = v1.fma(v1, s1);
                s2 = v2.fma(v2, s2);
                s3 = v3.fma(v3, s3);
            }
            s = org.jtune.tensor.VectorMath.sum(s0.add(s1).add(s2.add(s3)));
        }
        for (; i < n; i++) s += a[off + i] * a[off + i];
        return s;
    }

    /** dst[i] ← a[i]·inv·w[i]: RMSNorm's affine step (LayerNorm's, with its mean and bias, is {@link RowKernels#normalize}). */
    private static void scaleRow(float[] a, int off, int n, float inv, float[] w, float[] dst, int dOff) {
        int i = 0;
        for (int bound = RowKernels.S.loopBound(n); i < bound; i += RowKernels.L) {
            FloatVector.fromArray(RowKernels.S, a, off + i).mul(inv).mul(FloatVector.fromArray(RowKernels.S, w, i)).intoArray(dst, dOff + i);
        }
        for (; i < n; i++) dst[dOff + i] = a[off + i] * inv * w[i];
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
