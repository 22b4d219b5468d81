package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.BlockCodec;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.VectorMath;

/**
 * The CPU kernels of block-quantized weights (any {@link BlockCodec}): W (rows, cols) is read in place,
 * row by row, and only ever dequantized a chunk at a time into a per-thread tile.
 * <ul>
 * <li>{@link #gemv}: out = W·x (decode), each output one {@link BlockCodec#dot}.</li>
 * <li>{@link #gemm}: OUT (m, rows) = X (m, cols)·Wᵀ (prefill, batched decode): four weight rows at a time, a chunk
 *     of {@value #KC} columns is dequantized into a 4×KC tile (L1) and multiplied with every X row, two at a
 *     time in a 4×2 register tile; chunk sums are added in column order.</li>
 * <li>{@link #inputGradient}: DX (m, cols) (+)= G (m, rows)·W, the gradient a frozen quantized weight passes
 *     to its input (QLoRA): per column chunk and block of {@value #MB} G rows, four W rows are dequantized
 *     and DX[i, chunk] += Σ_q G[i, r+q]·W[r+q, chunk] with r in increasing order.</li>
 * </ul>
 * Work is split over output rows (gemv, gemm) or (column chunk, row block) pairs (gradient); every output's
 * sum has a fixed order independent of the split, so results are identical for any thread count.
 */
public final class BlockMatmul {
    /** Columns of a dequantized tile: a multiple of every ggml block size (32, 256) and of NF4's 64. */
    static final int KC = 512;
    /** G rows per block of the input gradient (a 64×KC block of DX stays in L2). */
    static final int MB = 64;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[4 * KC]);

    private BlockMatmul() {}

    /** The rows of a plain (rows, cols) view of block storage: its codec, bytes and the byte offset of its first row. */
    record Rows(BlockCodec codec, MemorySegment bytes, long offset, int rows, int cols, long rowBytes) {
        static Rows of(Tensor w) {
            if (w.dtype() != DType.BLOCK || w.rank() != 2 || w.stride(1) != 1 || w.stride(0) != w.size(1) || w.offset() % Math.max(1, w.size(1)) != 0) {
                throw new IllegalArgumentException("block-quantized operand must be a (rows, cols) matrix of whole rows, got "
                        + (w.dtype() == DType.BLOCK ? "a view of shape " + Arrays.toString(w.shape()) + " strides " + Arrays.toString(w.strides()) : w));
            }
            BlockCodec c = w.blockCodec();
            int cols = w.size(1);
            long rb = c.rowBytes(cols);
            long first = cols == 0 ? 0 : w.offset() / cols;
            return new Rows(c, w.storage().segment(), first * rb, w.size(0), cols, rb);
        }
    }

    // ---- tensor entry points (CpuBackend) -------------------------------------------------------

    /** out (m, rows) ← x (m, cols) · Wᵀ; out contiguous F32. */
    static void linear(Tensor x, Tensor w, Tensor out) {
        Rows r = Rows.of(w);
        Tensor xd = Elementwise.dense(x);
        float[] xa = Elementwise.arr(xd), oa = Elementwise.arr(out);
        int m = xd.size(0);
        if (m == 1) gemv(r.codec, r.bytes, r.offset, r.rows, r.cols, xa, (int) xd.offset(), oa, (int) out.offset());
        else if (m >= PANEL_MIN_ROWS && r.cols > 0) panelLinear(r, xd, m, oa, (int) out.offset());
        else gemm(r.codec, r.bytes, r.offset, r.rows, r.cols, xa, (int) xd.offset(), m, oa, (int) out.offset());
    }

    /**
     * From this many rows of X (or G) on, a product dequantizes W a panel of rows at a time into an F32 scratch
     * of about {@value #PANEL_FLOATS} floats and runs the blocked F32 GEMM on it ({@link Gemm#blocked}), so each
     * dequantized weight is used by every row with the GEMM's cache blocking; the tile kernels below re-read
     * all of X for every four weight rows (a QLoRA step of the 1.1B shape at 2048 rows: 0.34 × the F32 LoRA
     * step with them). The scratch lives for one call: no F32 copy of the weight outlives the product.
     */
    static final int PANEL_MIN_ROWS = 64;
    static final int PANEL_FLOATS = 1 << 21;

    private static int panelRows(int rows, int cols) {
        int nr = Math.max(Gemm.NR, PANEL_FLOATS / Math.max(1, cols) / Gemm.NR * Gemm.NR);
        return Math.min(rows, nr);
    }

    /** Dequantizes W rows [r0, r0 + nr) into scratch (row-major, nr × cols). */
    private static void dequantizePanel(Rows r, int r0, int nr, float[] scratch) {
        Parallel.forRange(nr, 16, (i0, i1) -> {
            for (int i = i0; i < i1; i++) r.codec.dequantize(r.bytes, r.offset + (long) (r0 + i) * r.rowBytes, r.cols, 0, r.cols, scratch, i * r.cols);
        });
    }

    /** out (m, rows) ← x (m, cols)·Wᵀ, x dense F32, through F32 panels of W. */
    private static void panelLinear(Rows r, Tensor xd, int m, float[] out, int outOff) {
        int pr = panelRows(r.rows, r.cols);
        float[] scratch = new float[pr * r.cols];
        StridedMatrix a = StridedMatrix.of(xd, 0);
        for (int r0 = 0; r0 < r.rows; r0 += pr) {
            int nr = Math.min(pr, r.rows - r0), c0 = outOff + r0;
            dequantizePanel(r, r0, nr, scratch);
            StridedMatrix bn = StridedMatrix.of(Tensor.of(scratch, pr, r.cols).narrow(0, 0, nr), 0); // rows = N, depth = K
            int strips = (m + Gemm.MR - 1) / Gemm.MR;
            Parallel.forRange(strips, 1, (s0, s1) ->
                    Gemm.blocked(a, bn, out, c0, r.rows, s0 * Gemm.MR, Math.min(m, s1 * Gemm.MR), 0, nr, r.cols, false));
        }
    }

    /** dx (m, cols) (+)= g (m, rows)·W, g dense F32, through F32 panels of W (summed panel after panel, in row order). */
    private static void panelInputGradient(Rows r, Tensor gd, int m, float[] dx, int dxOff, boolean accumulate) {
        int pr = panelRows(r.rows, r.cols);
        float[] scratch = new float[pr * r.cols];
        for (int r0 = 0; r0 < r.rows; r0 += pr) {
            int nr = Math.min(pr, r.rows - r0);
            boolean acc = accumulate || r0 > 0;
            dequantizePanel(r, r0, nr, scratch);
            StridedMatrix a = StridedMatrix.of(gd.narrow(1, r0, nr), 0);                                  // m × nr
            StridedMatrix bn = StridedMatrix.of(Tensor.of(scratch, pr, r.cols).narrow(0, 0, nr).t(), 0);   // rows = N (cols), depth = K (nr)
            int strips = (m + Gemm.MR - 1) / Gemm.MR;
            Parallel.forRange(strips, 1, (s0, s1) ->
                    Gemm.blocked(a, bn, dx, dxOff, r.cols, s0 * Gemm.MR, Math.min(m, s1 * Gemm.MR), 0, r.cols, nr, acc));
        }
    }

    /** out (m, cols) (+)= g (m, rows) · W; out contiguous F32. */
    static void inputGradient(Tensor g, Tensor w, Tensor out, boolean accumulate) {
        Rows r = Rows.of(w);
        Tensor gd = Elementwise.dense(g);
        if (gd.size(0) >= PANEL_MIN_ROWS && r.rows > 0 && r.cols > 0) {
            panelInputGradient(r, gd, gd.size(0), Elementwise.arr(out), (int) out.offset(), accumulate);
            return;
        }
        inputGradient(r.codec, r.bytes, r.offset, r.rows, r.cols, Elementwise.arr(gd), (int) gd.offset(), gd.size(0),
                Elementwise.arr(out), (int) out.offset(), accumulate);
    }

    /** dst ← the values of w (any plain view of whole rows, or its transpose), converted to dst's dtype. */
    static void dequantize(Tensor w, Tensor dst) {
        boolean transposed = w.rank() == 2 && w.stride(0) == 1 && w.size(0) > 1;
        Rows r = Rows.of(transposed ? w.t() : w);
        float[] all = new float[Math.multiplyExact(r.rows, r.cols)];
        Parallel.forRange(r.rows, 16, (r0, r1) -> {
            for (int i = r0; i < r1; i++) r.codec.dequantize(r.bytes, r.offset + i * r.rowBytes, r.cols, 0, r.cols, all, i * r.cols);
        });
        Tensor plain = Tensor.of(all, r.rows, r.cols);
        Elementwise.copy(transposed ? plain.t() : plain, dst);
    }

    /** out (n, cols) ← rows ids[i] of w, dequantized (an embedding table in a block format). */
    static void embedding(Tensor w, Tensor ids, Tensor out) {
        Rows r = Rows.of(w);
        int n = ids.size(0);
        int[] id = new int[n];
        for (int i = 0; i < n; i++) {
            id[i] = ids.storage().getInt(DType.I32, ids.offset() + i * ids.stride(0));
            if (id[i] < 0 || id[i] >= r.rows) {
                throw new IllegalArgumentException("embedding: id " + id[i] + " at position " + i + " outside [0, " + r.rows + ")");
            }
        }
        Tensor od = Elementwise.isDense(out) ? out : Tensor.zeros(out.shape());
        float[] oa = Elementwise.arr(od);
        int oo = (int) od.offset();
        for (int i = 0; i < n; i++) r.codec.dequantize(r.bytes, r.offset + id[i] * r.rowBytes, r.cols, 0, r.cols, oa, oo + i * r.cols);
        if (od != out) Elementwise.copy(od, out);
    }

    // ---- array kernels ---------------------------------------------------------------------------

    /** out[outOff + r] = Σ_k W[r, k]·x[xOff + k] for r in [0, rows); W's rows start at byte {@code offset} of w. */
    public static void gemv(BlockCodec codec, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff, float[] out, int outOff) {
        check(codec, w, offset, rows, cols);
        if (xOff < 0 || xOff + (long) cols > x.length) throw new IllegalArgumentException("x holds fewer than " + cols + " values");
        if (outOff < 0 || outOff + (long) rows > out.length) throw new IllegalArgumentException("out holds fewer than " + rows + " values");
        long rowBytes = codec.rowBytes(cols);
        int grain = (int) Math.max(1, (64 << 10) / Math.max(1, rowBytes));
        Parallel.forRange(rows, grain, (r0, r1) -> {
            for (int r = r0; r < r1; r++) out[outOff + r] = codec.dot(w, offset + r * rowBytes, cols, x, xOff);
        });
    }

    /** out[outOff + i·rows + r] = Σ_k X[i, k]·W[r, k], X row i at x[xOff + i·cols ..]. */
    public static void gemm(BlockCodec codec, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff, int m,
                            float[] out, int outOff) {
        check(codec, w, offset, rows, cols);
        if (m < 0 || xOff < 0 || xOff + (long) m * cols > x.length) throw new IllegalArgumentException("x holds fewer than " + m + "×" + cols + " values");
        if (outOff < 0 || outOff + (long) m * rows > out.length) throw new IllegalArgumentException("out holds fewer than " + m + "×" + rows + " values");
        if (m == 0 || rows == 0) return;
        long rowBytes = codec.rowBytes(cols);
        int kcMax = chunk(codec);
        int groups = (rows + 3) / 4;
        int grain = (int) Math.max(1, (16 << 10) / Math.max(1, 4 * rowBytes));
        Parallel.forRange(groups, grain, (g0, g1) -> {
            float[] tile = TILE.get();
            for (int g = g0; g < g1; g++) {
                int r0 = 4 * g, nr = Math.min(4, rows - r0);
                for (int k0 = 0; k0 < cols; k0 += kcMax) {
                    int kc = Math.min(kcMax, cols - k0);
                    for (int q = 0; q < 4; q++) {
                        int r = r0 + Math.min(q, nr - 1);               // short groups repeat their last row
                        codec.dequantize(w, offset + r * rowBytes, cols, k0, kc, tile, q * KC);
                    }
                    tile4xM(tile, kc, x, xOff + k0, cols, m, out, outOff, rows, r0, nr, k0 == 0);
                }
            }
        });
    }

    /** dx[dxOff + i·cols + k] (+)= Σ_r g[gOff + i·rows + r]·W[r, k] for i in [0, m), k in [0, cols). */
    public static void inputGradient(BlockCodec codec, MemorySegment w, long offset, int rows, int cols, float[] g, int gOff, int m,
                                     float[] dx, int dxOff, boolean accumulate) {
        check(codec, w, offset, rows, cols);
        if (m < 0 || gOff < 0 || gOff + (long) m * rows > g.length) throw new IllegalArgumentException("g holds fewer than " + m + "×" + rows + " values");
        if (dxOff < 0 || dxOff + (long) m * cols > dx.length) throw new IllegalArgumentException("dx holds fewer than " + m + "×" + cols + " values");
        if (m == 0 || cols == 0) return;
        long rowBytes = codec.rowBytes(cols);
        int kcMax = chunk(codec);
        int chunks = (cols + kcMax - 1) / kcMax, blocks = (m + MB - 1) / MB;
        Parallel.forRange(chunks * blocks, 1, (t0, t1) -> {
            float[] tile = TILE.get();
            for (int t = t0; t < t1; t++) {
                int k0 = (t % chunks) * kcMax, kc = Math.min(kcMax, cols - k0);
                int i0 = (t / chunks) * MB, i1 = Math.min(m, i0 + MB);
                if (!accumulate) for (int i = i0; i < i1; i++) Arrays.fill(dx, dxOff + i * cols + k0, dxOff + i * cols + k0 + kc, 0f);
                for (int r0 = 0; r0 < rows; r0 += 4) {
                    int nr = Math.min(4, rows - r0);
                    for (int q = 0; q < nr; q++) codec.dequantize(w, offset + (r0 + q) * rowBytes, cols, k0, kc, tile, q * KC);
                    for (int i = i0; i < i1; i++) axpy4(tile, kc, nr, g, gOff + i * rows + r0, dx, dxOff + i * cols + k0);
                }
            }
        });
    }

    /** d[0..kc) += Σ_{q<nr} c[q]·tile[q·KC ..], q in increasing order per element. */
    private static void axpy4(float[] tile, int kc, int nr, float[] c, int co, float[] d, int dOff) {
        int bound = kc - kc % L, t = 0;
        if (nr == 4) {
            FloatVector c0 = FloatVector.broadcast(F, c[co]), c1 = FloatVector.broadcast(F, c[co + 1]);
            FloatVector c2 = FloatVector.broadcast(F, c[co + 2]), c3 = FloatVector.broadcast(F, c[co + 3]);
            for (; t < bound; t += L) {
                FloatVector acc = FloatVector.fromArray(F, d, dOff + t);
                acc = FloatVector.fromArray(F, tile, t).fma(c0, acc);
                acc = FloatVector.fromArray(F, tile, KC + t).fma(c1, acc);
                acc = FloatVector.fromArray(F, tile, 2 * KC + t).fma(c2, acc);
                acc = FloatVector.fromArray(F, tile, 3 * KC + t).fma(c3, acc);
                acc.intoArray(d, dOff + t);
            }
        }
        for (; t < kc; t++) {
            float acc = d[dOff + t];
            for (int q = 0; q < nr; q++) acc = Math.fma(tile[q * KC + t], c[co + q], acc);
            d[dOff + t] = acc;
        }
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

    /** The tile's column chunk for a codec: the largest multiple of its block size not above KC. */
    private static int chunk(BlockCodec codec) {
        int bs = codec.blockSize();
        if (bs > KC) throw new IllegalArgumentException(codec.name() + ": blocks of " + bs + " elements exceed the " + KC + "-column tile");
        return KC / bs * bs;
    }

    private static void check(BlockCodec codec, MemorySegment w, long offset, int rows, int cols) {
        if (rows < 0 || cols < 0 || cols % codec.blockSize() != 0) {
            throw new IllegalArgumentException(codec.name() + ": bad shape " + rows + "×" + cols + " (cols must be whole "
                    + codec.blockSize() + "-element blocks)");
        }
        long need = codec.rowBytes(cols) * rows;
        if (offset < 0 || offset + need > w.byteSize()) {
            throw new IllegalArgumentException(codec.name() + " weight of " + rows + "×" + cols + " needs " + need
                    + " bytes at offset " + offset + ", the memory holds " + w.byteSize());
        }
    }
}
