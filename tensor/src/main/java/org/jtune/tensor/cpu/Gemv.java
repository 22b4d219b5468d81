package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import org.jtune.tensor.DType;
import org.jtune.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix-vector products for a few rows of A (decode, and batched decode up to {@link #MAX_ROWS} rows):
 * C (M, N) ← (C or 0) + A (M, K) · B (K, N), streaming B once from memory. A arrives packed as contiguous F32 rows. Two
 * layouts of B are handled without copies:
 * <ul>
 * <li>K contiguous (the transposed (N, K) weight of a Linear): each output is a dot product of an A
 *     row with a weight row; four weight rows are read together with four vector accumulators per row
 *     of A, and rows of A go in blocks of four (sixteen accumulators) so a loaded weight vector serves
 *     four rows;</li>
 * <li>N contiguous (a row-major B): each B row is scaled by A's element and added to a C chunk that
 *     stays in L1.</li>
 * </ul>
 * F32 heap weights are read in place, and so are memory-mapped (off-heap) F32 and BF16 weights of the
 * dot-product layout (decode over a loaded checkpoint): their loop loads from the segment and widens
 * BF16 in registers, one method per source so the accumulators stay in registers (BF16 through the
 * scratch streamed 11.6 GB/s on one thread; widened in registers the same loop reads 18 GB/s from
 * memory). Other BF16/F16 (and off-heap) weights are widened with vector loads
 * ({@link HalfVectors}) a few rows or a chunk at a time into a small per-thread scratch that stays in
 * cache, so the one F32 loop serves every source (an earlier version with a dtype switch on each
 * load ran BF16 at 0.4 GB/s). The caller splits columns
 * [j0, j1) across threads; each output's sum runs over k in a fixed order (vector lanes, then lanes
 * reduced, then the scalar tail), independent of the split.
 */
final class Gemv {
    /**
     * Most rows of A when B is a transposed weight (the dot-product layout): a batched decode step of up
     * to this many sequences streams each weight row once for all its rows (row blocks of four) instead
     * of packing the whole weight as the blocked GEMM does on every call.
     */
    static final int MAX_ROWS = 32;
    /** Most rows of A when B is row-major (the axpy loop re-reads its C chunk once per row). */
    static final int MAX_AXPY_ROWS = 4;
    /** Off: transposed weights with more than {@link #MAX_AXPY_ROWS} rows go to the blocked GEMM (the path before; benchmarks compare). */
    private static volatile boolean multiRow = !"false".equals(System.getProperty("jtune.gemv.multiRow"));
    /** Output columns (weight rows) read together: the unit of a split across threads. */
    static final int GROUP = 4;
    private static final VectorSpecies<Float> S = HalfVectors.F;
    private static final int L = S.length();
    private static final int CHUNK = 512;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Gemv() {}

    /** True when this class computes an m-row product with B: B has a unit stride it streams along, and m is few enough rows. */
    static boolean handles(StridedMatrix b, int m) {
        if (b.rowStride() == 1) return m <= (multiRow ? MAX_ROWS : MAX_AXPY_ROWS);
        return b.colStride() == 1 && m <= MAX_AXPY_ROWS;
    }

    static void setMultiRow(boolean on) {
        multiRow = on;
    }

    static boolean multiRow() {
        return multiRow;
    }

    /** a: M rows of K floats at a[m·K]; C rows at c[co + m·ldc]. */
    static void run(float[] a, int m, int k, StridedMatrix b, float[] c, int co, int ldc, int j0, int j1, boolean accumulate) {
        if (b.rowStride() == 1) dots(a, m, k, b, c, co, ldc, j0, j1, accumulate);
        else axpys(a, m, k, b, c, co, ldc, j0, j1, accumulate);
    }

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

    private static float[] scratch(int size) {
        float[][] holder = SCRATCH.get();
        if (holder[0].length < size) holder[0] = new float[size];
        return holder[0];
    }

    private static void dots(float[] a, int m, int k, StridedMatrix b, float[] c, int co, int ldc, int j0, int j1, boolean accumulate) {
        if (b.floats() == null && b.shorts() == null) {
            if (b.dtype() == DType.BF16) {
                dotsBf16Segment(a, m, k, b, c, co, ldc, j0, j1, accumulate);
                return;
            }
            if (b.dtype() == DType.F32) {
                dotsF32Segment(a, m, k, b, c, co, ldc, j0, j1, accumulate);
                return;
            }
        }
        if (b.floats() != null) {
            dotsF32Heap(a, m, k, b.floats(), b, c, co, ldc, j0, j1, accumulate);
            return;
        }
        // Any other source is widened 4 rows at a time into an L1/L2-resident scratch (vector
        // conversion, StridedMatrix.readRun) and read from there.
        float[] w = scratch(4 * k);
        for (int j = j0; j < j1; j += 4) {
            int rows = Math.min(4, j1 - j);
            for (int q = 0; q < rows; q++) b.readRun(b.index(0, j + q), k, w, q * k);
            // short groups repeat their last row
            int w1 = Math.min(1, rows - 1) * k, w2 = Math.min(2, rows - 1) * k, w3 = Math.min(3, rows - 1) * k;
            dotGroup(a, m, k, w, 0, w1, w2, w3, c, co, ldc, j, rows, accumulate);
        }
    }

    /**
     * {@link #dots} for F32 weights in a heap array, read in place. The group's loop is its own small
     * method ({@link #dotGroup}), entered once per group of four columns, so C2 compiles it through a
     * normal entry within the first product instead of leaving a long-running caller to on-stack
     * replacement; and nothing is allocated per group (the earlier loop kept offsets and sums in small
     * arrays).
     */
    private static void dotsF32Heap(float[] a, int m, int k, float[] w, StridedMatrix b, float[] c, int co, int ldc,
                                    int j0, int j1, boolean accumulate) {
        for (int j = j0; j < j1; j += 4) {
            int rows = Math.min(4, j1 - j);
            int w0 = (int) b.index(0, j), w1 = (int) b.index(0, j + Math.min(1, rows - 1));
            int w2 = (int) b.index(0, j + Math.min(2, rows - 1)), w3 = (int) b.index(0, j + Math.min(3, rows - 1));
            dotGroup(a, m, k, w, w0, w1, w2, w3, c, co, ldc, j, rows, accumulate);
        }
    }

    /** C[r, j..j+rows) for the four weight rows at w0..w3 of {@code w}: fixed-order sums (vector lanes, lane sum, tail). */
    private static void dotGroup(float[] a, int m, int k, float[] w, int w0, int w1, int w2, int w3, float[] c, int co, int ldc,
                                 int j, int rows, boolean accumulate) {
        int bound = k - k % L;
        int r = 0;
        for (; r + 4 <= m; r += 4) dotBlockHeap(a, r * k, k, w, w0, w1, w2, w3, c, co + r * ldc + j, ldc, rows, accumulate);
        for (; r < m; r++) {
            int ao = r * k;
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
            for (int t = 0; t < bound; t += L) {
                FloatVector x = FloatVector.fromArray(S, a, ao + t);
                s0 = FloatVector.fromArray(S, w, w0 + t).fma(x, s0);
                s1 = FloatVector.fromArray(S, w, w1 + t).fma(x, s1);
                s2 = FloatVector.fromArray(S, w, w2 + t).fma(x, s2);
                s3 = FloatVector.fromArray(S, w, w3 + t).fma(x, s3);
            }
            // fixed-order lane sums: reduceLanes(ADD) may add in another order once compiled (see VectorMath)
            float d0 = VectorMath.sum(s0), d1 = VectorMath.sum(s1), d2 = VectorMath.sum(s2), d3 = VectorMath.sum(s3);
            for (int t = bound; t < k; t++) {
                float x = a[ao + t];
                d0 += x * w[w0 + t];
                d1 += x * w[w1 + t];
                d2 += x * w[w2 + t];
                d3 += x * w[w3 + t];
            }
            store(c, co + r * ldc + j, rows, accumulate, d0, d1, d2, d3);
        }
    }

    /** {@link #dots} for BF16 rows in a segment: the same sums in the same order, widened in registers. */
    private static void dotsBf16Segment(float[] a, int m, int k, StridedMatrix b, float[] c, int co, int ldc, int j0, int j1,
                                        boolean accumulate) {
        MemorySegment seg = b.segment();
        int bound = k - k % L;
        for (int j = j0; j < j1; j += 4) {
            int rows = Math.min(4, j1 - j);
            long i0 = b.index(0, j), i1 = b.index(0, j + Math.min(1, rows - 1));
            long i2 = b.index(0, j + Math.min(2, rows - 1)), i3 = b.index(0, j + Math.min(3, rows - 1));
            long y0 = i0 << 1, y1 = i1 << 1, y2 = i2 << 1, y3 = i3 << 1;
            int r = 0;
            for (; r + 4 <= m; r += 4) dotBlockBf16(a, r * k, k, b, seg, i0, i1, i2, i3, c, co + r * ldc + j, ldc, rows, accumulate);
            for (; r < m; r++) {
                int ao = r * k;
                FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                for (int t = 0; t < bound; t += L) {
                    FloatVector x = FloatVector.fromArray(S, a, ao + t);
                    long o = (long) t << 1;
                    s0 = HalfVectors.bf16(seg, y0 + o).fma(x, s0);
                    s1 = HalfVectors.bf16(seg, y1 + o).fma(x, s1);
                    s2 = HalfVectors.bf16(seg, y2 + o).fma(x, s2);
                    s3 = HalfVectors.bf16(seg, y3 + o).fma(x, s3);
                }
                float d0 = VectorMath.sum(s0), d1 = VectorMath.sum(s1), d2 = VectorMath.sum(s2), d3 = VectorMath.sum(s3);
                for (int t = bound; t < k; t++) {
                    float x = a[ao + t];
                    d0 += x * b.at(i0 + t);
                    d1 += x * b.at(i1 + t);
                    d2 += x * b.at(i2 + t);
                    d3 += x * b.at(i3 + t);
                }
                store(c, co + r * ldc + j, rows, accumulate, d0, d1, d2, d3);
            }
        }
    }

    /** {@link #dots} for F32 rows in a segment: the same sums in the same order, loaded in place. */
    private static void dotsF32Segment(float[] a, int m, int k, StridedMatrix b, float[] c, int co, int ldc, int j0, int j1,
                                       boolean accumulate) {
        MemorySegment seg = b.segment();
        int bound = k - k % L;
        for (int j = j0; j < j1; j += 4) {
            int rows = Math.min(4, j1 - j);
            long i0 = b.index(0, j), i1 = b.index(0, j + Math.min(1, rows - 1));
            long i2 = b.index(0, j + Math.min(2, rows - 1)), i3 = b.index(0, j + Math.min(3, rows - 1));
            long y0 = i0 << 2, y1 = i1 << 2, y2 = i2 << 2, y3 = i3 << 2;
            int r = 0;
            for (; r + 4 <= m; r += 4) dotBlockF32(a, r * k, k, b, seg, i0, i1, i2, i3, c, co + r * ldc + j, ldc, rows, accumulate);
            for (; r < m; r++) {
                int ao = r * k;
                FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                for (int t = 0; t < bound; t += L) {
                    FloatVector x = FloatVector.fromArray(S, a, ao + t);
                    long o = (long) t << 2;
                    s0 = FloatVector.fromMemorySegment(S, seg, y0 + o, LE).fma(x, s0);
                    s1 = FloatVector.fromMemorySegment(S, seg, y1 + o, LE).fma(x, s1);
                    s2 = FloatVector.fromMemorySegment(S, seg, y2 + o, LE).fma(x, s2);
                    s3 = FloatVector.fromMemorySegment(S, seg, y3 + o, LE).fma(x, s3);
                }
                float d0 = VectorMath.sum(s0), d1 = VectorMath.sum(s1), d2 = VectorMath.sum(s2), d3 = VectorMath.sum(s3);
                for (int t = bound; t < k; t++) {
                    float x = a[ao + t];
                    d0 += x * b.at(i0 + t);
                    d1 += x * b.at(i1 + t);
                    d2 += x * b.at(i2 + t);
                    d3 += x * b.at(i3 + t);
                }
                store(c, co + r * ldc + j, rows, accumulate, d0, d1, d2, d3);
            }
        }
    }

    // Row blocks: four rows of A against the group's four weight rows, sixteen vector accumulators, so
    // each weight vector loaded (and, for BF16, widened) once serves four rows and the loop is bound by
    // FMAs rather than loads (8 loads per 16 FMAs instead of 5 per 4). Each accumulator sums exactly as
    // the one-row loop does (vector lanes over k in order, fixed-order lane sum, then the scalar tail),
    // so a row's outputs have the same bits whatever the number of rows it is multiplied with.

    /** Rows at a[ao], a[ao + k], a[ao + 2k], a[ao + 3k] against heap weight rows w0..w3; C rows at c[oc + i·ldc]. */
    private static void dotBlockHeap(float[] a, int ao, int k, float[] w, int w0, int w1, int w2, int w3, float[] c, int oc, int ldc,
                                     int rows, boolean accumulate) {
        int bound = k - k % L;
        int a0 = ao, a1 = ao + k, a2 = ao + 2 * k, a3 = ao + 3 * k;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z, s30 = z, s31 = z, s32 = z, s33 = z;
        for (int t = 0; t < bound; t += L) {
            FloatVector v0 = FloatVector.fromArray(S, w, w0 + t), v1 = FloatVector.fromArray(S, w, w1 + t);
            FloatVector v2 = FloatVector.fromArray(S, w, w2 + t), v3 = FloatVector.fromArray(S, w, w3 + t);
            FloatVector x = FloatVector.fromArray(S, a, a0 + t);
            s00 = v0.fma(x, s00); s01 = v1.fma(x, s01); s02 = v2.fma(x, s02); s03 = v3.fma(x, s03);
            x = FloatVector.fromArray(S, a, a1 + t);
            s10 = v0.fma(x, s10); s11 = v1.fma(x, s11); s12 = v2.fma(x, s12); s13 = v3.fma(x, s13);
            x = FloatVector.fromArray(S, a, a2 + t);
            s20 = v0.fma(x, s20); s21 = v1.fma(x, s21); s22 = v2.fma(x, s22); s23 = v3.fma(x, s23);
            x = FloatVector.fromArray(S, a, a3 + t);
            s30 = v0.fma(x, s30); s31 = v1.fma(x, s31); s32 = v2.fma(x, s32); s33 = v3.fma(x, s33);
        }
        store(c, oc, rows, accumulate, tail(VectorMath.sum(s00), a, a0, w, w0, bound, k), tail(VectorMath.sum(s01), a, a0, w, w1, bound, k),
                tail(VectorMath.sum(s02), a, a0, w, w2, bound, k), tail(VectorMath.sum(s03), a, a0, w, w3, bound, k));
        store(c, oc + ldc, rows, accumulate, tail(VectorMath.sum(s10), a, a1, w, w0, bound, k), tail(VectorMath.sum(s11), a, a1, w, w1, bound, k),
                tail(VectorMath.sum(s12), a, a1, w, w2, bound, k), tail(VectorMath.sum(s13), a, a1, w, w3, bound, k));
        store(c, oc + 2 * ldc, rows, accumulate, tail(VectorMath.sum(s20), a, a2, w, w0, bound, k), tail(VectorMath.sum(s21), a, a2, w, w1, bound, k),
                tail(VectorMath.sum(s22), a, a2, w, w2, bound, k), tail(VectorMath.sum(s23), a, a2, w, w3, bound, k));
        store(c, oc + 3 * ldc, rows, accumulate, tail(VectorMath.sum(s30), a, a3, w, w0, bound, k), tail(VectorMath.sum(s31), a, a3, w, w1, bound, k),
                tail(VectorMath.sum(s32), a, a3, w, w2, bound, k), tail(VectorMath.sum(s33), a, a3, w, w3, bound, k));
    }

    /** {@link #dotBlockHeap} for BF16 weight rows at element indices i0..i3 of a segment, widened in registers. */
    private static void dotBlockBf16(float[] a, int ao, int k, StridedMatrix b, MemorySegment seg, long i0, long i1, long i2, long i3,
                                     float[] c, int oc, int ldc, int rows, boolean accumulate) {
        int bound = k - k % L;
        int a0 = ao, a1 = ao + k, a2 = ao + 2 * k, a3 = ao + 3 * k;
        long y0 = i0 << 1, y1 = i1 << 1, y2 = i2 << 1, y3 = i3 << 1;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z, s30 = z, s31 = z, s32 = z, s33 = z;
        for (int t = 0; t < bound; t += L) {
            long o = (long) t << 1;
            FloatVector v0 = HalfVectors.bf16(seg, y0 + o), v1 = HalfVectors.bf16(seg, y1 + o);
            FloatVector v2 = HalfVectors.bf16(seg, y2 + o), v3 = HalfVectors.bf16(seg, y3 + o);
            FloatVector x = FloatVector.fromArray(S, a, a0 + t);
            s00 = v0.fma(x, s00); s01 = v1.fma(x, s01); s02 = v2.fma(x, s02); s03 = v3.fma(x, s03);
            x = FloatVector.fromArray(S, a, a1 + t);
            s10 = v0.fma(x, s10); s11 = v1.fma(x, s11); s12 = v2.fma(x, s12); s13 = v3.fma(x, s13);
            x = FloatVector.fromArray(S, a, a2 + t);
            s20 = v0.fma(x, s20); s21 = v1.fma(x, s21); s22 = v2.fma(x, s22); s23 = v3.fma(x, s23);
            x = FloatVector.fromArray(S, a, a3 + t);
            s30 = v0.fma(x, s30); s31 = v1.fma(x, s31); s32 = v2.fma(x, s32); s33 = v3.fma(x, s33);
        }
        storeBlock(c, oc, ldc, rows, accumulate, a, a0, k, b, i0, i1, i2, i3, bound,
                VectorMath.sum(s00), VectorMath.sum(s01), VectorMath.sum(s02), VectorMath.sum(s03),
                VectorMath.sum(s10), VectorMath.sum(s11), VectorMath.sum(s12), VectorMath.sum(s13),
                VectorMath.sum(s20), VectorMath.sum(s21), VectorMath.sum(s22), VectorMath.sum(s23),
                VectorMath.sum(s30), VectorMath.sum(s31), VectorMath.sum(s32), VectorMath.sum(s33));
    }

    /** {@link #dotBlockHeap} for F32 weight rows at element indices i0..i3 of a segment, loaded in place. */
    private static void dotBlockF32(float[] a, int ao, int k, StridedMatrix b, MemorySegment seg, long i0, long i1, long i2, long i3,
                                    float[] c, int oc, int ldc, int rows, boolean accumulate) {
        int bound = k - k % L;
        int a0 = ao, a1 = ao + k, a2 = ao + 2 * k, a3 = ao + 3 * k;
        long y0 = i0 << 2, y1 = i1 << 2, y2 = i2 << 2, y3 = i3 << 2;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z, s30 = z, s31 = z, s32 = z, s33 = z;
        for (int t = 0; t < bound; t += L) {
            long o = (long) t << 2;
            FloatVector v0 = FloatVector.fromMemorySegment(S, seg, y0 + o, LE), v1 = FloatVector.fromMemorySegment(S, seg, y1 + o, LE);
            FloatVector v2 = FloatVector.fromMemorySegment(S, seg, y2 + o, LE), v3 = FloatVector.fromMemorySegment(S, seg, y3 + o, LE);
            FloatVector x = FloatVector.fromArray(S, a, a0 + t);
            s00 = v0.fma(x, s00); s01 = v1.fma(x, s01); s02 = v2.fma(x, s02); s03 = v3.fma(x, s03);
            x = FloatVector.fromArray(S, a, a1 + t);
            s10 = v0.fma(x, s10); s11 = v1.fma(x, s11); s12 = v2.fma(x, s12); s13 = v3.fma(x, s13);
            x = FloatVector.fromArray(S, a, a2 + t);
            s20 = v0.fma(x, s20); s21 = v1.fma(x, s21); s22 = v2.fma(x, s22); s23 = v3.fma(x, s23);
            x = FloatVector.fromArray(S, a, a3 + t);
            s30 = v0.fma(x, s30); s31 = v1.fma(x, s31); s32 = v2.fma(x, s32); s33 = v3.fma(x, s33);
        }
        storeBlock(c, oc, ldc, rows, accumulate, a, a0, k, b, i0, i1, i2, i3, bound,
                VectorMath.sum(s00), VectorMath.sum(s01), VectorMath.sum(s02), VectorMath.sum(s03),
                VectorMath.sum(s10), VectorMath.sum(s11), VectorMath.sum(s12), VectorMath.sum(s13),
                VectorMath.sum(s20), VectorMath.sum(s21), VectorMath.sum(s22), VectorMath.sum(s23),
                VectorMath.sum(s30), VectorMath.sum(s31), VectorMath.sum(s32), VectorMath.sum(s33));
    }

    /** Scalar tails (weights read through b) and stores of a segment block's sixteen lane sums. */
    private static void storeBlock(float[] c, int oc, int ldc, int rows, boolean accumulate, float[] a, int a0, int k, StridedMatrix b,
                                   long i0, long i1, long i2, long i3, int bound,
                                   float s00, float s01, float s02, float s03, float s10, float s11, float s12, float s13,
                                   float s20, float s21, float s22, float s23, float s30, float s31, float s32, float s33) {
        int a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        store(c, oc, rows, accumulate, tail(s00, a, a0, b, i0, bound, k), tail(s01, a, a0, b, i1, bound, k),
                tail(s02, a, a0, b, i2, bound, k), tail(s03, a, a0, b, i3, bound, k));
        store(c, oc + ldc, rows, accumulate, tail(s10, a, a1, b, i0, bound, k), tail(s11, a, a1, b, i1, bound, k),
                tail(s12, a, a1, b, i2, bound, k), tail(s13, a, a1, b, i3, bound, k));
        store(c, oc + 2 * ldc, rows, accumulate, tail(s20, a, a2, b, i0, bound, k), tail(s21, a, a2, b, i1, bound, k),
                tail(s22, a, a2, b, i2, bound, k), tail(s23, a, a2, b, i3, bound, k));
        store(c, oc + 3 * ldc, rows, accumulate, tail(s30, a, a3, b, i0, bound, k), tail(s31, a, a3, b, i1, bound, k),
                tail(s32, a, a3, b, i2, bound, k), tail(s33, a, a3, b, i3, bound, k));
    }

    /** One output of a block: fixed-order lane sum, then the scalar tail over [bound, k) in order, as the one-row loop. */
    private static float tail(float d, float[] a, int ao, float[] w, int wo, int bound, int k) {
        for (int t = bound; t < k; t++) d += a[ao + t] * w[wo + t];
        return d;
    }

    private static float tail(float d, float[] a, int ao, StridedMatrix b, long wi, int bound, int k) {
        for (int t = bound; t < k; t++) d += a[ao + t] * b.at(wi + t);
        return d;
    }

    private static void store(float[] c, int oc, int rows, boolean accumulate, float d0, float d1, float d2, float d3) {
        c[oc] = accumulate ? c[oc] + d0 : d0;
        if (rows > 1) c[oc + 1] = accumulate ? c[oc + 1] + d1 : d1;
        if (rows > 2) c[oc + 2] = accumulate ? c[oc + 2] + d2 : d2;
        if (rows > 3) c[oc + 3] = accumulate ? c[oc + 3] + d3 : d3;
    }

    private static void axpys(float[] a, int m, int k, StridedMatrix b, float[] c, int co, int ldc, int j0, int j1, boolean accumulate) {
        boolean direct = b.floats() != null;
        float[] buf = direct ? null : scratch(CHUNK);
        float[] w = direct ? b.floats() : buf;
        for (int jc = j0; jc < j1; jc += CHUNK) {
            int len = Math.min(CHUNK, j1 - jc);
            int bound = len - len % L;
            for (int r = 0; r < m; r++) {
                if (!accumulate) java.util.Arrays.fill(c, co + r * ldc + jc, co + r * ldc + jc + len, 0f);
            }
            for (int p = 0; p < k; p++) {
                int wo;
                if (direct) {
                    wo = (int) b.index(p, jc);
                } else {
                    b.readRun(b.index(p, jc), len, buf, 0);
                    wo = 0;
                }
                for (int r = 0; r < m; r++) {
                    float xs = a[r * k + p];
                    FloatVector x = FloatVector.broadcast(S, xs);
                    int o = co + r * ldc + jc;
                    int t = 0;
                    for (; t < bound; t += L) {
                        FloatVector.fromArray(S, w, wo + t).fma(x, FloatVector.fromArray(S, c, o + t)).intoArray(c, o + t);
                    }
                    for (; t < len; t++) c[o + t] += xs * w[wo + t];
                }
            }
        }
    }
}
