package org.jtune.quant.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.jtune.quant.BlockFormat;
import org.jtune.tensor.cpu.BlockMatmul;

/**
 * Matrix products with a weight W (rows, cols) stored row by row in a ggml block format, read in place
 * from a MemorySegment (typically a memory-mapped GGUF tensor) starting at a byte offset. The kernels
 * are the tensor module's CPU block kernels ({@link BlockMatmul}), which work for any
 * {@link org.jtune.tensor.BlockCodec}; this class is the array-level entry for callers holding a
 * {@link BlockFormat} (benchmarks, tests), the same code a model's Linear reaches through the backend:
 * <ul>
 * <li>{@link #gemv}: out (rows) = W · x, for decode; each output one {@link BlockFormat#dot}.</li>
 * <li>{@link #gemm}: OUT (m, rows) = X (m, cols) · Wᵀ, for prefill and batched decode (a dequantized L1 panel of 2·lanes weight rows, six X rows per micro-kernel).</li>
 * <li>{@link #inputGradient}: DX (m, cols) = G (m, rows) · W, the input gradient of a frozen weight.</li>
 * </ul>
 * Results are identical for any thread count.
 */
public final class QuantizedMatmul {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private QuantizedMatmul() {}

    /** out[outOff + r] = Σ_k W[r, k]·x[xOff + k] for r in [0, rows). */
    public static void gemv(BlockFormat format, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff,
                            float[] out, int outOff) {
        BlockMatmul.gemv(format, w, offset, rows, cols, x, xOff, out, outOff);
    }

    /** {@link #gemv} with x and out in memory segments of little-endian F32 (x at byte xOff, out at byte outOff). */
    public static void gemv(BlockFormat format, MemorySegment w, long offset, int rows, int cols, MemorySegment x, long xOff,
                            MemorySegment out, long outOff) {
        float[] xs = new float[cols];
        MemorySegment.copy(x, FLOAT, xOff, xs, 0, cols);
        float[] o = new float[rows];
        gemv(format, w, offset, rows, cols, xs, 0, o, 0);
        MemorySegment.copy(o, 0, out, FLOAT, outOff, rows);
    }

    /** out[outOff + i·rows + r] = Σ_k X[i, k]·W[r, k]; X row i is x[xOff + i·cols, xOff + (i+1)·cols). */
    public static void gemm(BlockFormat format, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff, int m,
                            float[] out, int outOff) {
        BlockMatmul.gemm(format, w, offset, rows, cols, x, xOff, m, out, outOff);
    }

    /** dx[dxOff + i·cols + k] = Σ_r g[gOff + i·rows + r]·W[r, k] (added to dx when accumulate). */
    public static void inputGradient(BlockFormat format, MemorySegment w, long offset, int rows, int cols, float[] g, int gOff, int m,
                                     float[] dx, int dxOff, boolean accumulate) {
        BlockMatmul.inputGradient(format, w, offset, rows, cols, g, gOff, m, dx, dxOff, accumulate);
    }
}
