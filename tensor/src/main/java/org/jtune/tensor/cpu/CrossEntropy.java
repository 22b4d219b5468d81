package org.jtune.tensor.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.VectorMath;

/**
 * Per-row cross-entropy loss = lse − x[target] with lse = log Σ_j e^{x_j}, for large vocabularies in
 * one pass over each row: the row is read in blocks that fit in L1; each block's max is folded into a
 * running maximum m (rescaling the running Σ exp(x − m) when m grows), then the block's exp(x − m) is
 * added while the block is still in cache (the "online softmax" of Milakov &amp; Gimelshein 2018, per
 * block). The gradient of the scaled losses is dx_j = (e^{x_j − lse} − [j = target])·scale, zero rows
 * for ignored targets; {@link #withGrad} writes it right after the row's loss while the row is still
 * in cache, possibly over the logits themselves (no second N×V buffer). Targets are all checked
 * before any row is computed.
 */
final class CrossEntropy {
    private static final int BLOCK = 2048;

    private CrossEntropy() {}

    /** losses (N) and, when lse is not null, each row's logsumexp; ignored rows get loss 0 and lse 0 (never read). */
    static void crossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Tensor losses, Tensor lse) {
        int rows = logits.size(0), v = logits.size(1);
        int[] target = targets(targets, ignoreIndex, rows, v);
        Rows in = Rows.lastDim(logits);
        long lOff = losses.offset(), lStride = losses.stride(0);
        Parallel.forRange(rows, Rows.grain(2L * v), (r0, r1) -> {
            float[] buf = in.direct() ? null : new float[v];
            for (int r = r0; r < r1; r++) {
                float loss = 0f, rowLse = 0f;
                if (target[r] != ignoreIndex) {
                    float[] a = in.arrayOf(r, buf);
                    int base = in.baseOf(r, buf);
                    double[] ms = logSumExpParts(a, base, v);
                    rowLse = lse(ms);
                    loss = rowLoss(ms, a[base + target[r]]);
                }
                if (lse != null) lse.storage().setFloat(DType.F32, lse.offset() + r * lse.stride(0), rowLse);
                losses.storage().setFloat(losses.dtype(), lOff + r * lStride, loss);
            }
        });
    }

    /** grad (N, V), contiguous F32, possibly the logits themselves ← the scaled gradient from the saved lse. */
    static void backward(Tensor logits, Tensor targets, int ignoreIndex, Tensor lse, float scale, Tensor grad) {
        int rows = logits.size(0), v = logits.size(1);
        int[] target = targets(targets, ignoreIndex, rows, v);
        Tensor x = grad == logits ? logits : Elementwise.dense(logits);
        Tensor l = Elementwise.dense(lse);
        float[] xa = Elementwise.arr(x), la = Elementwise.arr(l), ga = Elementwise.arr(grad);
        int xo = (int) x.offset(), lo = (int) l.offset(), go = (int) grad.offset();
        Parallel.forRange(rows, Math.max(1, 8192 / Math.max(v, 1)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                boolean ignored = target[r] == ignoreIndex;
                writeRowGrad(xa, xo + r * v, v, la[lo + r], ignored ? -1 : target[r], ignored ? 0f : scale, ga, go + r * v);
            }
        });
    }

    /** Losses, and the scaled gradient into grad (contiguous F32, possibly the logits), one row at a time. */
    static void withGrad(Tensor logits, Tensor targets, int ignoreIndex, float scale, Tensor losses, Tensor grad) {
        int rows = logits.size(0), v = logits.size(1);
        int[] target = targets(targets, ignoreIndex, rows, v);
        Tensor x = grad == logits ? logits : Elementwise.dense(logits);
        float[] xa = Elementwise.arr(x), ga = Elementwise.arr(grad);
        int xo = (int) x.offset(), go = (int) grad.offset();
        long lOff = losses.offset(), lStride = losses.stride(0);
        Parallel.forRange(rows, Math.max(1, 8192 / Math.max(v, 1)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = xo + r * v;
                float loss = 0f;
                if (target[r] == ignoreIndex) {
                    writeRowGrad(xa, base, v, 0f, -1, 0f, ga, go + r * v);
                } else {
                    double[] ms = logSumExpParts(xa, base, v);
                    loss = rowLoss(ms, xa[base + target[r]]);
                    writeRowGrad(xa, base, v, lse(ms), target[r], scale, ga, go + r * v);
                }
                losses.storage().setFloat(losses.dtype(), lOff + r * lStride, loss);
            }
        });
    }

    private static int[] targets(Tensor targets, int ignoreIndex, int rows, int v) {
        int[] target = new int[rows];
        for (int r = 0; r < rows; r++) {
            target[r] = targets.storage().getInt(DType.I32, targets.offset() + r * targets.stride(0));
            if (target[r] != ignoreIndex && (target[r] < 0 || target[r] >= v)) {
                throw new IllegalArgumentException("cross_entropy: target " + target[r] + " of row " + r + " outside [0, " + v
                        + ") and not the ignore index " + ignoreIndex);
            }
        }
        return target;
    }

    /** {m, s} with m the row's maximum and s = Σ exp(x − m), one blocked pass; m = −∞ when every entry is −∞. */
    private static double[] logSumExpParts(float[] a, int off, int n) {
        float m = Float.NEGATIVE_INFINITY, s = 0f;
        for (int blk = 0; blk < n; blk += BLOCK) {
            int len = Math.min(BLOCK, n - blk);
            float bm = RowKernels.max(a, off + blk, len);
            if (bm == Float.NEGATIVE_INFINITY) continue; // adds exp(−∞) = 0 to any finite running sum
            if (bm > m) {
                s *= (float) Math.exp(m - bm);
                m = bm;
            }
            s += RowKernels.expShiftedSum(a, off + blk, len, m, null, 0);
        }
        return new double[] {m, s};
    }

    private static float lse(double[] ms) {
        return ms[0] == Double.NEGATIVE_INFINITY ? Float.NaN : (float) (ms[0] + Math.log(ms[1]));
    }

    /** lse − x_target; NaN when every entry is −∞ (softmax is 0/0). */
    private static float rowLoss(double[] ms, float xt) {
        if (ms[0] == Double.NEGATIVE_INFINITY) return Float.NaN;
        return (float) ((ms[0] - xt) + Math.log(ms[1]));
    }

    /** out[ob + j] = (e^{x_j − lse} − [j = target])·scale for one row (all zeros when scale is 0); out may be x. */
    static void writeRowGrad(float[] x, int base, int v, float lse, int target, float scale, float[] out, int ob) {
        if (scale == 0f) {
            Arrays.fill(out, ob, ob + v, 0f);
            return;
        }
        float xt = target >= 0 ? x[base + target] : 0f;
        int i = 0;
        for (int bound = RowKernels.S.loopBound(v); i < bound; i += RowKernels.L) {
            VectorMath.exp(FloatVector.fromArray(RowKernels.S, x, base + i).sub(lse)).mul(scale).intoArray(out, ob + i);
        }
        for (; i < v; i++) out[ob + i] = VectorMath.exp(x[base + i] - lse) * scale;
        if (target >= 0) out[ob + target] = (VectorMath.exp(xt - lse) - 1f) * scale;
    }
}
