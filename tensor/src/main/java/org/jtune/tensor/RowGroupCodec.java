package org.jtune.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A {@link BlockCodec} whose matrices store their rows interleaved in groups of {@value #GROUP}: the same block of 32
 * columns of 32 consecutive rows side by side, so that one vector load holds one column of codes of 32 rows and the
 * product with an activation is a broadcast multiply-add per column with no horizontal sums (llama.cpp repacks its
 * Q4_0 weights on load for the same reason). Its products take activations quantized to 8 bits ({@link Q8Rows}) and
 * multiply codes as integers, as llama.cpp's dot products do.
 *
 * <p>Unlike the rows of a plain {@link BlockCodec}, a row is not self-contained: a matrix of this codec has a
 * multiple of {@value #GROUP} rows, starts at byte 0 of its memory (views of whole groups of rows are fine), and the
 * row primitives ({@link #dequantize}, {@link #dot}, {@link #encodeRow}) find a row's bytes from its offset
 * {@code row · rowBytes(cols)}. The CPU kernels ({@code cpu/BlockMatmul}) call {@link #multiplyGroups} for every
 * forward product, of one row or many.
 */
public interface RowGroupCodec extends BlockCodec {
    /** Rows per interleaved group (of this interface, {@link FloatGroupCodec} and {@link FloatRowGroups}). */
    int GROUP = 32;

    /**
     * Slot of row r's 16-bit value among a group's 32 (16 little-endian 32-bit words, word t holding row t in its low half
     * and row t + 16 in its high half): one 512-bit load then widens all 32 to two vectors of 16 rows with a shift and a
     * mask. The F16 scales of the quantized layouts and the BF16 values of {@link FloatRowGroups} are stored so.
     */
    static int pairedSlot(int r) {
        return 2 * (r & 15) + (r >> 4);
    }

    /** Whether its products read the activations' {@link Q8Rows#pairedCodes} (else they are not made). */
    default boolean usesPairedCodes() {
        return false;
    }

    /** Values per scale of the activation codes its products take ({@link Q8Rows#block}): 32 as ggml's Q8_0, 256 as its Q8_K. */
    int activationBlock();

    /**
     * out[outOff + i·outStride + r] = Σ_k W[r, k]·x[i, k] for the rows r of groups [g0, g1) (r from 32·g0) and every row i of
     * x, W's group 0 at byte {@code offset} of w. Each output depends only on its row of W and its row of x (not on the
     * groups or rows it is computed with): the result is the same for any split and thread count.
     */
    void multiplyGroups(MemorySegment w, long offset, int g0, int g1, int cols, Q8Rows x, float[] out, int outOff, int outStride);
}
