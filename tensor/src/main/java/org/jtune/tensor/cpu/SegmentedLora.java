package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.VectorMath;

/**
 * Segmented LoRA application on the CPU, the shrink/expand pair of Punica's SGMV (Chen et al. 2023) and
 * S-LoRA (Sheng et al. 2023): for every segment s (rows [starts[s], starts[s + 1]) of x (M, in), all of one
 * adapter) with A_s (r, in) and B_s (out, r) present, out rows += scale_s · (x rows · A_sᵀ) · B_sᵀ, in one
 * call over all segments. Segments whose A is null (the base model) cost nothing.
 *
 * <p>A work unit is up to {@link #ROWS_PER_UNIT} rows of one segment: it lays B_s out transposed (r, out) in
 * the thread's scratch (each of B's r columns becomes one contiguous row), computes each row's
 * h = scale · x·A_sᵀ (r dot products over in, {@link RowKernels#dot}), then adds h_i · Bᵀ_i into the
 * row of out for i = 0 … r − 1 with vector FMAs (a row's r·out products stream through L1, no reduction
 * per output). Small calls (a decode step of a small model) run on the calling thread; larger ones hand
 * the units to the pool ({@link Parallel#forClaimed}). Every row's arithmetic depends only on its own
 * values and the shapes, not on which rows share its segment, call or thread: a row gets the same bits
 * batched with others or alone. Warm calls allocate nothing (per-thread call object and scratch).
 */
final class SegmentedLora implements Parallel.RangeBody {
    static final int ROWS_PER_UNIT = 32;
    /** Multiply-adds below which a call stays on the calling thread (about 50 µs of work on one core). */
    static final long SERIAL_WORK = 1L << 18;
    private static final VectorSpecies<Float> S = HalfVectors.F;
    private static final int L = S.length();
    private static final ThreadLocal<SegmentedLora> CALL = ThreadLocal.withInitial(SegmentedLora::new);
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Per-thread buffers, grown to the largest call seen: Bᵀ (r, out), one row of h (r), one packed row each of x, A and out. */
    private static final class Scratch {
        float[] bt = new float[0], h = new float[0], xRow = new float[0], aRow = new float[0], outRow = new float[0];

        float[] grow(float[] a, int n) {
            return a.length >= n ? a : new float[Math.max(n, a.length * 2)];
        }
    }

    // the call being run (set by apply, read by the pool's threads through run)
    private Tensor x, out;
    private int[] starts;
    private Tensor[] a, b;
    private float[] scale;
    private int segments;
    private int[] unitStart = new int[16]; // unitStart[s]: first unit of segment s; [segments]: unit count

    /** See the class comment. Arguments are checked by the caller (Ops.loraSegments). */
    static void apply(Tensor x, int[] starts, Tensor[] a, Tensor[] b, float[] scale, int segments, Tensor out) {
        SegmentedLora c = CALL.get();
        if (c.x != null) { // re-entered on this thread (cannot happen from the pool, which runs no nested calls): a fresh call
            c = new SegmentedLora();
        }
        c.x = x;
        c.out = out;
        c.starts = starts;
        c.a = a;
        c.b = b;
        c.scale = scale;
        c.segments = segments;
        try {
            c.run();
        } finally {
            c.x = c.out = null;
            c.a = c.b = null;
        }
    }

    private void run() {
        if (unitStart.length < segments + 1) unitStart = new int[Math.max(segments + 1, 2 * unitStart.length)];
        int units = 0;
        long work = 0;
        int in = x.size(1), cols = out.size(1);
        for (int s = 0; s < segments; s++) {
            unitStart[s] = units;
            int rows = starts[s + 1] - starts[s];
            if (a[s] == null || rows <= 0) continue;
            units += (rows + ROWS_PER_UNIT - 1) / ROWS_PER_UNIT;
            work += (long) rows * a[s].size(0) * (in + cols);
        }
        unitStart[segments] = units;
        if (units == 0) return;
        Parallel.forClaimed(units, work < SERIAL_WORK ? 1 : units, this);
    }

    /** Units [from, to). */
    @Override
    public void run(int from, int to) {
        Scratch sc = SCRATCH.get();
        int s = 0;
        for (int u = from; u < to; u++) {
            while (unitStart[s + 1] <= u) s++; // segments without units (no adapter, no rows) have none to claim
            int first = starts[s] + (u - unitStart[s]) * ROWS_PER_UNIT;
            int last = Math.min(starts[s + 1], first + ROWS_PER_UNIT);
            unit(sc, s, first, last);
        }
    }

    /** Rows [first, last) of segment s. F32 heap operands with unit column stride are read in place; others are packed row by row. */
    private void unit(Scratch sc, int s, int first, int last) {
        Tensor as = a[s];
        int in = x.size(1), r = as.size(0), cols = out.size(1);
        float f = scale[s];
        float[] bt = sc.bt = sc.grow(sc.bt, r * cols);
        transposeInto(b[s], bt);
        float[] h = sc.h = sc.grow(sc.h, r);
        float[] af = inPlace(as);
        StridedMatrix am = af == null ? StridedMatrix.of(as, 0) : null;
        if (af == null) sc.aRow = sc.grow(sc.aRow, in);
        float[] xf = inPlace(x);
        StridedMatrix xm = xf == null ? StridedMatrix.of(x, 0) : null;
        if (xf == null) sc.xRow = sc.grow(sc.xRow, in);
        float[] outHeap = heapF32(out);
        if (outHeap == null) sc.outRow = sc.grow(sc.outRow, cols);
        for (int row = first; row < last; row++) {
            float[] xs = xf;
            int xOff;
            if (xf == null) {
                readRow(xm, row, sc.xRow);
                xs = sc.xRow;
                xOff = 0;
            } else {
                xOff = (int) (x.offset() + row * x.stride(0));
            }
            int i = 0; // shrink: h_i = scale · x·A_i
            if (af != null) {
                int a0 = (int) as.offset(), ar = (int) as.stride(0);
                for (; i + 4 <= r; i += 4) dot4(xs, xOff, af, a0 + i * ar, ar, in, f, h, i);
                for (; i < r; i++) h[i] = f * RowKernels.dot(xs, xOff, af, a0 + i * ar, in);
            } else {
                for (; i < r; i++) {
                    readRow(am, i, sc.aRow);
                    h[i] = f * RowKernels.dot(xs, xOff, sc.aRow, 0, in);
                }
            }
            long outAt = out.offset() + (long) row * cols;
            float[] ys = outHeap != null ? outHeap : sc.outRow;
            int yOff = outHeap != null ? (int) outAt : 0;
            MemorySegment outSeg = out.storage().segment();
            if (outHeap == null) MemorySegment.copy(outSeg, ValueLayout.JAVA_FLOAT_UNALIGNED, outAt << 2, ys, 0, cols);
            for (i = 0; i < r; i++) expand(h[i], bt, i * cols, ys, yOff, cols); // expand: y += h_i · Bᵀ_i
            if (outHeap == null) MemorySegment.copy(ys, 0, outSeg, ValueLayout.JAVA_FLOAT_UNALIGNED, outAt << 2, cols);
        }
    }

    /** The heap float[] of a 2-D F32 tensor whose rows are runs of consecutive elements, else null. */
    private static float[] inPlace(Tensor t) {
        return t.dtype() == DType.F32 && (t.stride(1) == 1 || t.size(1) == 1) ? heapF32(t) : null;
    }

    /** The heap float[] behind t when its storage is a whole heap F32 array (element i at index i), else null. */
    private static float[] heapF32(Tensor t) {
        return t.storage().isHost() && t.storage().segment().address() == 0 ? t.storage().floatArray() : null;
    }

    /**
     * h[at + q] ← f · x·A_(row q) for the four rows of A starting at {@code a0} ({@code ar} apart): four independent
     * accumulators over the same x, each summed exactly as {@link RowKernels#dot} sums one (lanes by FMA, lanes in
     * order, then the tail in index order), so the bits are those of four separate dots.
     */
    private static void dot4(float[] x, int xOff, float[] a, int a0, int ar, int n, float f, float[] h, int at) {
        int k = 0;
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        if (n >= L) {
            FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
            for (int bound = S.loopBound(n); k < bound; k += L) {
                FloatVector xv = FloatVector.fromArray(S, x, xOff + k);
                c0 = FloatVector.fromArray(S, a, a0 + k).fma(xv, c0);
                c1 = FloatVector.fromArray(S, a, a0 + ar + k).fma(xv, c1);
                c2 = FloatVector.fromArray(S, a, a0 + 2 * ar + k).fma(xv, c2);
                c3 = FloatVector.fromArray(S, a, a0 + 3 * ar + k).fma(xv, c3);
            }
            s0 = VectorMath.sum(c0);
            s1 = VectorMath.sum(c1);
            s2 = VectorMath.sum(c2);
            s3 = VectorMath.sum(c3);
        }
        for (; k < n; k++) {
            float xk = x[xOff + k];
            s0 += xk * a[a0 + k];
            s1 += xk * a[a0 + ar + k];
            s2 += xk * a[a0 + 2 * ar + k];
            s3 += xk * a[a0 + 3 * ar + k];
        }
        h[at] = f * s0;
        h[at + 1] = f * s1;
        h[at + 2] = f * s2;
        h[at + 3] = f * s3;
    }

    /** y[yOff + j] ← fma(p, bt[btOff + j], y[yOff + j]) for j in [0, n); the tail uses the same fused rounding as the lanes. */
    private static void expand(float p, float[] bt, int btOff, float[] y, int yOff, int n) {
        int j = 0;
        FloatVector vp = FloatVector.broadcast(S, p);
        for (int bound = S.loopBound(n); j < bound; j += L) {
            FloatVector.fromArray(S, bt, btOff + j).fma(vp, FloatVector.fromArray(S, y, yOff + j)).intoArray(y, yOff + j);
        }
        for (; j < n; j++) y[yOff + j] = Math.fma(bt[btOff + j], p, y[yOff + j]);
    }

    /** dst[0 … cols) ← row {@code row} of m. */
    private static void readRow(StridedMatrix m, int row, float[] dst) {
        if (m.colStride() == 1) {
            m.readRun(m.index(row, 0), m.cols(), dst, 0);
            return;
        }
        for (int c = 0; c < m.cols(); c++) dst[c] = m.at(m.index(row, c));
    }

    /** bt (r, out) ← Bᵀ for B (out, r): bt[i·out + j] = B[j, i]. */
    private static void transposeInto(Tensor b, float[] bt) {
        int cols = b.size(0), r = b.size(1);
        float[] bf = b.dtype() == DType.F32 ? heapF32(b) : null;
        if (bf != null) {
            long rs = b.stride(0), cs = b.stride(1);
            int off = (int) b.offset();
            if (cs == 1 && rs == r) { // a whole (out, r) matrix, in blocks of 16 of its rows (16·r consecutive floats)
                // Row by row, the r writes of one row of B land `out` floats apart: at out = 2048 they fall in one L1
                // set and evict each other (3 ns per element); by blocks, each of bt's rows gets 16 consecutive writes.
                for (int jb = 0; jb < cols; jb += 16) {
                    int je = Math.min(cols, jb + 16);
                    for (int i = 0; i < r; i++) {
                        for (int j = jb, at = off + jb * r + i, to = i * cols; j < je; j++, at += r) bt[to + j] = bf[at];
                    }
                }
                return;
            }
            for (int j = 0; j < cols; j++) {
                long at = off + j * rs;
                for (int i = 0; i < r; i++) bt[i * cols + j] = bf[(int) (at + i * cs)];
            }
            return;
        }
        StridedMatrix bm = StridedMatrix.of(b, 0);
        for (int j = 0; j < cols; j++) for (int i = 0; i < r; i++) bt[i * cols + j] = bm.at(bm.index(j, i));
    }
}
