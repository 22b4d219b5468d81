package org.jtune.quant.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.quant.BlockFormat;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.VectorMath;

/**
 * Matrix products with a weight W (rows, cols) stored row by row in a ggml block format, read in place
 * from a MemorySegment (typically a memory-mapped GGUF tensor) starting at a byte offset:
 * <ul>
 * <li>{@link #gemv}: out (rows) = W · x, for decode. Each output is one {@link BlockFormat#dot}: the row
 *     is dequantized in registers, never copied.</li>
 * <li>{@link #gemm}: OUT (m, rows) = X (m, cols) · Wᵀ, for prefill and batched decode. Four weight rows
 *     at a time, a chunk of {@value #KC} columns of them is dequantized into a 4×{@value #KC} per-thread
 *     tile that stays in L1 (never the whole matrix) and multiplied with every X row, two at a time, in a
 *     4×2 register tile; chunk sums are added in column order.</li>
 * </ul>
 * Both split the output rows across {@link Parallel} threads; every output's sum is computed in an order
 * that does not depend on the split, so results are identical for any thread count. Nothing here knows
 * about models: a caller passes the format, the segment, the offset and the shape.
 */
public final class QuantizedMatmul {
    /** Columns of the dequantized GEMM tile: a multiple of every block size (32, 256). */
    static final int KC = 512;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[4 * KC]);

    private QuantizedMatmul() {}

    /** out[outOff + r] = Σ_k W[r, k]·x[xOff + k] for r in [0, rows). */
    public static void gemv(BlockFormat format, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff,
                            float[] out, int outOff) {
        check(format, w, offset, rows, cols);
        if (xOff < 0 || xOff + (long) cols > x.length) throw new IllegalArgumentException("x holds fewer than " + cols + " values");
        if (outOff < 0 || outOff + (long) rows > out.length) throw new IllegalArgumentException("out holds fewer than " + rows + " values");
        long rowBytes = format.rowBytes(cols);
        int grain = (int) Math.max(1, (64 << 10) / Math.max(1, rowBytes));
        Parallel.forRange(rows, grain, (r0, r1) -> {
            for (int r = r0; r < r1; r++) out[outOff + r] = format.dot(w, offset + r * rowBytes, x, xOff, cols);
        });
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

    /**
     * out[outOff + i·rows + r] = Σ_k X[i, k]·W[r, k] for i in [0, m), r in [0, rows); X row i is
     * x[xOff + i·cols, xOff + (i+1)·cols).
     */
    public static void gemm(BlockFormat format, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff, int m,
                            float[] out, int outOff) {
        check(format, w, offset, rows, cols);
        if (m < 0 || xOff < 0 || xOff + (long) m * cols > x.length) throw new IllegalArgumentException("x holds fewer than " + m + "×" + cols + " values");
        if (outOff < 0 || outOff + (long) m * rows > out.length) throw new IllegalArgumentException("out holds fewer than " + m + "×" + rows + " values");
        if (m == 0 || rows == 0) return;
        long rowBytes = format.rowBytes(cols);
        int groups = (rows + 3) / 4;
        int grain = (int) Math.max(1, (16 << 10) / Math.max(1, 4 * rowBytes));
        Parallel.forRange(groups, grain, (g0, g1) -> {
            float[] tile = TILE.get();
            for (int g = g0; g < g1; g++) {
                int r0 = 4 * g, nr = Math.min(4, rows - r0);
                for (int k0 = 0; k0 < cols; k0 += KC) {
                    int kc = Math.min(KC, cols - k0);
                    long chunk = format.rowBytes(k0);
                    for (int q = 0; q < 4; q++) {
                        int r = r0 + Math.min(q, nr - 1);               // short groups repeat their last row
                        format.dequantizeRow(w, offset + r * rowBytes + chunk, tile, q * KC, kc);
                    }
                    tile4xM(tile, kc, x, xOff + k0, cols, m, out, outOff, rows, r0, nr, k0 == 0);
                }
            }
        });
    }

    /** OUT[i, r0 + q] (+)= Σ_{t<kc} X[i, t]·tile[q·KC + t] for the nr rows q of the tile, X rows two at a time. */
    private static void tile4xM(float[] tile, int kc, float[] x, int xo, int ldx, int m, float[] out, int outOff, int ldo,
                                int r0, int nr, boolean first) {
        int bound = kc - kc % L;
        int i = 0;
        for (; i + 1 < m; i += 2) {
            int a = xo + i * ldx, b = a + ldx;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int t = 0; t < bound; t += L) {
                FloatVector xa = FloatVector.fromArray(F, x, a + t), xb = FloatVector.fromArray(F, x, b + t);
                FloatVector w0 = FloatVector.fromArray(F, tile, t), w1 = FloatVector.fromArray(F, tile, KC + t);
                FloatVector w2 = FloatVector.fromArray(F, tile, 2 * KC + t), w3 = FloatVector.fromArray(F, tile, 3 * KC + t);
                a0 = w0.fma(xa, a0);
                a1 = w1.fma(xa, a1);
                a2 = w2.fma(xa, a2);
                a3 = w3.fma(xa, a3);
                b0 = w0.fma(xb, b0);
                b1 = w1.fma(xb, b1);
                b2 = w2.fma(xb, b2);
                b3 = w3.fma(xb, b3);
            }
            float[] sa = {VectorMath.sum(a0), VectorMath.sum(a1), VectorMath.sum(a2), VectorMath.sum(a3)};
            float[] sb = {VectorMath.sum(b0), VectorMath.sum(b1), VectorMath.sum(b2), VectorMath.sum(b3)};
            for (int t = bound; t < kc; t++) {
                for (int q = 0; q < 4; q++) {
                    sa[q] += x[a + t] * tile[q * KC + t];
                    sb[q] += x[b + t] * tile[q * KC + t];
                }
            }
            store(out, outOff + i * ldo + r0, nr, sa, first);
            store(out, outOff + (i + 1) * ldo + r0, nr, sb, first);
        }
        for (; i < m; i++) {
            int a = xo + i * ldx;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int t = 0; t < bound; t += L) {
                FloatVector xa = FloatVector.fromArray(F, x, a + t);
                a0 = FloatVector.fromArray(F, tile, t).fma(xa, a0);
                a1 = FloatVector.fromArray(F, tile, KC + t).fma(xa, a1);
                a2 = FloatVector.fromArray(F, tile, 2 * KC + t).fma(xa, a2);
                a3 = FloatVector.fromArray(F, tile, 3 * KC + t).fma(xa, a3);
            }
            float[] sa = {VectorMath.sum(a0), VectorMath.sum(a1), VectorMath.sum(a2), VectorMath.sum(a3)};
            for (int t = bound; t < kc; t++) {
                for (int q = 0; q < 4; q++) sa[q] += x[a + t] * tile[q * KC + t];
            }
            store(out, outOff + i * ldo + r0, nr, sa, first);
        }
    }

    private static void store(float[] out, int o, int nr, float[] s, boolean first) {
        for (int q = 0; q < nr; q++) out[o + q] = first ? s[q] : out[o + q] + s[q];
    }

    private static void check(BlockFormat format, MemorySegment w, long offset, int rows, int cols) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative shape " + rows + "×" + cols);
        long need = format.rowBytes(cols) * rows;
        if (offset < 0 || offset + need > w.byteSize()) {
            throw new IllegalArgumentException(format.type() + " weight of " + rows + "×" + cols + " needs " + need
                    + " bytes at offset " + offset + ", the segment holds " + w.byteSize());
        }
    }
}
