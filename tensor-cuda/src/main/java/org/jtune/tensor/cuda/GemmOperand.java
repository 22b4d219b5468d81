package org.jtune.tensor.cuda;

import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * How a (..., rows, cols) tensor can be handed to cuBLAS without a copy: its last two dims stored
 * row-major (unit column stride) or column-major (unit row stride) with a leading dimension, and its
 * batch dims collapsing to one stride (0 for a broadcast batch). {@link #of} returns null when the
 * layout does not fit (the caller densifies). Pure arithmetic on shapes and strides.
 *
 * @param rowMajor    true: element (r, c) at r·ld + c; false: at r + c·ld
 * @param ld          the leading dimension, in elements
 * @param batch       the number of matrices
 * @param batchStride elements from one matrix to the next (0: the same matrix for every batch)
 */
public record GemmOperand(boolean rowMajor, int ld, long batch, long batchStride) {
    public static GemmOperand of(Tensor t) {
        return of(t.dtype(), t.shape(), t.strides());
    }

    public static GemmOperand of(DType dtype, int[] shape, long[] strides) {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) return null;
        int r = shape.length;
        if (r < 2) return null;
        int rows = shape[r - 2], cols = shape[r - 1];
        long sr = rows == 1 ? Math.max(cols, 1) : strides[r - 2];
        long sc = cols == 1 ? 1 : strides[r - 1];
        Boolean rowMajor = null;
        long ld = 0;
        if (sc == 1 && sr >= Math.max(1, cols)) {
            rowMajor = true;
            ld = sr;
        } else if (cols == 1 && rows > 1 && strides[r - 2] == 1) {
            rowMajor = true;
            ld = 1;
        } else if (sr == 1 && sc >= Math.max(1, rows)) {
            rowMajor = false;
            ld = sc;
        }
        if (rowMajor == null || ld > Integer.MAX_VALUE) return null;
        long batch = 1, stride = 0;
        boolean seen = false;
        for (int d = r - 3; d >= 0; d--) {
            if (shape[d] == 1) continue;
            if (!seen) {
                stride = strides[d];
                seen = true;
            } else if (strides[d] != stride * batch) {
                return null;
            }
            batch *= shape[d];
        }
        if (stride < 0) return null;
        return new GemmOperand(rowMajor, (int) ld, batch, stride);
    }
}
