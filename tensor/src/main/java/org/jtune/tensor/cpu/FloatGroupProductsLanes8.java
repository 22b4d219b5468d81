package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.FloatRowGroups;
import org.jtune.tensor.NativeMemory;
import org.jtune.tensor.Parallel;

/**
 * {@link FloatGroupProducts} with 256-bit vectors (AVX2: 8 F32 lanes, 16 registers), on the same layouts and with the same
 * bits (every output Σ_k x[k]·w[k] in the order k = 0, 1, … with one fused multiply-add per step, whatever the tile). A
 * group's column of 32 weights is four vectors, and the 8 × 32 tile of the 512-bit kernel would need 64 accumulators, so
 * blocks of six rows of X go through the GEMM's 6 × 16 tile ({@code GemmKernel.tile6}: 12 accumulators, two weight
 * vectors, one broadcast) twice per group, once per half of its rows, with X packed depth-major and read through a
 * segment (broadcasts from the array ran that tile at half the rate, bench/RESULTS.md, twenty-fourth session); the
 * rows left over go two at a time over all 32 weight rows ({@link #tile2}: 8 accumulators) and one at a time
 * ({@link #row}: four). BF16 column: 16 words, word t holding row t in its low half and row t + 16 in its high half, so
 * the two 8-word loads give rows 0–7 and 8–15 by a shift of each word and rows 16–23 and 24–31 by a mask; a half is
 * {@code (word << shift) & 0xFFFF0000} with shift 16 or 0, exactly.
 */
final class FloatGroupProductsLanes8 {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final int L = 8;
    private static final int MR = 6;
    private static final int GROUP = FloatRowGroups.GROUP;
    /** Columns per slice of a group for the six-row blocks (2048 columns: 256 KiB of F32 weights, in L2 for the next block). */
    private static final int KC = 2048;
    private static final int HIGH_HALF = 0xFFFF0000;
    private static final float[] ZEROS = new float[2 * L];
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;
    private static final ThreadLocal<Packed> PACKED = ThreadLocal.withInitial(() -> new Packed(new float[0]));

    /** X's six-row strips, depth-major, and the heap segment the tile reads them through. */
    private record Packed(float[] a, MemorySegment segment) {
        Packed(float[] a) {
            this(a, MemorySegment.ofArray(a));
        }
    }

    private FloatGroupProductsLanes8() {}

    /** {@link FloatGroupProducts#gemm} from the checked address of group 0: X rows in passes of at most PASS_ROWS. */
    static void gemm(boolean bf16, long base, int rows, int cols, float[] x, int xOff, int m, float[] out, int outOff, int grain) {
        for (int i0 = 0; i0 < m; i0 += FloatGroupProducts.PASS_ROWS) {
            int pass = Math.min(FloatGroupProducts.PASS_ROWS, m - i0), blocks = pass / MR, tiled = blocks * MR;
            int xo = xOff + i0 * cols, oo = outOff + i0 * rows;
            Packed packed = PACKED.get();
            if (packed.a.length < tiled * cols) {
                packed = new Packed(new float[tiled * cols]);
                PACKED.set(packed);
            }
            float[] a = packed.a;
            for (int i = 0; i < tiled; i++) {
                int dst = (i - i % MR) * cols + i % MR, src = xo + i * cols;
                for (int k = 0; k < cols; k++) a[dst + k * MR] = x[src + k];
            }
            MemorySegment as = packed.segment;
            Parallel.forPieces(rows / GROUP, grain, BlockMatmul.GEMV_PIECES,
                    (g0, g1) -> groups(bf16, base, g0, g1, cols, as, blocks, x, xo, pass, out, oo, rows));
        }
    }

    /** Groups [g0, g1) times every row of X; a column of a group is {@code col} bytes (128 F32, 64 BF16). */
    private static void groups(boolean bf16, long base, int g0, int g1, int cols, MemorySegment a, int blocks,
                               float[] x, int xOff, int m, float[] out, int outOff, int stride) {
        int col = bf16 ? 2 * GROUP : 4 * GROUP;
        for (int g = g0; g < g1; g++) {
            long group = base + (long) g * col * cols;
            for (int pc = 0; pc < cols; pc += KC) {
                int kc = Math.min(KC, cols - pc);
                long slice = group + (long) pc * col;
                for (int ib = 0; ib < blocks; ib++) {
                    for (int half = 0; half < 2; half++) {
                        tile6(bf16, half, kc, a, (ib * cols + pc) * MR, slice, out, outOff + ib * MR * stride + g * GROUP + half * 16, stride, pc > 0);
                    }
                }
            }
            int i = blocks * MR;
            for (; i + 1 < m; i += 2) tile2(bf16, cols, x, xOff + i * cols, group, out, outOff + i * stride + g * GROUP, stride);
            if (i < m) row(bf16, cols, x, xOff + i * cols, group, out, outOff + i * stride + g * GROUP);
        }
    }

    /**
     * Six rows of X (packed, a[ao + 6k + i] through the segment) times one half of a group slice (rows 16·half ..
     * 16·half + 15 of each column, k &lt; kc): c[co + i·ldc + j] (+)= the sums, j &lt; 16.
     */
    private static void tile6(boolean bf16, int half, int kc, MemorySegment a, int ao, long bo, float[] c, int co, int ldc, boolean load) {
        MemorySegment w = NativeMemory.ALL;
        int r0 = co, r1 = co + ldc, r2 = co + 2 * ldc, r3 = co + 3 * ldc, r4 = co + 4 * ldc, r5 = co + 5 * ldc;
        // accumulators from C or from zeros, one straight path into the loop (as GemmKernel.tile6)
        float[] from = load ? c : ZEROS;
        int f0 = load ? r0 : 0, f1 = load ? r1 : 0, f2 = load ? r2 : 0, f3 = load ? r3 : 0, f4 = load ? r4 : 0, f5 = load ? r5 : 0;
        FloatVector c00 = FloatVector.fromArray(S, from, f0), c01 = FloatVector.fromArray(S, from, f0 + L);
        FloatVector c10 = FloatVector.fromArray(S, from, f1), c11 = FloatVector.fromArray(S, from, f1 + L);
        FloatVector c20 = FloatVector.fromArray(S, from, f2), c21 = FloatVector.fromArray(S, from, f2 + L);
        FloatVector c30 = FloatVector.fromArray(S, from, f3), c31 = FloatVector.fromArray(S, from, f3 + L);
        FloatVector c40 = FloatVector.fromArray(S, from, f4), c41 = FloatVector.fromArray(S, from, f4 + L);
        FloatVector c50 = FloatVector.fromArray(S, from, f5), c51 = FloatVector.fromArray(S, from, f5 + L);
        int col = bf16 ? 2 * GROUP : 4 * GROUP, shift = half == 0 ? 16 : 0;
        long end = bo + (long) kc * col, f32Half = half * 2L * L * Float.BYTES;
        for (long ak = (long) ao * Float.BYTES; bo < end; bo += col, ak += MR * Float.BYTES) {
            FloatVector b0, b1, x;
            if (bf16) {
                b0 = IntVector.fromMemorySegment(I, w, bo, LE).lanewise(VectorOperators.LSHL, shift).and(HIGH_HALF).reinterpretAsFloats();
                b1 = IntVector.fromMemorySegment(I, w, bo + 4 * L, LE).lanewise(VectorOperators.LSHL, shift).and(HIGH_HALF).reinterpretAsFloats();
            } else {
                b0 = FloatVector.fromMemorySegment(S, w, bo + f32Half, LE);
                b1 = FloatVector.fromMemorySegment(S, w, bo + f32Half + 4 * L, LE);
            }
            x = FloatVector.broadcast(S, a.get(F32, ak)); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a.get(F32, ak + 4)); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a.get(F32, ak + 8)); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a.get(F32, ak + 12)); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a.get(F32, ak + 16)); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a.get(F32, ak + 20)); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + L); c10.intoArray(c, r1); c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + L); c30.intoArray(c, r3); c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + L); c50.intoArray(c, r5); c51.intoArray(c, r5 + L);
    }

    /** Two rows of X (at x[xo ..] and x[xo + cols ..]) times one whole group: out[o ..) and out[o + stride ..), 32 each. */
    private static void tile2(boolean bf16, int cols, float[] x, int xo, long group, float[] out, int o, int stride) {
        MemorySegment w = NativeMemory.ALL;
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        int col = bf16 ? 2 * GROUP : 4 * GROUP;
        long end = group + (long) cols * col;
        for (int k = xo; group < end; group += col, k++) {
            FloatVector b0, b1, b2, b3;
            if (bf16) {
                IntVector h0 = IntVector.fromMemorySegment(I, w, group, LE), h1 = IntVector.fromMemorySegment(I, w, group + 4 * L, LE);
                b0 = h0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                b1 = h1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                b2 = h0.and(HIGH_HALF).reinterpretAsFloats();
                b3 = h1.and(HIGH_HALF).reinterpretAsFloats();
            } else {
                b0 = FloatVector.fromMemorySegment(S, w, group, LE);
                b1 = FloatVector.fromMemorySegment(S, w, group + 4 * L, LE);
                b2 = FloatVector.fromMemorySegment(S, w, group + 8 * L, LE);
                b3 = FloatVector.fromMemorySegment(S, w, group + 12 * L, LE);
            }
            FloatVector v = FloatVector.broadcast(S, x[k]);
            c00 = v.fma(b0, c00); c01 = v.fma(b1, c01); c02 = v.fma(b2, c02); c03 = v.fma(b3, c03);
            v = FloatVector.broadcast(S, x[k + cols]);
            c10 = v.fma(b0, c10); c11 = v.fma(b1, c11); c12 = v.fma(b2, c12); c13 = v.fma(b3, c13);
        }
        c00.intoArray(out, o); c01.intoArray(out, o + L); c02.intoArray(out, o + 2 * L); c03.intoArray(out, o + 3 * L);
        int p = o + stride;
        c10.intoArray(out, p); c11.intoArray(out, p + L); c12.intoArray(out, p + 2 * L); c13.intoArray(out, p + 3 * L);
    }

    /** One row of X times one group: out[o .. o + 32) = Σ_k x[xo + k]·column k. */
    private static void row(boolean bf16, int cols, float[] x, int xo, long group, float[] out, int o) {
        MemorySegment w = NativeMemory.ALL;
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        int col = bf16 ? 2 * GROUP : 4 * GROUP;
        long end = group + (long) cols * col;
        for (int k = xo; group < end; group += col, k++) {
            FloatVector b0, b1, b2, b3;
            if (bf16) {
                IntVector h0 = IntVector.fromMemorySegment(I, w, group, LE), h1 = IntVector.fromMemorySegment(I, w, group + 4 * L, LE);
                b0 = h0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                b1 = h1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                b2 = h0.and(HIGH_HALF).reinterpretAsFloats();
                b3 = h1.and(HIGH_HALF).reinterpretAsFloats();
            } else {
                b0 = FloatVector.fromMemorySegment(S, w, group, LE);
                b1 = FloatVector.fromMemorySegment(S, w, group + 4 * L, LE);
                b2 = FloatVector.fromMemorySegment(S, w, group + 8 * L, LE);
                b3 = FloatVector.fromMemorySegment(S, w, group + 12 * L, LE);
            }
            FloatVector v = FloatVector.broadcast(S, x[k]);
            c0 = v.fma(b0, c0); c1 = v.fma(b1, c1); c2 = v.fma(b2, c2); c3 = v.fma(b3, c3);
        }
        c0.intoArray(out, o); c1.intoArray(out, o + L); c2.intoArray(out, o + 2 * L); c3.intoArray(out, o + 3 * L);
    }
}
