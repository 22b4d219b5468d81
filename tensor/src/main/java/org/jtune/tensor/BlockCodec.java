package org.jtune.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A block-quantized storage format of matrix rows, as the tensor module sees it: the one interface a
 * new format implements to become a weight the models can multiply with (ggml's Q8_0/Q4_0/Q4_K/Q6_K in
 * the quant module, NF4 with double-quantized absmax, ...). A matrix (rows, cols) of this format is
 * {@code rows} stored rows of {@link #rowBytes(int) rowBytes(cols)} bytes each, back to back; what is
 * inside a row (blocks, scales, a second level of quantized scales) is the format's business, so the
 * only requirement is that each row is self-contained.
 *
 * <p>The CPU kernels ({@code cpu/BlockMatmul}) build every product from the three row primitives:
 * forward GEMV from {@link #dotRows} (by default {@link #dot} per row), forward GEMM and the input gradient dY·W from {@link #dequantize} of
 * a chunk of a row into a small per-thread tile (dequantized in registers or L1; never a full-precision
 * copy of the matrix). Implementations are stateless and safe to share between threads.
 */
public interface BlockCodec {
    /** The lower-case name the CLI and the files use ("q8_0", "q4_k", "nf4"). */
    String name();

    /** Row lengths (cols) must be a multiple of this; chunks passed to {@link #dequantize} start on it. */
    int blockSize();

    /** Bytes of one stored row of {@code cols} elements. */
    long rowBytes(int cols);

    /** Quantizes src[srcOff, srcOff + cols) into the row at dst[dstOff, dstOff + rowBytes(cols)). */
    void encodeRow(float[] src, int srcOff, int cols, MemorySegment dst, long dstOff);

    /**
     * Writes elements [from, from + n) of the row of {@code cols} elements stored at w[rowOff..] into
     * dst[dstOff, dstOff + n). {@code from} is a multiple of {@link #blockSize()}, and so is {@code n}
     * unless the chunk ends the row.
     */
    void dequantize(MemorySegment w, long rowOff, int cols, int from, int n, float[] dst, int dstOff);

    /** Σ_k row[k]·x[xOff + k] over the row of {@code cols} elements at w[rowOff..], dequantized in registers. */
    float dot(MemorySegment w, long rowOff, int cols, float[] x, int xOff);

    /**
     * out[outOff + i] = Σ_k W[i, k]·x[xOff + k] for the {@code rows} rows stored {@code rowBytes} apart from w[rowOff..]:
     * one piece of a GEMV (decode), called by several threads at once on disjoint pieces. The default is one
     * {@link #dot} per row; a format overrides it with its decode kernel. Each output must not depend on how the rows
     * are cut into pieces (results are the same for any thread count).
     */
    default void dotRows(MemorySegment w, long rowOff, long rowBytes, int rows, int cols, float[] x, int xOff, float[] out, int outOff) {
        for (int i = 0; i < rows; i++) out[outOff + i] = dot(w, rowOff + i * rowBytes, cols, x, xOff);
    }
}
