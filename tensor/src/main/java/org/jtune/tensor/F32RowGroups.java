package org.jtune.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * F32 weights repacked for serving (jtune's in-memory layout, never a file format): the rows in groups of
 * {@value #GROUP}, each group stored column by column, so that column k of a group is 32 consecutive floats (row r of the
 * group at float {@code 32·k + r}) and a group of a (rows, cols) matrix is one run of {@code 128·cols} bytes. A product
 * with activation rows is then an outer product per column — a broadcast activation times two vectors of weights, no
 * horizontal sums — and a batch of up to 16 sequences runs the GEMM's register tile straight from the weights as they
 * stream from memory, each group one sequential stream ({@code cpu/F32GroupProducts}; the row-major weights are read by
 * dot products of four weight rows at a time for a batch and by one row at a time for one sequence).
 *
 * <p>Every output of a product is Σ_k w[r, k]·x[k] summed in the order k = 0, 1, … with one fused multiply-add per
 * step ({@link #dot} is that sum): the same bits for a sequence alone or in any batch and on any thread count. As a
 * {@link DType#BLOCK} codec its rows are not self-contained (as {@link RowGroupCodec}'s): a matrix has a multiple of 32
 * rows and starts at byte 0 of its memory, and the row primitives find a row from its offset {@code row · rowBytes}.
 */
public final class F32RowGroups implements BlockCodec {
    public static final F32RowGroups INSTANCE = new F32RowGroups();
    public static final int GROUP = 32;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private F32RowGroups() {}

    @Override
    public String name() {
        return "f32x32";
    }

    @Override
    public int blockSize() {
        return 1;
    }

    @Override
    public long rowBytes(int cols) {
        return 4L * cols;
    }

    /**
     * Whether repacking F32 weights into this layout pays on this machine: its products need 16 F32 lanes (AVX-512) and are
     * on unless {@code -Djtune.f32x32=false}.
     */
    public static boolean worthPacking() {
        return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() == 16 && !"false".equals(System.getProperty("jtune.f32x32"));
    }

    /** Whether a (rows, cols) matrix can take this layout: whole groups of rows, and at least one column. */
    public static boolean fits(int rows, int cols) {
        return rows > 0 && rows % GROUP == 0 && cols > 0;
    }

    /**
     * A new native (rows, cols) matrix of this layout holding the values of {@code t}, a floating (rows, cols) matrix of any
     * strides and dtype that {@link #fits}; groups converted in parallel.
     */
    public static Tensor interleaved(Tensor t) {
        if (t.rank() != 2 || !t.dtype().isFloating() || !fits(t.size(0), t.size(1))) {
            throw new IllegalArgumentException("f32x32: cannot interleave " + t + ": need a floating matrix of whole groups of " + GROUP + " rows");
        }
        int rows = t.size(0), cols = t.size(1);
        long groupFloats = (long) GROUP * cols;
        if (groupFloats > Integer.MAX_VALUE / 2) throw new IllegalArgumentException("f32x32: rows of " + cols + " columns are too long");
        MemorySegment out = Arena.ofAuto().allocate(rows * 4L * cols, 64);
        Parallel.forRange(rows / GROUP, 1, (g0, g1) -> {
            float[] dst = new float[(int) groupFloats];
            for (int g = g0; g < g1; g++) {
                Tensor rowsF32 = t.narrow(0, g * GROUP, GROUP).to(DType.F32);   // itself when a contiguous heap F32 view
                float[] src = rowsF32.storage().floatArray();
                int base = (int) rowsF32.offset();
                for (int r = 0; r < GROUP; r++) {
                    int s = base + r * cols;
                    for (int k = 0; k < cols; k++) dst[k * GROUP + r] = src[s + k];
                }
                MemorySegment.copy(dst, 0, out, FLOAT, g * groupFloats * 4, dst.length);
            }
        });
        return Tensor.blockQuantized(INSTANCE, out, rows, cols);
    }

    /** The plain row-major F32 (rows, cols) matrix of a whole matrix of this layout (for writing files); any other tensor unchanged. */
    public static Tensor plain(Tensor t) {
        if (t.dtype() != DType.BLOCK || t.blockCodec() != INSTANCE) return t;
        if (t.rank() != 2 || t.offset() != 0 || !t.isContiguous()) throw new IllegalArgumentException("a view of an f32x32 matrix cannot be unpacked");
        int rows = t.size(0), cols = t.size(1);
        float[] all = new float[Math.multiplyExact(rows, cols)];
        MemorySegment w = t.storage().segment();
        Parallel.forRange(rows, 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) INSTANCE.dequantize(w, r * 4L * cols, cols, 0, cols, all, r * cols);
        });
        return Tensor.of(all, rows, cols);
    }

    /** Byte offset of element (row at rowOff, column k): the row's group, then column k's run of 32, then the row's lane. */
    private static long at(long rowOff, int cols, int k) {
        long rb = 4L * cols;
        long lane = rowOff / rb % GROUP;
        return rowOff - lane * rb + (GROUP * (long) k + lane) * 4;
    }

    @Override
    public void encodeRow(float[] src, int srcOff, int cols, MemorySegment dst, long dstOff) {
        for (int k = 0; k < cols; k++) dst.set(FLOAT, at(dstOff, cols, k), src[srcOff + k]);
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, int cols, int from, int n, float[] dst, int dstOff) {
        long o = at(rowOff, cols, from);
        for (int k = 0; k < n; k++, o += 4L * GROUP) dst[dstOff + k] = w.get(FLOAT, o);
    }

    /** Σ_k w[k]·x[xOff + k], k = 0, 1, … with one fused multiply-add per step: the products' order and bits. */
    @Override
    public float dot(MemorySegment w, long rowOff, int cols, float[] x, int xOff) {
        long o = at(rowOff, cols, 0);
        float acc = 0f;
        for (int k = 0; k < cols; k++, o += 4L * GROUP) acc = Math.fma(x[xOff + k], w.get(FLOAT, o), acc);
        return acc;
    }
}
