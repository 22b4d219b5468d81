package org.jtune.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A {@link BlockCodec} whose matrices store their rows interleaved in groups of {@value #GROUP} (as {@link RowGroupCodec}'s)
 * and multiply F32 activations as they are, in their own kernel: one vector load holds a column of codes of 32 rows, and
 * the product is a broadcast activation times the widened codes, with no horizontal sums (Q8_0 repacked on load, whose
 * codes cost a widening each whatever the activations are). A matrix has a multiple of 32 rows and starts at byte 0 of
 * its memory; the row primitives find a row's bytes from its offset {@code row · rowBytes(cols)}. The CPU kernels
 * ({@code cpu/BlockMatmul}) call {@link #multiplyGroups} for every forward product, of one row or many.
 */
public interface FloatGroupCodec extends BlockCodec {
    /** Rows per interleaved group. */
    int GROUP = RowGroupCodec.GROUP;

    /**
     * out[outOff + i·outStride + r] = Σ_k W[r, k]·x[xOff + i·cols + k] for the rows r of groups [g0, g1) (r from 32·g0) and
     * the m rows i of x, W's group 0 at byte {@code offset} of w. Each output depends only on its row of W and its row of x
     * (not on the groups or rows it is computed with): the same for any split, batch and thread count.
     */
    void multiplyGroups(MemorySegment w, long offset, int g0, int g1, int cols, float[] x, int xOff, int m, float[] out, int outOff, int outStride);
}
