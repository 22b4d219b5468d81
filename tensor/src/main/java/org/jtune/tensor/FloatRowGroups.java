package org.jtune.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * F32 and BF16 weights repacked for serving (jtune's in-memory layouts, never a file format): the rows in groups of
 * {@value #GROUP}, each group stored column by column, so that column k of a group is one run of 32 values and a group of
 * a (rows, cols) matrix is one run of {@code 32 · cols} values. A product with activation rows is then an outer product
 * per column — a broadcast activation times two vectors of weights, no horizontal sums — and a batch of sequences runs
 * the GEMM's register tile straight from the weights as they stream from memory, each group one sequential stream
 * ({@code cpu/FloatGroupProducts}; row-major weights are read by dot products of four weight rows at a time for a batch).
 * In a run, F32 ({@link #F32}, "f32x32") holds row r at place r; BF16 ({@link #BF16}, "bf16x32") holds row r at place 2r
 * and row r + 16 at place 2r + 1 (r &lt; 16), so that one 512-bit load widens to rows 0–15 by a shift of each 32-bit word
 * and to rows 16–31 by a mask, exactly.
 *
 * <p>Every output of a product is Σ_k w[r, k]·x[k] summed in the order k = 0, 1, … with one fused multiply-add per
 * step ({@link #dot} is that sum): the same bits for a sequence alone or in any batch and on any thread count. As a
 * {@link DType#BLOCK} codec its rows are not self-contained (as {@link RowGroupCodec}'s): a matrix has a multiple of 32
 * rows and starts at byte 0 of its memory, and the row primitives find a row from its offset {@code row · rowBytes}.
 */
public final class FloatRowGroups implements BlockCodec {
    public static final FloatRowGroups F32 = new FloatRowGroups(DType.F32, "f32x32");
    public static final FloatRowGroups BF16 = new FloatRowGroups(DType.BF16, "bf16x32");
    public static final int GROUP = RowGroupCodec.GROUP;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;

    private final DType element;
    private final String name;
    /** Place of row r of a group within a column's run of 32 values: r for F32, {@link RowGroupCodec#pairedSlot} for BF16. */
    private final int[] places = new int[GROUP];

    private FloatRowGroups(DType element, String name) {
        this.element = element;
        this.name = name;
        for (int r = 0; r < GROUP; r++) places[r] = element == DType.F32 ? r : RowGroupCodec.pairedSlot(r);
    }

    /** The codec holding {@code dtype}'s values (F32 or BF16), or null for any other dtype. */
    public static FloatRowGroups of(DType dtype) {
        return dtype == DType.F32 ? F32 : dtype == DType.BF16 ? BF16 : null;
    }

    /** F32 or BF16: the values a matrix of this codec holds. */
    public DType element() {
        return element;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int blockSize() {
        return 1;
    }

    @Override
    public long rowBytes(int cols) {
        return (long) element.byteSize() * cols;
    }

    /**
     * Whether repacking weights into these layouts pays on this machine: their products have kernels for 16 F32 lanes
     * (AVX-512) and 8 (AVX2), and are on unless {@code -Djtune.rowGroups=false}.
     */
    public static boolean worthPacking() {
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        return (lanes == 16 || lanes == 8) && !"false".equals(System.getProperty("jtune.rowGroups"));
    }

    /** Whether a (rows, cols) matrix can take this layout: whole groups of rows, and at least one column. */
    public static boolean fits(int rows, int cols) {
        return rows > 0 && rows % GROUP == 0 && cols > 0;
    }

    /**
     * A new native (rows, cols) matrix of this layout holding the values of {@code t}, a floating (rows, cols) matrix of any
     * strides that {@link #fits} (rounded to BF16, to nearest even, for {@link #BF16}: exact for a BF16 source); groups
     * converted in parallel.
     */
    public Tensor interleaved(Tensor t) {
        if (t.rank() != 2 || !t.dtype().isFloating() || !fits(t.size(0), t.size(1))) {
            throw new IllegalArgumentException(name + ": cannot interleave " + t + ": need a floating matrix of whole groups of " + GROUP + " rows");
        }
        int rows = t.size(0), cols = t.size(1);
        long groupValues = (long) GROUP * cols;
        if (groupValues > Integer.MAX_VALUE / 2) throw new IllegalArgumentException(name + ": rows of " + cols + " columns are too long");
        MemorySegment out = NativeMemory.allocateLarge(rows * rowBytes(cols));   // huge pages where the OS gives them
        // a contiguous host source of this codec's dtype is read as raw values (no conversion); any other through F32
        boolean raw = t.dtype() == element && t.isContiguous() && t.storage().isHost();
        Parallel.forRange(rows / GROUP, 1, (g0, g1) -> {
            float[] src = element == DType.F32 || !raw ? new float[(int) groupValues] : null, dst = element == DType.F32 ? new float[(int) groupValues] : null;
            short[] bits = element == DType.BF16 && raw ? new short[(int) groupValues] : null, half = element == DType.BF16 ? new short[(int) groupValues] : null;
            for (int g = g0; g < g1; g++) {
                if (raw) {
                    long from = (t.offset() + (long) g * GROUP * cols) * element.byteSize();
                    if (src != null) MemorySegment.copy(t.storage().segment(), FLOAT, from, src, 0, src.length);
                    else MemorySegment.copy(t.storage().segment(), SHORT, from, bits, 0, bits.length);
                } else {
                    Tensor rowsF32 = t.narrow(0, g * GROUP, GROUP).to(DType.F32);
                    MemorySegment.copy(rowsF32.storage().segment(), FLOAT, rowsF32.offset() * 4, src, 0, src.length);
                }
                for (int r = 0; r < GROUP; r++) {   // row by row: reads in order, writes 32 values apart (the group stays in L2)
                    int p = places[r], i = r * cols;
                    if (dst != null) for (int k = 0; k < cols; k++) dst[k * GROUP + p] = src[i + k];
                    else if (bits != null) for (int k = 0; k < cols; k++) half[k * GROUP + p] = bits[i + k];
                    else for (int k = 0; k < cols; k++) half[k * GROUP + p] = Half.floatToBf16(src[i + k]);
                }
                long at = g * GROUP * rowBytes(cols);
                if (dst != null) MemorySegment.copy(dst, 0, out, FLOAT, at, dst.length);
                else MemorySegment.copy(half, 0, out, SHORT, at, half.length);
            }
        });
        return Tensor.blockQuantized(this, out, rows, cols);
    }

    /**
     * The plain row-major matrix (F32 or BF16, as held) of a whole matrix of either layout, for writing files; any other
     * tensor unchanged.
     */
    public static Tensor plain(Tensor t) {
        if (t.dtype() != DType.BLOCK || !(t.blockCodec() instanceof FloatRowGroups codec)) return t;
        if (t.rank() != 2 || t.offset() != 0 || !t.isContiguous()) throw new IllegalArgumentException("a view of an " + codec.name + " matrix cannot be unpacked");
        int rows = t.size(0), cols = t.size(1);
        float[] all = new float[Math.multiplyExact(rows, cols)];
        MemorySegment w = t.storage().segment();
        Parallel.forRange(rows, 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) codec.dequantize(w, r * codec.rowBytes(cols), cols, 0, cols, all, r * cols);
        });
        return Tensor.of(all, rows, cols).to(codec.element);
    }

    /** Byte offset of element (row at rowOff, column k): the row's group, then column k's run of 32, then the row's place. */
    private long at(long rowOff, int cols, int k) {
        long rb = rowBytes(cols);
        int lane = (int) (rowOff / rb % GROUP);
        return rowOff - lane * rb + ((long) GROUP * k + places[lane]) * element.byteSize();
    }

    private float get(MemorySegment w, long o) {
        return element == DType.F32 ? w.get(FLOAT, o) : Half.bf16ToFloat(w.get(SHORT, o));
    }

    @Override
    public void encodeRow(float[] src, int srcOff, int cols, MemorySegment dst, long dstOff) {
        for (int k = 0; k < cols; k++) {
            long o = at(dstOff, cols, k);
            if (element == DType.F32) dst.set(FLOAT, o, src[srcOff + k]);
            else dst.set(SHORT, o, Half.floatToBf16(src[srcOff + k]));
        }
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, int cols, int from, int n, float[] dst, int dstOff) {
        long o = at(rowOff, cols, from), step = (long) GROUP * element.byteSize();
        for (int k = 0; k < n; k++, o += step) dst[dstOff + k] = get(w, o);
    }

    /** Σ_k w[k]·x[xOff + k], k = 0, 1, … with one fused multiply-add per step: the products' order and bits. */
    @Override
    public float dot(MemorySegment w, long rowOff, int cols, float[] x, int xOff) {
        long o = at(rowOff, cols, 0), step = (long) GROUP * element.byteSize();
        float acc = 0f;
        for (int k = 0; k < cols; k++, o += step) acc = Math.fma(x[xOff + k], get(w, o), acc);
        return acc;
    }
}
