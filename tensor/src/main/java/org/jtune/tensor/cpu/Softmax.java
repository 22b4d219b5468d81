package org.jtune.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.VectorMath;
import org.jtune.tensor.Tensor;

/**
 * Stable softmax and log-softmax along the last dim, and their backward, one row at a time:
 * m = max x, s = Σ exp(x − m); softmax = exp(x − m) / s, log-softmax = x − m − log s.
 * Three passes over a row that stays in cache (max, exp-and-sum, scale): memory sees one read and one
 * write per element, and the exp (one per element, {@link VectorMath#expOfNonPositive}: x − m ≤ 0) is most of
 * the arithmetic.
 * An online max-and-sum pass would save the max pass but costs a second exp per element (the rescale
 * when the running max grows), which is dearer than re-reading a row from L1/L2. The max of the next
 * row is taken inside this row's exp loop ({@link #expSumAndNextMax}). Its read from memory does not overlap
 * the arithmetic (2026-12-06, one thread, 4096 × 8192 rows from memory, in cycles per 16 floats: a Vector API copy
 * loop ~26 (memory), the exp pass in cache 12–14, softmax ~40 — the sum: the out-of-order window fills with exps and
 * keeps fewer misses in flight; a cheaper exp, 16 → 12 cycles in cache, left softmax from memory within noise), so on
 * one thread softmax runs at ~0.55–0.6 of System.arraycopy, ~0.75 of that copy loop. Rows are claimed in
 * pieces by the threads ({@link Parallel#forClaimed}). IEEE cases follow from the
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

    /**
     * The backward from the saved output y, per row: softmax dx = y∘(g − Σ g∘y), log-softmax
     * dx = g − e^y·Σ g. y and g are read as contiguous F32 (copied when they are not); out contiguous.
     */
    static void backward(Tensor y, Tensor g, boolean log, Tensor out) {
        Tensor yr = Elementwise.dense(y), gr = Elementwise.dense(g);
        int n = yr.rank() == 0 ? 1 : yr.size(-1);
        int rows = n == 0 ? 0 : (int) (yr.numel() / n);
        float[] ya = Elementwise.arr(yr), ga = Elementwise.arr(gr), o = Elementwise.arr(out);
        int yo = (int) yr.offset(), go = (int) gr.offset(), oo = (int) out.offset();
        var S = RowKernels.S;
        Parallel.forRange(rows, Math.max(1, 4096 / Math.max(n, 1)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int yb = yo + r * n, gb = go + r * n, ob = oo + r * n;
                float s = log ? RowKernels.sum(ga, gb, n) : RowKernels.dot(ga, gb, ya, yb, n);
                int i = 0;
                for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                    FloatVector yv = FloatVector.fromArray(S, ya, yb + i), gv = FloatVector.fromArray(S, ga, gb + i);
                    FloatVector r2 = log ? gv.sub(VectorMath.exp(yv).mul(s)) : yv.mul(gv.sub(s));
                    r2.intoArray(o, ob + i);
                }
                for (; i < n; i++) o[ob + i] = log ? ga[gb + i] - VectorMath.exp(ya[yb + i]) * s : ya[yb + i] * (ga[gb + i] - s);
            }
        });
    }

    private static void run(Tensor x, Tensor out, boolean log) {
        Rows in = Rows.lastDim(x);
        Rows o = Rows.lastDim(out);
        int n = in.length();
        Parallel.forPieces(in.count(), Rows.grain(2L * n), 8, (r0, r1) -> {
            float[] buf = in.direct() ? null : new float[n];
            float[] obuf = o.direct() ? null : new float[n];
            float[] nextMax = new float[1];
            boolean carried = false;
            for (int r = r0; r < r1; r++) {
                float[] a = in.arrayOf(r, buf);
                int base = in.baseOf(r, buf);
                float[] d = obuf == null ? o.array() : obuf;
                int dOff = obuf == null ? (int) o.offset(r) : 0;
                float m = carried ? nextMax[0] : maxOfNumbers(a, base, n);
                carried = !log && buf == null && r + 1 < r1;
                if (carried) {
                    float s = expSumAndNextMax(a, base, n, m, d, dOff, in.baseOf(r + 1, null), nextMax);
                    RowKernels.scale(d, dOff, n, 1f / s, d, dOff);
                } else if (log) {
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

    /**
     * {@link RowKernels#expShiftedSum} of row a[off, off+n) into dst (the same sum in the same order) and,
     * in the same loop, {@link #maxOfNumbers} of the next row a[nextOff, nextOff+n) into nextMax[0]: the
     * next row's trip from memory then overlaps this row's exps instead of following them.
     */
    static float expSumAndNextMax(float[] a, int off, int n, float shift, float[] dst, int dOff, int nextOff, float[] nextMax) {
        var S = RowKernels.S;
        int L = RowKernels.L, i = 0;
        float s = 0f, mx = Float.NEGATIVE_INFINITY;
        if (n >= L) {
            FloatVector acc = FloatVector.zero(S), mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int bound = S.loopBound(n); i < bound; i += L) {
                FloatVector e = VectorMath.expOfNonPositive(FloatVector.fromArray(S, a, off + i).sub(shift));
                e.intoArray(dst, dOff + i);
                acc = acc.add(e);
                FloatVector v = FloatVector.fromArray(S, a, nextOff + i);
                mv = mv.blend(v, mv.lt(v));
            }
            s = VectorMath.sum(acc);
            for (int l = 0; l < L; l++) mx = Math.max(mx, mv.lane(l));
        }
        for (int j = i; j < n; j++) {
            float e = VectorMath.expOfNonPositive(a[off + j] - shift);
            dst[dOff + j] = e;
            s += e;
        }
        for (int j = i; j < n; j++) if (a[nextOff + j] > mx) mx = a[nextOff + j];
        nextMax[0] = mx;
        return s;
    }

    /**
     * The largest non-NaN element (−∞ when there is none). NaN needs no propagation here: a NaN in the row
     * makes Σ exp(x − m) NaN, and with it the whole row, as the formula says. Compare-and-blend over four
     * independent lanes of accumulators: Math.max semantics (NaN-propagating, −0 &lt; +0) cost several
     * instructions per vector on x86 and one chained accumulator waits out their latency.
     */
    static float maxOfNumbers(float[] a, int off, int n) {
        var S = RowKernels.S;
        int L = RowKernels.L, i = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (n >= 4 * L) {
            FloatVector m0 = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), m1 = m0, m2 = m0, m3 = m0;
            for (int bound = n - 4 * L; i <= bound; i += 4 * L) {
                FloatVector v0 = FloatVector.fromArray(S, a, off + i), v1 = FloatVector.fromArray(S, a, off + i + L);
                FloatVector v2 = FloatVector.fromArray(S, a, off + i + 2 * L), v3 = FloatVector.fromArray(S, a, off + i + 3 * L);
                m0 = m0.blend(v0, m0.lt(v0));
                m1 = m1.blend(v1, m1.lt(v1));
                m2 = m2.blend(v2, m2.lt(v2));
                m3 = m3.blend(v3, m3.lt(v3));
            }
            m0 = m0.blend(m1, m0.lt(m1));
            m2 = m2.blend(m3, m2.lt(m3));
            m0 = m0.blend(m2, m0.lt(m2));
            for (int l = 0; l < L; l++) m = Math.max(m, m0.lane(l));
        }
        for (; i < n; i++) if (a[off + i] > m) m = a[off + i];
        return m;
    }
}
