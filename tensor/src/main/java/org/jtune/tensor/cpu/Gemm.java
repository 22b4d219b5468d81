package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Batched matrix multiply C (.., M, N) ← A (.., M, K) · B (.., K, N) (+ C when accumulating), the CPU
 * kernel behind {@code Backend.matmul}. A and B may have any strides (a transposed weight is read in
 * place) and any floating dtype (BF16/F16 converted while packing); C is contiguous F32.
 *
 * <p>Structure (Goto / BLIS): for each NC-wide panel of B and KC-deep slice of K, the panel is packed
 * into NR-wide strips (KC×NC floats, L2/L3); for each MC-high block of A, the block is packed into
 * MR-high strips (MC×KC, L2); then for each B strip (KC×NR, stays in L1) and each A strip the
 * {@link GemmKernel} updates one MR×NR tile of C. Tiles cut by the edges of M or N are computed into a
 * scratch tile and merged. The first K slice stores (or adds to C when accumulating); later slices add.
 * A few rows (decode and batched decode, {@link Gemv#handles}) take the streaming {@link Gemv} path instead.
 *
 * <p>Threads: independent batch items are spread over the pool; a single large product is split into
 * column ranges of whole NR strips (or row ranges when M is larger than N), each thread packing its own
 * panels; a GEMV is cut into small pieces of whole column groups that the threads claim as they go. Each element of C sums over k in the same order whatever the split, so results do not depend
 * on the thread count.
 */
final class Gemm {
    static final int MR = GemmKernel.MR;
    static final int NR = GemmKernel.NR;
    // Tuned on the 2-core Zen 5 machine (2048³ and the LLM shapes, 1 thread): KC 192/384, MC 128 and
    // NC 512/768/4096, and the other loop order (A strip in L1, B panel in L2) were all slower. On the Zen 3 (AVX2) machine
    // KC 128–384 × MC 96–256 × NC 512–2048 span 60–71 GFLOP/s at 2048³, these within the noise of the best.
    static final int KC = 256;
    /** 256 rows, cut to whole MR strips (252 with AVX2's 6-row tile) so no strip of a block goes through the edge tile. */
    static final int MC = 256 / MR * MR;
    static final int NC = 2048;
    /** Below this many multiply-adds a product stays on the calling thread. */
    private static final long PARALLEL_MACS = 1L << 20;

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    /** Per-thread packing buffers, reused across calls. */
    private static final class Buffers {
        final float[] a = new float[MC * KC];
        /** The packed A block's MR-row strips as segments ({@link GemmKernel#tile6} reads its strip through one). */
        final StripSegments aStrips = new StripSegments(MR);
        final float[] b = new float[NC * KC];
        final float[] scratch = new float[PanelPacker.scratchSize(KC)];
        final float[] tile = new float[MR * NR];
    }

    private Gemm() {}

    static void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        if (out.dtype() != DType.F32 || !out.isContiguous()) {
            throw new IllegalArgumentException("matmul: output must be contiguous F32, got " + out);
        }
        int r = out.rank();
        if (a.rank() != r || b.rank() != r || r < 2) {
            throw new IllegalArgumentException("matmul: operands must have the output's rank: " + a + ", " + b + ", " + out);
        }
        int m = out.size(-2), n = out.size(-1), k = a.size(-1);
        if (a.size(-2) != m || b.size(-2) != k || b.size(-1) != n) {
            throw new IllegalArgumentException("matmul: shapes disagree: " + a + " · " + b + " → " + out);
        }
        if (out.numel() == 0) return;
        float[] c = heapFloats(out);
        if (c == null) { // off-heap output: compute on the heap, then copy
            Tensor tmp = accumulate ? out.copy() : Tensor.zeros(out.shape());
            matmul(a, b, tmp, accumulate);
            out.storage().segment().asSlice(out.offset() * 4, out.numel() * 4)
                    .copyFrom(MemorySegment.ofArray(tmp.storage().floatArray()));
            return;
        }
        int batch = (int) (out.numel() / ((long) m * n));
        int cBase = (int) out.offset();
        if (k == 0) {
            if (!accumulate) Arrays.fill(c, cBase, cBase + batch * m * n, 0f);
            return;
        }
        long macs = (long) m * n * k;
        if (batch > 1 && Parallel.threads() > 1) {
            int grain = (int) Math.max(1, PARALLEL_MACS / macs);
            Parallel.forRange(batch, grain, (b0, b1) -> {
                for (int bi = b0; bi < b1; bi++) single(a, b, bi, c, cBase, m, n, k, accumulate, false);
            });
        } else {
            for (int bi = 0; bi < batch; bi++) single(a, b, bi, c, cBase, m, n, k, accumulate, true);
        }
    }

    private static float[] heapFloats(Tensor t) {
        MemorySegment s = t.storage().segment();
        return s.address() == 0 && s.heapBase().orElse(null) instanceof float[] f ? f : null;
    }

    /** Storage offset of batch item {@code bi} (row-major over the leading dims) relative to t's offset. */
    private static long batchOffset(Tensor t, int bi) {
        long off = 0;
        for (int d = t.rank() - 3; d >= 0; d--) {
            int size = t.size(d);
            off += (long) (bi % size) * t.stride(d);
            bi /= size;
        }
        return off;
    }

    private static void single(Tensor at, Tensor bt, int bi, float[] c, int cBase, int m, int n, int k,
                               boolean accumulate, boolean parallel) {
        StridedMatrix a = StridedMatrix.of(at, batchOffset(at, bi));
        StridedMatrix b = StridedMatrix.of(bt, batchOffset(bt, bi));
        int co = cBase + bi * m * n;
        long macs = (long) m * n * k;
        boolean split = parallel && Parallel.threads() > 1 && macs >= PARALLEL_MACS;
        if (Gemv.handles(b, m)) {
            GemvCall call = GEMV_CALLS.get();
            call.set(a, m, k, b, c, co, n, accumulate);
            int groups = (n + Gemv.GROUP - 1) / Gemv.GROUP;
            try {
                if (split) Parallel.forClaimed(groups, gemvPieces(m, k, n), call);
                else call.run(0, groups);
            } finally {
                call.clear();
            }
            return;
        }
        StridedMatrix bn = b.transposed(); // rows = N, depth = K: the view the packer reads
        if (!split) {
            blocked(a, bn, c, co, n, 0, m, 0, n, k, accumulate);
        } else if (n >= m) {
            int strips = (n + NR - 1) / NR;
            Parallel.forRange(strips, 1, (s0, s1) -> blocked(a, bn, c, co, n, 0, m, s0 * NR, Math.min(n, s1 * NR), k, accumulate));
        } else {
            int strips = (m + MR - 1) / MR;
            Parallel.forRange(strips, 1, (s0, s1) -> blocked(a, bn, c, co, n, s0 * MR, Math.min(m, s1 * MR), 0, n, k, accumulate));
        }
    }

    /** Multiply-adds in one claimed piece of a split GEMV: 1 MiB of F32 weight for one row, ~35 µs of streaming. */
    static final long GEMV_PIECE_MACS = 1L << 18;
    /** Most pieces of one GEMV (the 32000-row LM head would otherwise be cut into 250). */
    static final int GEMV_MAX_PIECES = 64;

    /**
     * Pieces of a split GEMV, each a contiguous range of whole groups of {@link Gemv#GROUP} output
     * columns (a boundary inside a group would make two threads read a partly repeated group of weight
     * rows): about {@link #GEMV_PIECE_MACS} multiply-adds each, at most {@link #GEMV_MAX_PIECES}. The
     * threads claim them one at a time ({@link Parallel#forClaimed}), so a descheduled or slow thread
     * holds back one small piece instead of half the weight. Depends on the shape only, not the thread
     * count; each output's sum is the same whichever thread computes it.
     */
    static int gemvPieces(int m, int k, int n) {
        int groups = (n + Gemv.GROUP - 1) / Gemv.GROUP;
        long macs = (long) m * k * n;
        long pieces = (macs + GEMV_PIECE_MACS - 1) / GEMV_PIECE_MACS;
        return (int) Math.max(1, Math.min(Math.min(pieces, GEMV_MAX_PIECES), groups));
    }

    private static final ThreadLocal<GemvCall> GEMV_CALLS = ThreadLocal.withInitial(GemvCall::new);

    /**
     * One GEMV's operands, reused by its calling thread across calls (no capturing lambda and no packed
     * copy of A allocated per product): A's m rows are packed into a buffer that grows to the largest
     * product seen, shared read-only with the helper threads while the call runs.
     */
    private static final class GemvCall implements Parallel.RangeBody {
        private float[] rows = new float[0];
        private int m, k, co, n;
        private StridedMatrix b;
        private float[] c;
        private boolean accumulate;

        void set(StridedMatrix a, int m, int k, StridedMatrix b, float[] c, int co, int n, boolean accumulate) {
            if (rows.length < m * k) rows = new float[m * k];
            for (int i = 0; i < m; i++) {
                if (a.colStride() == 1) a.readRun(a.index(i, 0), k, rows, i * k);
                else for (int p = 0; p < k; p++) rows[i * k + p] = a.at(a.index(i, p));
            }
            this.m = m;
            this.k = k;
            this.b = b;
            this.c = c;
            this.co = co;
            this.n = n;
            this.accumulate = accumulate;
        }

        void clear() {
            b = null;
            c = null;
        }

        /** Column groups [g0, g1). */
        @Override
        public void run(int g0, int g1) {
            Gemv.run(rows, m, k, b, c, co, n, g0 * Gemv.GROUP, Math.min(n, g1 * Gemv.GROUP), accumulate);
        }
    }

    /** C rows [i0, i1) × columns [j0, j1) on the calling thread; bn is B transposed (N × K). */
    static void blocked(StridedMatrix a, StridedMatrix bn, float[] c, int co, int ldc, int i0, int i1, int j0, int j1,
                        int k, boolean accumulate) {
        Buffers buf = BUFFERS.get();
        float[] ap = buf.a, bp = buf.b, tile = buf.tile;
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                PanelPacker.pack(bn, jc, nc, pc, kc, NR, bp, 0, buf.scratch);
                boolean load = accumulate || pc > 0;
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    PanelPacker.pack(a, ic, mc, pc, kc, MR, ap, 0, buf.scratch);
                    MemorySegment[] strips = buf.aStrips.of(ap, MC / MR, kc);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        int bo = jr * kc;
                        for (int ir = 0; ir < mc; ir += MR) {
                            int mr = Math.min(MR, mc - ir);
                            int ao = ir * kc;
                            int cTile = co + (ic + ir) * ldc + jc + jr;
                            if (mr == MR && nr == NR) {
                                GemmKernel.tile(kc, ap, ao, strips[ir / MR], bp, bo, c, cTile, ldc, load);
                            } else {
                                GemmKernel.tile(kc, ap, ao, strips[ir / MR], bp, bo, tile, 0, NR, false);
                                for (int i = 0; i < mr; i++) {
                                    int row = cTile + i * ldc;
                                    for (int j = 0; j < nr; j++) c[row + j] = load ? c[row + j] + tile[i * NR + j] : tile[i * NR + j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
