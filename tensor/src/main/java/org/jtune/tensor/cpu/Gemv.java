package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import org.jtune.tensor.DType;
import org.jtune.tensor.Half;
import org.jtune.tensor.NativeMemory;
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
 *     of A, and rows of A go in blocks of six or four ({@link RowBlockDots}) so a loaded weight vector
 *     serves several rows;</li>
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
     * to this many sequences (or a prefill chunk this short) streams each weight row once for all its rows
     * (row blocks, {@link RowBlockDots}) instead of packing the whole weight as the blocked GEMM does on
     * every call (the packing alone of a 5632×2048 F32 weight costs 10–12 ms on one thread). Measured
     * faster than the blocked GEMM up to 64 rows, F32 and BF16 (bench/RESULTS.md, issue 14).
     */
    static final int MAX_ROWS = 64;
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

    /**
     * Off: native F32/BF16 weights load through their own segment ({@link #dotsF32Segment}, and the row blocks of
     * {@link RowBlockDots#segment} the same way), as before {@link #dotsNative} (benchmarks compare;
     * {@code jtune.gemv.exactSegments=false}).
     */
    private static volatile boolean exactSegments = !"false".equals(System.getProperty("jtune.gemv.exactSegments"));

    /**
     * One row of A against the weight rows one at a time, each read start to end ({@link #heapRowDot}, {@link #f32RowDot},
     * {@link #bf16RowDot}), or four at a time as the row blocks read them. The same sums either way. Zen 4 (16 F32 lanes)
     * streams one sequential run of memory faster than four runs 8 KiB apart: a 5632 × 2048 F32 GEMV on one thread read
     * 24.7 GB/s one row at a time against 17.2 GB/s four at a time, a plain read of the same memory 23.5 (median of 6
     * processes, 2026-12-06; bench/RESULTS.md). But one row's sum is one chain of fused multiply-adds, each waiting for
     * the last, so one row at a time reads at most one vector of weights per FMA latency; with 8 lanes that is half as
     * many bytes, near a core's read rate for F32 and half of it for BF16. On Zen 3 (AVX2) a decode step of the 1.1B
     * shape (8 layers) took 44.9 ms one row at a time against 36.2 four at a time in BF16, 61.1 against 53.1 in F32
     * (2026-12-07). So by default (null) the weight rows are read one at a time with 16 lanes and four at a time with
     * fewer; {@code jtune.gemv.singleStream=true} or {@code false} (and {@link #setSingleStream}) force either way, for
     * tests and benchmarks.
     */
    private static volatile Boolean singleStream = switch (System.getProperty("jtune.gemv.singleStream", "")) {
        case "true" -> Boolean.TRUE;
        case "false" -> Boolean.FALSE;
        default -> null;
    };

    /** Whether a one-row product reads the weight rows one at a time ({@link #singleStream}). */
    private static boolean oneRowAtATime() {
        Boolean on = singleStream;
        return on != null ? on : L >= 16;
    }

    /** True or false: one weight row at a time or four for every dtype; null: by lane count ({@link #singleStream}). */
    static void setSingleStream(Boolean on) {
        singleStream = on;
    }

    static void setExactSegments(boolean on) {
        exactSegments = on;
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
            if (exactSegments && b.segment().isNative() && (b.dtype() == DType.BF16 || b.dtype() == DType.F32)) {
                dotsNative(a, m, k, b, c, co, ldc, j0, j1, accumulate);
                return;
            }
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
        if (m == 1 && b.shorts() != null && b.dtype() == DType.BF16 && oneRowAtATime()) {
            for (int j = j0; j < j1; j++) bf16HeapRowDot(a, k, b.shorts(), (int) b.index(0, j), c, co + j, accumulate);
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
        if (m == 1 && oneRowAtATime()) {
            for (int j = j0; j < j1; j++) heapRowDot(a, k, w, (int) b.index(0, j), c, co + j, accumulate);
            return;
        }
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
        int r = m / 4 * 4;
        if (r > 0) RowBlockDots.heap(a, m, k, w, w0, w1, w2, w3, c, co + j, ldc, rows, accumulate);
        for (; r < m; r++) heapRowDots(a, r * k, k, w, w0, w1, w2, w3, c, co + r * ldc + j, rows, accumulate);
    }

    /** One row of A against the four weight rows at w0..w3 of {@code w}; a method of its own for the reason {@link #f32RowDots} gives. */
    private static void heapRowDots(float[] a, int ao, int k, float[] w, int w0, int w1, int w2, int w3, float[] c, int at, int rows,
                                    boolean accumulate) {
        int bound = k - k % L;
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
        store(c, at, rows, accumulate, d0, d1, d2, d3);
    }

    /**
     * A's one row (at a[0]) against the heap weight row at w[wo ..]: c[at] ← (c[at] or 0) + the sum, in the order of
     * {@link #heapRowDots} (one accumulator over k, its lanes in order, the scalar tail), so the same bits. The one-row
     * loops below read one weight row start to end, then the next: one sequential stream per thread (see {@link #singleStream}).
     */
    private static void heapRowDot(float[] a, int k, float[] w, int wo, float[] c, int at, boolean accumulate) {
        int bound = k - k % L;
        FloatVector s = FloatVector.zero(S);
        for (int t = 0; t < bound; t += L) s = FloatVector.fromArray(S, w, wo + t).fma(FloatVector.fromArray(S, a, t), s);
        float d = VectorMath.sum(s);
        for (int t = bound; t < k; t++) d += a[t] * w[wo + t];
        c[at] = accumulate ? c[at] + d : d;
    }

    /**
     * {@link #heapRowDot} for the native F32 weight row at absolute address y (element i of b, for the scalar tail). The loop
     * runs on the address (a long) with the element index beside it: counted on an int with the address computed from it,
     * C2 left a check in every iteration and the loop read 9.3 GB/s on one thread against 15.1 (a probe, 2026-12-06); four
     * loads per int-counted iteration into the one accumulator read 10.4 GB/s in production, against 14.8 for the four-row
     * loop. (Compiled, this loop may take the JVM's SIGSEGV-based null check on the native segment's null base: harmless,
     * unless an OpenCL driver has replaced the JVM's signal handlers; see ClContext.warnWithoutSignalChaining.)
     */
    private static void f32RowDot(float[] a, int k, long y, StridedMatrix b, long i, float[] c, int at, boolean accumulate) {
        MemorySegment seg = NativeMemory.ALL;
        int bound = k - k % L;
        FloatVector s = FloatVector.zero(S);
        int t = 0;
        for (long p = y, end = y + ((long) bound << 2); p < end; p += 4L * L, t += L) {
            s = FloatVector.fromMemorySegment(S, seg, p, LE).fma(FloatVector.fromArray(S, a, t), s);
        }
        float d = VectorMath.sum(s);
        for (int q = bound; q < k; q++) d += a[q] * b.at(i + q);
        c[at] = accumulate ? c[at] + d : d;
    }

    /**
     * {@link #heapRowDot} for a heap BF16 weight row at w[wo ..], widened in registers: the values and the order of the
     * widened scratch that other rows go through, so the same bits.
     */
    private static void bf16HeapRowDot(float[] a, int k, short[] w, int wo, float[] c, int at, boolean accumulate) {
        int bound = k - k % L;
        FloatVector s = FloatVector.zero(S);
        for (int t = 0; t < bound; t += L) s = HalfVectors.bf16(w, wo + t).fma(FloatVector.fromArray(S, a, t), s);
        float d = VectorMath.sum(s);
        for (int t = bound; t < k; t++) d += a[t] * Half.bf16ToFloat(w[wo + t]);
        c[at] = accumulate ? c[at] + d : d;
    }

    /** {@link #f32RowDot} for a native BF16 weight row, widened in registers. */
    private static void bf16RowDot(float[] a, int k, long y, StridedMatrix b, long i, float[] c, int at, boolean accumulate) {
        MemorySegment seg = NativeMemory.ALL;
        int bound = k - k % L;
        FloatVector s = FloatVector.zero(S);
        int t = 0;
        for (long p = y, end = y + ((long) bound << 1); p < end; p += 2L * L, t += L) s = HalfVectors.bf16(seg, p).fma(FloatVector.fromArray(S, a, t), s);
        float d = VectorMath.sum(s);
        for (int q = bound; q < k; q++) d += a[q] * b.at(i + q);
        c[at] = accumulate ? c[at] + d : d;
    }

    /**
     * {@link #dots} for rows of A against F32 or BF16 weight rows in native memory (a mapped checkpoint, an arena): the
     * loops of {@link #dotsF32Segment} and {@link #dotsBf16Segment} (same sums in the same order, so the same bits), and
     * their row blocks of four and more rows ({@link RowBlockDots#segment}, absolute), loading at the rows' checked
     * absolute addresses through {@link NativeMemory#ALL}, a segment of exact class (why: see there), after one bounds and
     * liveness check for all the rows. Element i of b is at native address {@code address} + (i − lo)·(4 or 2 bytes).
     */
    private static void dotsNative(float[] a, int m, int k, StridedMatrix b, float[] c, int co, int ldc, int j0, int j1,
                                   boolean accumulate) {
        long first = b.index(0, j0), last = b.index(0, j1 - 1);
        long lo = Math.min(first, last), elements = Math.max(first, last) + k - lo;
        int shift = b.dtype() == DType.F32 ? 2 : 1;
        long address = NativeMemory.address(b.segment(), lo << shift, elements << shift);
        boolean bf16 = shift == 1;
        if (m == 1 && oneRowAtATime()) {
            for (int j = j0; j < j1; j++) {
                long i = b.index(0, j), y = address + ((i - lo) << shift);
                if (bf16) bf16RowDot(a, k, y, b, i, c, co + j, accumulate);
                else f32RowDot(a, k, y, b, i, c, co + j, accumulate);
            }
            return;
        }
        for (int j = j0; j < j1; j += 4) {
            int rows = Math.min(4, j1 - j);
            long i0 = b.index(0, j), i1 = b.index(0, j + Math.min(1, rows - 1));
            long i2 = b.index(0, j + Math.min(2, rows - 1)), i3 = b.index(0, j + Math.min(3, rows - 1));
            long y0 = address + ((i0 - lo) << shift), y1 = address + ((i1 - lo) << shift), y2 = address + ((i2 - lo) << shift),
                    y3 = address + ((i3 - lo) << shift);
            int r = m / 4 * 4;
            if (r > 0) RowBlockDots.segment(a, m, k, b, bf16, true, i0, i1, i2, i3, c, co + j, ldc, rows, accumulate);
            for (; r < m; r++) {
                if (bf16) bf16RowDots(a, r * k, k, y0, y1, y2, y3, b, i0, i1, i2, i3, c, co + r * ldc + j, rows, accumulate);
                else f32RowDots(a, r * k, k, y0, y1, y2, y3, b, i0, i1, i2, i3, c, co + r * ldc + j, rows, accumulate);
            }
        }
    }

    /**
     * One row of A (at a[ao]) against four native F32 weight rows at absolute addresses y0..y3 (elements i0..i3 of b, for
     * the scalar tail): the one-row loop of {@link #dotsNative} for F32 weights, in a method of its own so that C2 compiles it with the
     * profile of the calls that reach it. Inline in its caller it shared the caller's profile, in which a prefill's calls
     * (whose rows all go to the row blocks) outnumber a decode's: C2 then judged the lane sums cold, left them as calls and
     * boxed the four accumulators for every group of four weight rows (decode of a BF16 1.1B model: 46–63 MB of garbage and
     * a young collection per token; bench/RESULTS.md, twelfth session).
     */
    private static void f32RowDots(float[] a, int ao, int k, long y0, long y1, long y2, long y3, StridedMatrix b, long i0,
                                   long i1, long i2, long i3, float[] c, int at, int rows, boolean accumulate) {
        MemorySegment seg = NativeMemory.ALL;
        int bound = k - k % L;
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
        store(c, at, rows, accumulate, d0, d1, d2, d3);
    }

    /** {@link #f32RowDots} for BF16 weight rows, widened in registers. */
    private static void bf16RowDots(float[] a, int ao, int k, long y0, long y1, long y2, long y3, StridedMatrix b, long i0,
                                    long i1, long i2, long i3, float[] c, int at, int rows, boolean accumulate) {
        MemorySegment seg = NativeMemory.ALL;
        int bound = k - k % L;
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
        store(c, at, rows, accumulate, d0, d1, d2, d3);
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
            int r = m / 4 * 4;
            if (r > 0) RowBlockDots.segment(a, m, k, b, true, false, i0, i1, i2, i3, c, co + j, ldc, rows, accumulate);
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
            int r = m / 4 * 4;
            if (r > 0) RowBlockDots.segment(a, m, k, b, false, false, i0, i1, i2, i3, c, co + j, ldc, rows, accumulate);
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

    static void store(float[] c, int oc, int rows, boolean accumulate, float d0, float d1, float d2, float d3) {
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
