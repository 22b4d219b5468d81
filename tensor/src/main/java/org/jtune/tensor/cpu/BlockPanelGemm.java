package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.BlockCodec;
import org.jtune.tensor.Parallel;

/**
 * OUT (m, rows) = X (m, cols)·Wᵀ for a block-quantized W (any {@link BlockCodec}), in F32: the prefill and
 * batched-decode product when the weights are dequantized rather than multiplied in integers.
 *
 * <p>Structure (an outer-product GEMM micro-kernel over a packed panel): the weight rows are taken {@link #NR}
 * (= two vectors of lanes) at a time; for each chunk of at most {@link #KP} columns the chunk of those rows is
 * dequantized and stored transposed, panel[k·NR + q] = W[r0 + q, k0 + k], so that one vector load gives
 * column k of NR weight rows. X rows are then taken {@link #MR} at a time (with 8 lanes from a copy of the chunk made
 * once per chunk and thread, where the six rows' values of each k lie side by side, as {@link Gemm} packs A): for every
 * k the two panel vectors
 * are multiplied by the broadcast X[i, k] of each row and accumulated in 2·MR vector registers, so a panel
 * value is loaded once per MR rows and no horizontal sum is ever needed; the finished NR-wide piece of an
 * output row is stored (first chunk) or added (later chunks). The panel (NR·KP floats, 32 KiB for 512-bit
 * vectors) stays in L1 while all m rows stream past it. Within a piece of the work the column chunks are the outer
 * loop and the groups the inner one, so the chunk of X that the panels read (m × 256 floats, 128 KiB at m = 128)
 * stays in L2 across the piece's groups instead of the whole of X (1 MiB at 2048 columns, 2.8 MiB at 5632) being
 * streamed again for every group. With 8 lanes the chunks are the outermost loop: each is packed once and then shared
 * by the threads' pieces.
 *
 * <p>Each output is Σ over chunks in column order of a chunk sum accumulated in increasing k by FMA; the work
 * is split over groups of NR weight rows only, so the result does not depend on the thread count. The groups are cut
 * into {@link #pieces} contiguous pieces that the threads claim one at a time ({@link Parallel#forClaimed}): on a
 * shared machine a descheduled thread holds back one piece, not half the weight (a static split into one range per
 * thread left the whole product waiting for the slower thread).
 */
final class BlockPanelGemm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Weight rows of a panel: two vectors of lanes. */
    static final int NR = 2 * L;
    /** Columns of a panel at most (a multiple of every block size up to 256). */
    static final int KP = 256;
    /** X rows per micro-kernel call. */
    static final int MR = 6;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][] {new float[NR * KP], new float[16 * KP], new float[MR * NR]});
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /**
     * Whether X goes to the micro-kernel as packed six-row strips read through a segment ({@link #kernel6Strips}: with 8
     * lanes, where broadcasting array elements of six X rows in place held the loop at 33 GFLOP/s on a Zen 3 core) or
     * in place ({@link #kernel6}: with 16 lanes, measured at ~200 GFLOP/s that way).
     */
    private static final boolean PACKED_ROWS = L == 8;

    /** A thread's copy of a chunk of X in six-row strips ({@link #packRows}), grown to the largest product seen. */
    private static final class Strips {
        float[] values = new float[0];
        /** The strips as segments ({@link #kernel6Strips} reads its strip through one). */
        final StripSegments segments = new StripSegments(MR);

        void fit(int floats) {
            if (values.length < floats) values = new float[floats];
        }
    }

    private static final ThreadLocal<Strips> STRIPS = ThreadLocal.withInitial(Strips::new);

    private BlockPanelGemm() {}

    /** out[outOff + i·rows + r] = Σ_k X[i, k]·W[r, k], X row i at x[xOff + i·cols ..]; arguments checked by the caller. */
    static void gemm(BlockCodec codec, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff, int m,
                     float[] out, int outOff) {
        long rowBytes = codec.rowBytes(cols);
        int bs = codec.blockSize();
        if (bs > KP) throw new IllegalArgumentException(codec.name() + ": blocks of " + bs + " elements exceed the " + KP + "-column panel");
        int kpMax = KP / bs * bs;
        int groups = (rows + NR - 1) / NR;
        if (PACKED_ROWS) {
            // each chunk of X is packed once, by the calling thread, before the threads share it (packing it per piece
            // repeated the copy for each of up to 64 pieces)
            Strips strips = STRIPS.get();
            int sixes = m / 2 * 2 / MR + (m / 2 * 2 % MR > 0 ? 1 : 0); // six-row strips over the rows [0, m − m mod 2)
            strips.fit(sixes * MR * kpMax);
            for (int k0 = 0; k0 < cols; k0 += kpMax) {
                int c0 = k0, kc = Math.min(kpMax, cols - k0);
                packRows(x, xOff, cols, m, sixes, k0, kc, strips.values);
                MemorySegment[] slices = strips.segments.of(strips.values, sixes, kc);
                Parallel.forClaimed(groups, pieces(groups, m, kc),
                        (g0, g1) -> piece(codec, w, offset, rowBytes, rows, cols, x, xOff, slices, m, g0, g1, c0, kc, out, outOff));
            }
            return;
        }
        Parallel.forClaimed(groups, pieces(groups, m, cols), (g0, g1) -> {
            for (int k0 = 0; k0 < cols; k0 += kpMax) {
                piece(codec, w, offset, rowBytes, rows, cols, x, xOff, null, m, g0, g1, k0, Math.min(kpMax, cols - k0), out, outOff);
            }
        });
    }

    /**
     * Groups [g0, g1) of NR weight rows over the column chunk [k0, k0 + kc) times every row of X: stored on the first
     * chunk, added on later ones. X is read in place, or from {@code strips} ({@link #packRows} of this chunk) when given.
     */
    private static void piece(BlockCodec codec, MemorySegment w, long offset, long rowBytes, int rows, int cols, float[] x, int xOff,
                              MemorySegment[] strips, int m, int g0, int g1, int k0, int kc, float[] out, int outOff) {
        float[][] s = SCRATCH.get();
        float[] panel = s[0], row = s[1], tail = s[2];
        boolean first = k0 == 0;
        for (int g = g0; g < g1; g++) {
            int r0 = g * NR, nr = Math.min(NR, rows - r0);
            fillPanel(codec, w, offset, rowBytes, cols, r0, nr, k0, kc, panel, row);
            int i = 0;
            for (; i < m - 1; i += MR) {
                if (strips != null) kernel6Strips(panel, kc, strips[i / MR], Math.min(MR, m - i), out, outOff + i * rows + r0, rows, nr, first, tail);
                else kernel6(panel, kc, x, xOff + i * cols + k0, cols, Math.min(MR, m - i), out, outOff + i * rows + r0, rows, nr, first, tail);
            }
            if (i < m) kernel1(panel, kc, x, xOff + i * cols + k0, out, outOff + i * rows + r0, nr, first, tail);
        }
    }

    /**
     * panel[k·NR + q] = W[r0 + q, k0 + k] for k < kc, q < NR (zero for q ≥ nr). With 16-lane vectors sixteen rows are
     * dequantized into buf (16 × KP floats) and transposed 16 × 16 at a time in registers ({@link LaneTranspose});
     * otherwise each row is dequantized and stored to the panel value by value.
     */
    private static void fillPanel(BlockCodec codec, MemorySegment w, long offset, long rowBytes, int cols, int r0, int nr, int k0,
                                  int kc, float[] panel, float[] buf) {
        if (LaneTranspose.AVAILABLE && kc % 16 == 0) {
            for (int qb = 0; qb < NR; qb += 16) {
                for (int q = 0; q < 16; q++) {
                    if (qb + q < nr) codec.dequantize(w, offset + (r0 + qb + q) * rowBytes, cols, k0, kc, buf, q * KP);
                    else Arrays.fill(buf, q * KP, q * KP + kc, 0f);
                }
                for (int kb = 0; kb < kc; kb += 16) LaneTranspose.transpose16(buf, kb, KP, panel, kb * NR + qb, NR);
            }
            return;
        }
        for (int q = 0; q < NR; q++) {
            if (q < nr) {
                codec.dequantize(w, offset + (r0 + q) * rowBytes, cols, k0, kc, buf, 0);
                for (int k = 0; k < kc; k++) panel[k * NR + q] = buf[k];
            } else {
                for (int k = 0; k < kc; k++) panel[k * NR + q] = 0f;
            }
        }
    }

    /** Multiply-adds in one claimed piece at least: ~4M, some 30 µs of kernel time. */
    static final long PIECE_MACS = 1L << 22;
    /** Most pieces of one product. */
    static final int MAX_PIECES = 64;

    /** Pieces of whole groups for a product of m rows (a function of the shape only, never of the thread count). */
    static int pieces(int groups, int m, int cols) {
        long macs = (long) groups * NR * m * cols;
        return (int) Math.max(1, Math.min(Math.min(MAX_PIECES, groups), macs / PIECE_MACS));
    }

    /**
     * strips[(s·kc + k)·6 + j] = X[6s + j, k0 + k] for the strips s &lt; sixes, a row past the last of X repeating the
     * strip's last row (which {@link #kernel6Strips} computes but does not store).
     */
    private static void packRows(float[] x, int xOff, int cols, int m, int sixes, int k0, int kc, float[] strips) {
        for (int st = 0; st < sixes; st++) {
            for (int j = 0; j < MR; j++) {
                int src = xOff + Math.min(st * MR + j, m - 1) * cols + k0, dst = st * kc * MR + j;
                for (int k = 0; k < kc; k++) strips[dst + k * MR] = x[src + k];
            }
        }
    }

    /**
     * The first mr (2..6) rows of the six-row strip xs ({@link #packRows}; a segment of its own, {@link StripSegments})
     * against the panel; results to out[oo + j·ldo, + nr). A tail of two to five rows costs one six-row pass instead of
     * that many one-row passes, each a chain of dependent FMAs. The strip is read through a heap segment, as
     * {@link GemmKernel}'s 6-row tile reads A
     * ({@link #PACKED_ROWS} says why). The sums leave through {@code tail}, not as arguments: C2 did not inline the last
     * calls of a helper taking vectors here (its node count cut-off) and boxed them.
     */
    private static void kernel6Strips(float[] p, int kc, MemorySegment xs, int mr, float[] out, int oo, int ldo, int nr,
                                boolean first, float[] tail) {
        FloatVector a0 = FloatVector.zero(F), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0, a4 = a0, b4 = a0, a5 = a0, b5 = a0;
        for (int k = 0; k < kc; k++) {
            long xk = k * (6L * Float.BYTES);
            FloatVector p0 = FloatVector.fromArray(F, p, k * NR), p1 = FloatVector.fromArray(F, p, k * NR + L);
            FloatVector v = FloatVector.broadcast(F, xs.get(F32, xk));
            a0 = p0.fma(v, a0);
            b0 = p1.fma(v, b0);
            v = FloatVector.broadcast(F, xs.get(F32, xk + 4));
            a1 = p0.fma(v, a1);
            b1 = p1.fma(v, b1);
            v = FloatVector.broadcast(F, xs.get(F32, xk + 8));
            a2 = p0.fma(v, a2);
            b2 = p1.fma(v, b2);
            v = FloatVector.broadcast(F, xs.get(F32, xk + 12));
            a3 = p0.fma(v, a3);
            b3 = p1.fma(v, b3);
            v = FloatVector.broadcast(F, xs.get(F32, xk + 16));
            a4 = p0.fma(v, a4);
            b4 = p1.fma(v, b4);
            v = FloatVector.broadcast(F, xs.get(F32, xk + 20));
            a5 = p0.fma(v, a5);
            b5 = p1.fma(v, b5);
        }
        a0.intoArray(tail, 0);
        b0.intoArray(tail, L);
        a1.intoArray(tail, NR);
        b1.intoArray(tail, NR + L);
        a2.intoArray(tail, 2 * NR);
        b2.intoArray(tail, 2 * NR + L);
        a3.intoArray(tail, 3 * NR);
        b3.intoArray(tail, 3 * NR + L);
        a4.intoArray(tail, 4 * NR);
        b4.intoArray(tail, 4 * NR + L);
        a5.intoArray(tail, 5 * NR);
        b5.intoArray(tail, 5 * NR + L);
        for (int j = 0; j < mr; j++) store(out, oo + j * ldo, nr, tail, j * NR, first);
    }

    /**
     * The first mr (2..6) of six X rows (at x[xo + j·ldx ..]) against the panel; results to out[oo + j·ldo, + nr). Rows
     * past mr read row mr − 1 again and are not stored: a tail of two to five rows costs one six-row pass instead of
     * that many one-row passes, each a chain of dependent FMAs. The 16-lane (AVX-512) kernel: it reads X in place, at
     * ~200 GFLOP/s on a Zen 4 core ({@link #kernel6Strips} is the 8-lane one).
     */
    private static void kernel6(float[] p, int kc, float[] x, int xo, int ldx, int mr, float[] out, int oo, int ldo, int nr,
                                boolean first, float[] tail) {
        FloatVector a0 = FloatVector.zero(F), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0, a4 = a0, b4 = a0, a5 = a0, b5 = a0;
        int x0 = xo, x1 = x0 + ldx, x2 = xo + Math.min(2, mr - 1) * ldx, x3 = xo + Math.min(3, mr - 1) * ldx;
        int x4 = xo + Math.min(4, mr - 1) * ldx, x5 = xo + Math.min(5, mr - 1) * ldx;
        for (int k = 0; k < kc; k++) {
            FloatVector p0 = FloatVector.fromArray(F, p, k * NR), p1 = FloatVector.fromArray(F, p, k * NR + L);
            FloatVector v = FloatVector.broadcast(F, x[x0 + k]);
            a0 = p0.fma(v, a0);
            b0 = p1.fma(v, b0);
            v = FloatVector.broadcast(F, x[x1 + k]);
            a1 = p0.fma(v, a1);
            b1 = p1.fma(v, b1);
            v = FloatVector.broadcast(F, x[x2 + k]);
            a2 = p0.fma(v, a2);
            b2 = p1.fma(v, b2);
            v = FloatVector.broadcast(F, x[x3 + k]);
            a3 = p0.fma(v, a3);
            b3 = p1.fma(v, b3);
            v = FloatVector.broadcast(F, x[x4 + k]);
            a4 = p0.fma(v, a4);
            b4 = p1.fma(v, b4);
            v = FloatVector.broadcast(F, x[x5 + k]);
            a5 = p0.fma(v, a5);
            b5 = p1.fma(v, b5);
        }
        put(out, oo, nr, a0, b0, first, tail);
        put(out, oo + ldo, nr, a1, b1, first, tail);
        if (mr > 2) put(out, oo + 2 * ldo, nr, a2, b2, first, tail);
        if (mr > 3) put(out, oo + 3 * ldo, nr, a3, b3, first, tail);
        if (mr > 4) put(out, oo + 4 * ldo, nr, a4, b4, first, tail);
        if (mr > 5) put(out, oo + 5 * ldo, nr, a5, b5, first, tail);
    }

    private static void kernel1(float[] p, int kc, float[] x, int xo, float[] out, int oo, int nr, boolean first, float[] tail) {
        FloatVector a = FloatVector.zero(F), b = a;
        for (int k = 0; k < kc; k++) {
            FloatVector v = FloatVector.broadcast(F, x[xo + k]);
            a = FloatVector.fromArray(F, p, k * NR).fma(v, a);
            b = FloatVector.fromArray(F, p, k * NR + L).fma(v, b);
        }
        a.intoArray(tail, 0);
        b.intoArray(tail, L);
        store(out, oo, nr, tail, 0, first);
    }

    /** out[o, o + nr) = (first ? 0 : out) + the nr leading lanes of (a, b): {@link #kernel6}'s and {@link Int8PanelGemm}'s store. */
    static void put(float[] out, int o, int nr, FloatVector a, FloatVector b, boolean first, float[] tail) {
        if (nr == NR) {
            if (!first) {
                a = a.add(FloatVector.fromArray(F, out, o));
                b = b.add(FloatVector.fromArray(F, out, o + L));
            }
            a.intoArray(out, o);
            b.intoArray(out, o + L);
            return;
        }
        a.intoArray(tail, 0);
        b.intoArray(tail, L);
        for (int q = 0; q < nr; q++) out[o + q] = first ? tail[q] : out[o + q] + tail[q];
    }

    /** out[o, o + nr) = (first ? 0 : out) + sums[so, so + nr). */
    private static void store(float[] out, int o, int nr, float[] sums, int so, boolean first) {
        if (nr == NR) {
            FloatVector a = FloatVector.fromArray(F, sums, so), b = FloatVector.fromArray(F, sums, so + L);
            if (!first) {
                a = a.add(FloatVector.fromArray(F, out, o));
                b = b.add(FloatVector.fromArray(F, out, o + L));
            }
            a.intoArray(out, o);
            b.intoArray(out, o + L);
            return;
        }
        for (int q = 0; q < nr; q++) out[o + q] = first ? sums[so + q] : out[o + q] + sums[so + q];
    }
}
