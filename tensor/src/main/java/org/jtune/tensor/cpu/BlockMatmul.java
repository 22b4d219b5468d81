package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.BlockCodec;
import org.jtune.tensor.DType;
import org.jtune.tensor.FloatGroupCodec;
import org.jtune.tensor.FloatRowGroups;
import org.jtune.tensor.Int8BlockCodec;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Q8Rows;
import org.jtune.tensor.RowGroupCodec;
import org.jtune.tensor.Tensor;

/**
 * The CPU kernels of block-quantized weights (any {@link BlockCodec}): W (rows, cols) is read in place,
 * row by row, and only ever dequantized a chunk at a time into a per-thread tile.
 * <ul>
 * <li>{@link #gemv}: out = W·x (decode): the rows cut into pieces the threads claim, each piece one
 *     {@link BlockCodec#dotRows} (the format's decode kernel).</li>
 * <li>{@link #gemm}: OUT (m, rows) = X (m, cols)·Wᵀ (prefill, batched decode): up to {@link #fewRowsMax} rows of X, the
 *     decode kernel per X row over chunks of W that stay in cache ({@link #fewRows}); more, {@link BlockPanelGemm} (a panel of
 *     2·lanes weight rows × 256 columns dequantized and transposed into L1, an outer-product micro-kernel over six X
 *     rows at a time), with 8 lanes and from {@value #PANEL_GEMM_MIN_ROWS} rows {@link #panelGemm} (W dequantized a panel
 *     of rows at a time, the F32 GEMM on it), or, on request, {@link Int8PanelGemm} (8-bit activations, integer block
 *     dot products).</li>
 * <li>A {@link RowGroupCodec} (rows interleaved in groups of 32: Q4_0 repacked on load) takes both products through
 *     {@link #groups}: X quantized to 8-bit codes once per call, the groups of W's rows in pieces the threads claim, each
 *     piece multiplied by every row of X with the codec's integer kernel.</li>
 * <li>{@link FloatRowGroups} (F32 or BF16 rows interleaved in groups of 32 for serving) takes both products through
 *     {@link FloatGroupProducts}: F32 activations, the GEMM's register tile on the weights as they stream.</li>
 * <li>A {@link FloatGroupCodec} (rows interleaved in groups of 32 with F32 activations: Q8_0 repacked on load) takes both
 *     products through {@link #floatGroups}: the groups in pieces the threads claim, each multiplied by every row of X.</li>
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
    /**
     * Products of several rows with an {@link Int8BlockCodec} weight through 8-bit activations and integer block dot
     * products (llama.cpp's numerics) instead of dequantized F32 weights: {@code -Djtune.blockGemm=int8}. Off by
     * default: on this project's CPUs it is 2-3× slower than the F32 panel (docs/QUANT.md, bench/RESULTS.md).
     */
    static final boolean INT8 = "int8".equals(System.getProperty("jtune.blockGemm", "f32"));

    /**
     * Most rows of X that {@link #gemm} multiplies with the decode kernel row by row ({@link #fewRows}) rather than through
     * the dequantized panel, whose cost is mostly the dequantization of all of W, whatever the row count
     * ({@code -Djtune.blockGemm.fewRows=N}; 1 turns it off). See {@link #fewRows} for the measurement.
     */
    static volatile int fewRowsMax = Integer.getInteger("jtune.blockGemm.fewRows", 8);
    /** Bytes of W rows in one chunk of {@link #fewRows}: multiplied by every X row while they stay in L2. */
    private static final int FEW_ROWS_CHUNK_BYTES = 64 << 10;

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
        else gemm(r.codec, r.bytes, r.offset, r.rows, r.cols, xa, (int) xd.offset(), m, oa, (int) out.offset());
    }

    /**
     * From this many rows of G on, the input gradient dequantizes W a panel of rows at a time into an F32 scratch
     * of about {@value #PANEL_FLOATS} floats and runs the blocked F32 GEMM on it ({@link Gemm#blocked}), so each
     * dequantized weight is used by every row with the GEMM's cache blocking; the tile kernel below re-reads all
     * of G for every four weight rows (a QLoRA step of the 1.1B shape at 2048 rows: 0.34 × the F32 LoRA step with
     * it). The scratch lives for one call: no F32 copy of the weight outlives the product. (The forward's products
     * of several rows use {@link BlockPanelGemm}, measured faster than this path at 128 rows: 130–150 against
     * 76–91 GFLOP/s, and level at 2048 rows.)
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

    /**
     * Pieces per thread of a GEMV (at least 64 KiB of rows each), claimed as the threads come ({@link Parallel#forPieces}):
     * one range per thread waited on the slower thread (Q8_0, 5632 × 2048, two threads: 22 GB/s at 1–2 pieces per thread,
     * 32–34 at 4–8; bench/RESULTS.md).
     */
    static final int GEMV_PIECES = 8;

    /** out[outOff + r] = Σ_k W[r, k]·x[xOff + k] for r in [0, rows); W's rows start at byte {@code offset} of w. */
    public static void gemv(BlockCodec codec, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff, float[] out, int outOff) {
        check(codec, w, offset, rows, cols);
        if (xOff < 0 || xOff + (long) cols > x.length) throw new IllegalArgumentException("x holds fewer than " + cols + " values");
        if (outOff < 0 || outOff + (long) rows > out.length) throw new IllegalArgumentException("out holds fewer than " + rows + " values");
        if (codec instanceof RowGroupCodec g) {
            groups(g, w, offset, rows, cols, x, xOff, 1, out, outOff);
            return;
        }
        if (codec instanceof FloatRowGroups f) {
            FloatGroupProducts.gemm(f, w, offset, rows, cols, x, xOff, 1, out, outOff);
            return;
        }
        if (codec instanceof FloatGroupCodec g) {
            floatGroups(g, w, offset, rows, cols, x, xOff, 1, out, outOff);
            return;
        }
        long rowBytes = codec.rowBytes(cols);
        int grain = perPiece(rowBytes);
        Parallel.forPieces(rows, grain, GEMV_PIECES,
                (r0, r1) -> codec.dotRows(w, offset + r0 * rowBytes, rowBytes, r1 - r0, cols, x, xOff, out, outOff + r0));
    }

    /**
     * out[outOff + i·rows + r] = Σ_k X[i, k]·W[r, k], X row i at x[xOff + i·cols ..]: {@link BlockPanelGemm} (weights
     * dequantized into an L1 panel, F32), or {@link Int8PanelGemm} (activations quantized to 8 bits, exact integer
     * block dot products, as llama.cpp) when {@link #INT8} is on and the codec is an {@link Int8BlockCodec}.
     */
    public static void gemm(BlockCodec codec, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff, int m,
                            float[] out, int outOff) {
        check(codec, w, offset, rows, cols);
        if (m < 0 || xOff < 0 || xOff + (long) m * cols > x.length) throw new IllegalArgumentException("x holds fewer than " + m + "×" + cols + " values");
        if (outOff < 0 || outOff + (long) m * rows > out.length) throw new IllegalArgumentException("out holds fewer than " + m + "×" + rows + " values");
        if (m == 0 || rows == 0) return;
        if (codec instanceof RowGroupCodec g) groups(g, w, offset, rows, cols, x, xOff, m, out, outOff);
        else if (codec instanceof FloatRowGroups f) FloatGroupProducts.gemm(f, w, offset, rows, cols, x, xOff, m, out, outOff);
        else if (codec instanceof FloatGroupCodec g) floatGroups(g, w, offset, rows, cols, x, xOff, m, out, outOff);
        else if (INT8 && codec instanceof Int8BlockCodec c) Int8PanelGemm.gemm(c, w, offset, rows, cols, x, xOff, m, out, outOff);
        else if (m <= fewRowsMax) fewRows(codec, w, offset, rows, cols, x, xOff, m, out, outOff);
        else if (PANEL_GEMM && m >= PANEL_GEMM_MIN_ROWS) panelGemm(codec, w, offset, rows, cols, x, xOff, m, out, outOff);
        else BlockPanelGemm.gemm(codec, w, offset, rows, cols, x, xOff, m, out, outOff);
    }

    /**
     * Whether {@link #gemm} of many rows dequantizes W a panel of rows at a time into an F32 scratch and runs the blocked
     * F32 GEMM on it ({@link #panelGemm}, as {@link #inputGradient} does) instead of {@link BlockPanelGemm}: with 8 lanes
     * (AVX2), from {@value #PANEL_GEMM_MIN_ROWS} rows, where the F32 GEMM's 6-row tile outruns BlockPanelGemm's kernel
     * (NF4 5632 × 2048 at 2048 rows, two threads of a Zen 3: see bench/RESULTS.md, twenty-fourth session). With 16 lanes
     * BlockPanelGemm was measured faster at 128 rows and level at 2048.
     */
    static final boolean PANEL_GEMM = GemmKernel.L == 8 && !"false".equals(System.getProperty("jtune.blockGemm.panel"));
    static final int PANEL_GEMM_MIN_ROWS = 1024;

    /** out[outOff + i·rows + r] = Σ_k X[i, k]·W[r, k] through F32 panels of W's rows and {@link Gemm#blocked}. */
    private static void panelGemm(BlockCodec codec, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff, int m,
                                  float[] out, int outOff) {
        Rows r = new Rows(codec, w, offset, rows, cols, codec.rowBytes(cols));
        int pr = panelRows(rows, cols);
        float[] scratch = new float[pr * cols];
        StridedMatrix a = new StridedMatrix(MemorySegment.ofArray(x), x, null, DType.F32, xOff, cols, 1, m, cols);
        for (int r0 = 0; r0 < rows; r0 += pr) {
            int nr = Math.min(pr, rows - r0), c0 = outOff + r0;
            dequantizePanel(r, r0, nr, scratch);
            StridedMatrix bn = StridedMatrix.of(Tensor.of(scratch, pr, cols).narrow(0, 0, nr), 0);  // rows = N (nr), depth = K (cols)
            int strips = (m + Gemm.MR - 1) / Gemm.MR;
            Parallel.forRange(strips, 1, (s0, s1) ->
                    Gemm.blocked(a, bn, out, c0, rows, s0 * Gemm.MR, Math.min(m, s1 * Gemm.MR), 0, nr, cols, false));
        }
    }

    /**
     * {@link #gemm} for a few rows of X (a batched decode step of a few sequences): W's rows cut into pieces the threads
     * claim (as {@link #gemv}), each piece in chunks of {@value #FEW_ROWS_CHUNK_BYTES} bytes of rows multiplied by every X
     * row in turn with the format's decode kernel ({@link BlockCodec#dotRows}) while the chunk stays in cache, so W is read
     * from memory once. Each output is that row's {@link #gemv} output, bit for bit: a sequence decodes the same alone or in
     * a small batch. Why: the panel path dequantizes all of W on every call (a served 4-sequence step of the Q4_0
     * TinyLlama-1.1B shape took 233 ms against 32 ms for one sequence, 2026-12-05).
     */
    private static void fewRows(BlockCodec codec, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff, int m,
                                float[] out, int outOff) {
        long rowBytes = codec.rowBytes(cols);
        int chunk = (int) Math.max(1, FEW_ROWS_CHUNK_BYTES / Math.max(1, rowBytes));
        Parallel.forPieces(rows, chunk, GEMV_PIECES, (r0, r1) -> {
            for (int c0 = r0; c0 < r1; c0 += chunk) {
                int c1 = Math.min(r1, c0 + chunk);
                for (int i = 0; i < m; i++) {
                    codec.dotRows(w, offset + c0 * rowBytes, rowBytes, c1 - c0, cols, x, xOff + i * cols, out, outOff + i * rows + c0);
                }
            }
        });
    }

    /**
     * out[outOff + i·rows + r] = Σ_k X[i, k]·W[r, k] for a {@link RowGroupCodec} W: X's m rows quantized to 8 bits once
     * ({@link Q8Activations#shorts}), W's groups of 32 rows in pieces of at least 64 KiB that the threads claim, every row of
     * X multiplied with each piece while it is in cache. A row's output is the same whatever m is (one decoding sequence
     * or a batch of them).
     */
    private static void groups(RowGroupCodec codec, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff, int m,
                               float[] out, int outOff) {
        long groupBytes = wholeGroups(codec, rows, cols, offset);
        Q8Rows q = Q8Activations.shorts(x, xOff, m, cols, codec.activationBlock(), codec.usesPairedCodes());
        int grain = perPiece(groupBytes);
        Parallel.forPieces(rows / RowGroupCodec.GROUP, grain, GEMV_PIECES,
                (g0, g1) -> codec.multiplyGroups(w, offset, g0, g1, cols, q, out, outOff, rows));
    }

    /**
     * out[outOff + i·rows + r] = Σ_k X[i, k]·W[r, k] for a {@link FloatGroupCodec} W: its groups of 32 rows in pieces of at
     * least 64 KiB that the threads claim, every row of X multiplied with each piece while it is in cache by the codec's
     * kernel. A row's output is the same whatever m is.
     */
    private static void floatGroups(FloatGroupCodec codec, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff, int m,
                                    float[] out, int outOff) {
        long groupBytes = wholeGroups(codec, rows, cols, offset);
        int grain = perPiece(groupBytes);
        Parallel.forPieces(rows / FloatGroupCodec.GROUP, grain, GEMV_PIECES,
                (g0, g1) -> codec.multiplyGroups(w, offset, g0, g1, cols, x, xOff, m, out, outOff, rows));
    }

    /** Rows or groups of {@code unitBytes} bytes each in one piece the threads claim: about 64 KiB of weights, at least one. */
    static int perPiece(long unitBytes) {
        return (int) Math.max(1, (64 << 10) / Math.max(1, unitBytes));
    }

    /**
     * Bytes of one group of {@value RowGroupCodec#GROUP} rows of an interleaved codec's matrix; refuses rows that are not whole
     * groups, or a first row that does not start one.
     */
    static long wholeGroups(BlockCodec codec, int rows, int cols, long offset) {
        long groupBytes = RowGroupCodec.GROUP * codec.rowBytes(cols);
        if (rows % RowGroupCodec.GROUP != 0 || offset % Math.max(1, groupBytes) != 0) {
            throw new IllegalArgumentException(codec.name() + ": " + rows + " rows at byte " + offset + " are not whole groups of "
                    + RowGroupCodec.GROUP + " rows");
        }
        return groupBytes;
    }

    /** {@link #gemm} always through 8-bit activation codes and integer block dot products ({@link Int8PanelGemm}). */
    public static void gemmInt8(Int8BlockCodec codec, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff, int m,
                                float[] out, int outOff) {
        check(codec, w, offset, rows, cols);
        if (m < 0 || xOff < 0 || xOff + (long) m * cols > x.length) throw new IllegalArgumentException("x holds fewer than " + m + "×" + cols + " values");
        if (outOff < 0 || outOff + (long) m * rows > out.length) throw new IllegalArgumentException("out holds fewer than " + m + "×" + rows + " values");
        if (m == 0 || rows == 0) return;
        Int8PanelGemm.gemm(codec, w, offset, rows, cols, x, xOff, m, out, outOff);
    }

    /** out (m, rows) ← x (m, cols, any view) · Wᵀ through {@link #gemmInt8}; W a plain view of whole rows of an {@link Int8BlockCodec}. */
    public static Tensor linearInt8(Tensor x, Tensor w) {
        Rows r = Rows.of(w);
        if (!(r.codec instanceof Int8BlockCodec c)) throw new IllegalArgumentException(r.codec.name() + " is not a codec of 32-blocks of integer codes");
        if (x.rank() != 2 || x.size(1) != r.cols) throw new IllegalArgumentException("x " + Arrays.toString(x.shape()) + " does not match " + r.cols + " columns");
        Tensor xd = Elementwise.dense(x.dtype() == DType.F32 ? x : x.to(DType.F32));
        Tensor out = Tensor.zeros(xd.size(0), r.rows);
        gemmInt8(c, r.bytes, r.offset, r.rows, r.cols, Elementwise.arr(xd), (int) xd.offset(), xd.size(0), Elementwise.arr(out), (int) out.offset());
        return out;
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
