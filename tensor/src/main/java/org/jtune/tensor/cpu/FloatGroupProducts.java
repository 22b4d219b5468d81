package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import org.jtune.tensor.FloatRowGroups;
import org.jtune.tensor.NativeMemory;
import org.jtune.tensor.Parallel;

/**
 * OUT (m, rows) = X (m, cols)·Wᵀ for a {@link FloatRowGroups} W (32 weight rows stored column by column, F32 or BF16
 * widened in registers): per group of 32 weight rows, blocks of 8 rows of X go through the GEMM's 8 × 32 register tile
 * with the weights read straight from the group ({@link #tile}; X packed depth-major, as the GEMM packs A), then a block
 * of 4 ({@link #tile4}), and the rows left over one at a time ({@link #row}: a broadcast activation times the group's two
 * vectors per column). Each group is one sequential run of memory, which one thread streams while the tile computes.
 * Every output is Σ_k x[k]·w[k] in the order k = 0, 1, … with one fused multiply-add per step — in the tile (whose K
 * slices store and reload the exact partial sums), in {@link #tile4}, {@link #row} and {@link FloatRowGroups#dot}
 * alike — so a row's outputs do not depend on how many rows it comes with, nor on how the groups are split between
 * threads.
 *
 * <p>Why: a served batch of 16 sequences read the row-major weights through dot products of four weight rows at a time
 * (four streams, lane sums per group) at 113 GFLOP/s on two threads against 5632 × 2048 F32 weights cycled from memory;
 * this layout ran 148–155 (2026-12-06, bench/RESULTS.md); one sequence reads it as fast as the row-major weights one row
 * at a time. With 8 F32 lanes (AVX2) {@link FloatGroupProductsLanes8} computes the same sums.
 */
final class FloatGroupProducts {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final int L = 16;
    private static final int MR = 8;
    private static final int GROUP = FloatRowGroups.GROUP;
    /** Columns per slice of a group for the row blocks (a slice of 2048 columns: 256 KiB of weights, in L2 for the next block). */
    private static final int KC = 2048;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Most rows of X per pass over the weights. */
    static final int PASS_ROWS = 512;
    private static final ThreadLocal<float[][]> PACKED = ThreadLocal.withInitial(() -> new float[1][0]);

    private FloatGroupProducts() {}

    /**
     * out[outOff + i·rows + r] = Σ_k X[i, k]·W[r, k], X row i at x[xOff + i·cols ..], W's group 0 at byte {@code offset} of
     * w. X goes in passes of at most {@value #PASS_ROWS} rows (its packed copy, kept by the thread, stays a few MB; a prefill
     * re-reads the weights once per pass, a few percent of its arithmetic).
     */
    static void gemm(FloatRowGroups codec, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff, int m, float[] out, int outOff) {
        long groupBytes = BlockMatmul.wholeGroups(codec, rows, cols, offset);
        if (m == 0 || rows == 0) return;
        if (!w.isNative()) throw new IllegalArgumentException(codec.name() + ": weights in heap memory (the layout is made off-heap)");
        long base = NativeMemory.address(w, offset, rows * codec.rowBytes(cols));   // loads through NativeMemory.ALL (its javadoc says why)
        boolean bf16 = codec == FloatRowGroups.BF16;
        int grain = BlockMatmul.perPiece(groupBytes);
        if (FloatVector.SPECIES_PREFERRED.length() == 8) {
            FloatGroupProductsLanes8.gemm(bf16, base, rows, cols, x, xOff, m, out, outOff, grain);
            java.lang.ref.Reference.reachabilityFence(w);   // read by address: w must outlive the kernel
            return;
        }
        for (int i0 = 0; i0 < m; i0 += PASS_ROWS) {
            int pass = Math.min(PASS_ROWS, m - i0), blocks = pass / MR, quad = pass % MR >= 4 ? 4 : 0, tiled = blocks * MR + quad;
            int xo = xOff + i0 * cols, oo = outOff + i0 * rows;
            float[][] holder = PACKED.get();
            if (holder[0].length < tiled * cols) holder[0] = new float[tiled * cols];
            float[] packed = holder[0];
            for (int i = 0; i < tiled; i++) {   // blocks of 8 rows, then one of 4, each depth-major
                int height = i < blocks * MR ? MR : 4, dst = (i - i % height) * cols + i % height, src = xo + i * cols;
                for (int k = 0; k < cols; k++) packed[dst + k * height] = x[src + k];
            }
            Parallel.forPieces(rows / GROUP, grain, BlockMatmul.GEMV_PIECES,
                    (g0, g1) -> groups(bf16, base, g0, g1, cols, packed, blocks, quad, x, xo, pass, out, oo, rows));
        }
        java.lang.ref.Reference.reachabilityFence(w);
    }

    /** Groups [g0, g1) times every row of X; a column of a group is {@code col} bytes (128 F32, 64 BF16). */
    private static void groups(boolean bf16, long base, int g0, int g1, int cols, float[] packed, int blocks, int quad,
                               float[] x, int xOff, int m, float[] out, int outOff, int stride) {
        int col = bf16 ? 2 * GROUP : 4 * GROUP;
        for (int g = g0; g < g1; g++) {
            long group = base + (long) g * col * cols;
            for (int pc = 0; pc < cols; pc += KC) {
                int kc = Math.min(KC, cols - pc);
                long slice = group + (long) pc * col;
                for (int ib = 0; ib < blocks; ib++) {
                    tile(bf16, kc, packed, (ib * cols + pc) * MR, slice, out, outOff + ib * MR * stride + g * GROUP, stride, pc > 0);
                }
                if (quad > 0) tile4(bf16, kc, packed, blocks * MR * cols + pc * 4, slice, out, outOff + blocks * MR * stride + g * GROUP, stride, pc > 0);
            }
            for (int i = blocks * MR + quad; i < m; i++) row(bf16, cols, x, xOff + i * cols, group, out, outOff + i * stride + g * GROUP);
        }
    }

    /** {@link #tile} for 4 rows (a[ao + 4k + i]): four rows are one pass over the group instead of four. */
    private static void tile4(boolean bf16, int kc, float[] a, int ao, long bo, float[] c, int co, int ldc, boolean load) {
        MemorySegment w = NativeMemory.ALL;
        int r0 = co, r1 = co + ldc, r2 = co + 2 * ldc, r3 = co + 3 * ldc;
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31;
        if (load) {
            c00 = FloatVector.fromArray(S, c, r0); c01 = FloatVector.fromArray(S, c, r0 + L);
            c10 = FloatVector.fromArray(S, c, r1); c11 = FloatVector.fromArray(S, c, r1 + L);
            c20 = FloatVector.fromArray(S, c, r2); c21 = FloatVector.fromArray(S, c, r2 + L);
            c30 = FloatVector.fromArray(S, c, r3); c31 = FloatVector.fromArray(S, c, r3 + L);
        } else {
            FloatVector z = FloatVector.zero(S);
            c00 = z; c01 = z; c10 = z; c11 = z; c20 = z; c21 = z; c30 = z; c31 = z;
        }
        int col = bf16 ? 2 * GROUP : 4 * GROUP;
        long end = bo + (long) kc * col;
        for (int ak = ao; bo < end; bo += col, ak += 4) {
            FloatVector b0, b1, x;
            if (bf16) {
                IntVector h = IntVector.fromMemorySegment(I, w, bo, LE);
                b0 = h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                b1 = h.and(0xFFFF0000).reinterpretAsFloats();
            } else {
                b0 = FloatVector.fromMemorySegment(S, w, bo, LE);
                b1 = FloatVector.fromMemorySegment(S, w, bo + 4 * L, LE);
            }
            x = FloatVector.broadcast(S, a[ak]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ak + 1]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ak + 2]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ak + 3]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + L); c10.intoArray(c, r1); c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + L); c30.intoArray(c, r3); c31.intoArray(c, r3 + L);
    }

    /** One row of X times one group: out[o .. o + 32) = Σ_k x[xo + k]·column k. */
    private static void row(boolean bf16, int cols, float[] x, int xo, long group, float[] out, int o) {
        MemorySegment w = NativeMemory.ALL;
        FloatVector a0 = FloatVector.zero(S), a1 = a0;
        int col = bf16 ? 2 * GROUP : 4 * GROUP;
        long end = group + (long) cols * col;
        for (int k = xo; group < end; group += col, k++) {
            FloatVector v = FloatVector.broadcast(S, x[k]), b0, b1;
            if (bf16) {
                IntVector h = IntVector.fromMemorySegment(I, w, group, LE);
                b0 = h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                b1 = h.and(0xFFFF0000).reinterpretAsFloats();
            } else {
                b0 = FloatVector.fromMemorySegment(S, w, group, LE);
                b1 = FloatVector.fromMemorySegment(S, w, group + 4 * L, LE);
            }
            a0 = v.fma(b0, a0);
            a1 = v.fma(b1, a1);
        }
        a0.intoArray(out, o);
        a1.intoArray(out, o + L);
    }

    /**
     * The 8 × 32 tile at c[co + i·ldc + j] (+)= Σ_{k &lt; kc} a[ao + 8k + i]·column k of the group slice at w[bo ..], k in
     * order with one fused multiply-add per step: {@code GemmKernel.tile} with the weights loaded from the group (its 16
     * accumulators as plain locals, for the same reason).
     */
    private static void tile(boolean bf16, int kc, float[] a, int ao, long bo, float[] c, int co, int ldc, boolean load) {
        MemorySegment w = NativeMemory.ALL;
        int r0 = co, r1 = co + ldc, r2 = co + 2 * ldc, r3 = co + 3 * ldc, r4 = co + 4 * ldc, r5 = co + 5 * ldc, r6 = co + 6 * ldc, r7 = co + 7 * ldc;
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (load) {
            c00 = FloatVector.fromArray(S, c, r0); c01 = FloatVector.fromArray(S, c, r0 + L);
            c10 = FloatVector.fromArray(S, c, r1); c11 = FloatVector.fromArray(S, c, r1 + L);
            c20 = FloatVector.fromArray(S, c, r2); c21 = FloatVector.fromArray(S, c, r2 + L);
            c30 = FloatVector.fromArray(S, c, r3); c31 = FloatVector.fromArray(S, c, r3 + L);
            c40 = FloatVector.fromArray(S, c, r4); c41 = FloatVector.fromArray(S, c, r4 + L);
            c50 = FloatVector.fromArray(S, c, r5); c51 = FloatVector.fromArray(S, c, r5 + L);
            c60 = FloatVector.fromArray(S, c, r6); c61 = FloatVector.fromArray(S, c, r6 + L);
            c70 = FloatVector.fromArray(S, c, r7); c71 = FloatVector.fromArray(S, c, r7 + L);
        } else {
            FloatVector z = FloatVector.zero(S);
            c00 = z; c01 = z; c10 = z; c11 = z; c20 = z; c21 = z; c30 = z; c31 = z;
            c40 = z; c41 = z; c50 = z; c51 = z; c60 = z; c61 = z; c70 = z; c71 = z;
        }
        int col = bf16 ? 2 * GROUP : 4 * GROUP;
        long end = bo + (long) kc * col;
        for (int ak = ao; bo < end; bo += col, ak += MR) {
            FloatVector b0, b1, x;
            if (bf16) {   // word j: row j in its low half, row j + 16 in its high half
                IntVector h = IntVector.fromMemorySegment(I, w, bo, LE);
                b0 = h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                b1 = h.and(0xFFFF0000).reinterpretAsFloats();
            } else {
                b0 = FloatVector.fromMemorySegment(S, w, bo, LE);
                b1 = FloatVector.fromMemorySegment(S, w, bo + 4 * L, LE);
            }
            x = FloatVector.broadcast(S, a[ak]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ak + 1]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ak + 2]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ak + 3]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ak + 4]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[ak + 5]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[ak + 6]); c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[ak + 7]); c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + L); c10.intoArray(c, r1); c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + L); c30.intoArray(c, r3); c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + L); c50.intoArray(c, r5); c51.intoArray(c, r5 + L);
        c60.intoArray(c, r6); c61.intoArray(c, r6 + L); c70.intoArray(c, r7); c71.intoArray(c, r7 + L);
    }
}
