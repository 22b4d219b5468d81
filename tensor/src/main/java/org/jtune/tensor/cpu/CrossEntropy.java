package org.jtune.tensor.cpu;

import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Per-row cross-entropy loss = logsumexp(x) − x[target], for large vocabularies in one pass over
 * each row: the row is read in blocks that fit in L1; each block's max is folded into a running
 * maximum m (rescaling the running Σ exp(x − m) when m grows), then the block's exp(x − m) is added
 * while the block is still in cache (the "online softmax" of Milakov &amp; Gimelshein 2018, per block).
 * Targets are all checked before any row is computed; rows whose target is the ignore index get 0.
 */
final class CrossEntropy {
    private static final int BLOCK = 2048;

    private CrossEntropy() {}

    static void crossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Tensor losses) {
        int rows = logits.size(0), v = logits.size(1);
        int[] target = new int[rows];
        for (int r = 0; r < rows; r++) {
            target[r] = targets.storage().getInt(DType.I32, targets.offset() + r * targets.stride(0));
            if (target[r] != ignoreIndex && (target[r] < 0 || target[r] >= v)) {
                throw new IllegalArgumentException("cross_entropy: target " + target[r] + " of row " + r + " outside [0, " + v
                        + ") and not the ignore index " + ignoreIndex);
            }
        }
        Rows in = Rows.lastDim(logits);
        long lOff = losses.offset(), lStride = losses.stride(0);
        Parallel.forRange(rows, Rows.grain(2L * v), (r0, r1) -> {
            float[] buf = in.direct() ? null : new float[v];
            for (int r = r0; r < r1; r++) {
                float loss = 0f;
                if (target[r] != ignoreIndex) {
                    float[] a = in.arrayOf(r, buf);
                    int base = in.baseOf(r, buf);
                    loss = rowLoss(a, base, v, target[r]);
                }
                losses.storage().setFloat(losses.dtype(), lOff + r * lStride, loss);
            }
        });
    }

    /** logsumexp(a[off, off+n)) − a[off + target], one blocked pass. */
    static float rowLoss(float[] a, int off, int n, int target) {
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
        if (m == Float.NEGATIVE_INFINITY) return Float.NaN; // all −∞: softmax is 0/0
        return (float) (((double) m - a[off + target]) + Math.log(s));
    }
}
