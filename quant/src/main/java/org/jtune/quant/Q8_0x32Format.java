package org.jtune.quant;

import static org.jtune.quant.QuantVectors.F16_BIAS;
import static org.jtune.quant.QuantVectors.LE;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.FloatGroupCodec;
import org.jtune.tensor.Tensor;

/**
 * Q8_0 weights repacked on load (jtune's in-memory layout; files keep ggml's {@link Q8_0Format} rows): the rows in groups
 * of 32, and per group and block of 32 columns 1088 bytes, as many as ggml's 32 blocks: the 32 rows' F16 scales d as 16
 * little-endian 32-bit words, word t holding row t's in its low half and row t + 16's in its high half (one 512-bit load
 * widens them to two F32 vectors of 16 rows, exactly, as in {@link Q4_0x32Format}), then 32 columns of 32 bytes, byte r
 * of column j being row r's code j; w = q·d as in Q8_0.
 *
 * <p>Why: ggml's rows are multiplied one row at a time, each block of 32 codes widened to two F32 vectors, multiplied by
 * the activations and summed across lanes at the end of the row, and on AVX-512 that kernel is bound by its instructions
 * (a 600 KB matrix in L2: 19 GB/s on one thread, 2026-12-06), not by memory. Here a column of codes of 32 rows widens to
 * two vectors that a broadcast activation multiplies, the block's sums are scaled by the 32 rows' scales once per block,
 * and four activation rows share each widening: 1.2–1.3 × the weights per second in cache (bench/RESULTS.md). A prefill
 * (≥ 32 activation rows) widens each column once into a float panel that all its rows use ({@link #panelGroups}).
 *
 * <p>The product ({@link #multiplyGroups}) takes F32 activations as they are (no 8-bit activation codes): out =
 * Σ_b d_b·(Σ_{k∈b} q_k·x_k), the inner sum over k in order with one fused multiply-add per step, then one per block; the
 * scalar {@link #dot} is the same sum, and each output depends only on its row and its activation row. A scale that is
 * Inf or NaN has no such widening: a matrix holding one keeps ggml's rows. On with 16 F32 lanes (AVX-512) or 8 (AVX2:
 * {@link Q8_0x32Lanes8}, the same bits) and {@link QuantVectors#ENABLED}; {@code -Djtune.q8_0.interleave=false} keeps
 * ggml's rows and their kernel.
 */
public final class Q8_0x32Format implements FloatGroupCodec {
    public static final Q8_0x32Format INSTANCE = new Q8_0x32Format();
    /** Whether Q8_0 matrices of whole groups of rows are repacked into this layout when loaded or quantized. */
    public static final boolean ENABLED = QuantVectors.ENABLED && (QuantVectors.L == 16 || QuantVectors.L == 8)
            && !"false".equals(System.getProperty("jtune.q8_0.interleave"));
    private static final int QK = 32;
    /** The layout's bytes, shared with the other scale-and-codes format ({@link ScaledBlockGroups}). */
    private static final ScaledBlockGroups LAYOUT = new ScaledBlockGroups("q8_0x32", "Q8_0", 32);
    /** Bytes of one group's block: 32 F16 scales, then the columns of codes. */
    static final int BLOCK_BYTES = LAYOUT.blockBytes();
    private static final int CODES = ScaledBlockGroups.CODES;
    /** Activation rows from which a product widens its codes into a float panel first ({@link #panelGroups}; at 16 rows it was slower). */
    static final int PANEL_MIN_ROWS = 32;
    /** Blocks per panel: 8 × 32 columns × 32 rows of floats, 32 KiB (4 and 2 blocks measured slower, 16 and 32 the same). */
    static final int PANEL_BLOCKS = 8;
    /** Each thread's panel: the widened codes and scales (a prefill calls the product for every piece of every matrix). */
    private static final ThreadLocal<float[][]> PANEL =
            ThreadLocal.withInitial(() -> new float[][] {new float[PANEL_BLOCKS * QK * GROUP], new float[PANEL_BLOCKS * GROUP]});
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;

    private Q8_0x32Format() {}

    @Override
    public String name() {
        return "q8_0x32";
    }

    @Override
    public int blockSize() {
        return QK;
    }

    @Override
    public long rowBytes(int cols) {
        return LAYOUT.rowBytes(cols);
    }

    // ---- layout ----------------------------------------------------------------------------------

    /** A new native matrix in this layout holding the (rows, cols) ggml Q8_0 rows at plain[off ..]; null when a scale is Inf or NaN. */
    public static MemorySegment interleave(MemorySegment plain, long off, int rows, int cols) {
        return LAYOUT.interleave(plain, off, rows, cols);
    }

    /** The ggml Q8_0 rows of a (rows, cols) matrix of this layout at w[off ..] (what files hold), on the heap. */
    public static MemorySegment plain(MemorySegment w, long off, int rows, int cols) {
        return LAYOUT.plain(w, off, rows, cols);
    }

    /** t in this layout when it is a whole Q8_0 matrix of whole groups of rows and {@link #ENABLED}, else t ({@link RowGroupFormats#repack}). */
    public static Tensor repacked(Tensor t) {
        return RowGroupFormats.repack(t, Q8_0Format.INSTANCE, INSTANCE, ENABLED, Q8_0x32Format::interleave);
    }

    /** A whole matrix of this layout as ggml Q8_0 rows (for writing files); any other tensor unchanged. */
    public static Tensor unpacked(Tensor t) {
        return RowGroupFormats.unpack(t, INSTANCE, Q8_0Format.INSTANCE, Q8_0x32Format::plain);
    }

    /** Byte of row r's F16 scale within its group's block: word r mod 16, half r / 16. */
    private static int scaleByte(int r) {
        return ScaledBlockGroups.scaleByte(r);
    }

    // ---- row primitives (loads, tests, the input gradient): one row gathered from its group ------------

    /** The row quantized by ggml's Q8_0 quantizer into its group; a non-finite value (an Inf or NaN scale) is refused. */
    @Override
    public void encodeRow(float[] src, int srcOff, int cols, MemorySegment dst, long dstOff) {
        MemorySegment row = MemorySegment.ofArray(new byte[Math.toIntExact(LAYOUT.rowBytes(cols))]);
        Q8_0Format.INSTANCE.quantizeRow(src, srcOff, row, 0, cols);
        LAYOUT.place(row, cols, dst, dstOff);
    }

    /** q·d per weight: the floats of {@link Q8_0Format#dequantizeRow}. */
    @Override
    public void dequantize(MemorySegment w, long rowOff, int cols, int from, int n, float[] dst, int dstOff) {
        long rb = rowBytes(cols);
        int lane = RowGroupFormats.lane(rowOff, rb);
        for (int b = from / QK; b < (from + n + QK - 1) / QK; b++) {
            long o = RowGroupFormats.blockOffset(rowOff, rb, b, BLOCK_BYTES);
            float d = Float.float16ToFloat(w.get(QuantVectors.SHORT, o + scaleByte(lane)));
            int y = dstOff + b * QK - from;
            for (int j = 0; j < QK && b * QK + j < from + n; j++) dst[y + j] = w.get(ValueLayout.JAVA_BYTE, o + CODES + 32L * j + lane) * d;
        }
    }

    /** Σ_b d_b·(Σ_{k∈b} q_k·x_k), each sum in order with one fused multiply-add per step: the bits of {@link #multiplyGroups}. */
    @Override
    public float dot(MemorySegment w, long rowOff, int cols, float[] x, int xOff) {
        long rb = rowBytes(cols);
        int lane = RowGroupFormats.lane(rowOff, rb);
        float acc = 0f;
        for (int b = 0; b < cols / QK; b++) {
            long o = RowGroupFormats.blockOffset(rowOff, rb, b, BLOCK_BYTES);
            float s = 0f;
            for (int j = 0; j < QK; j++) s = Math.fma((float) w.get(ValueLayout.JAVA_BYTE, o + CODES + 32L * j + lane), x[xOff + b * QK + j], s);
            acc = Math.fma(s, Float.float16ToFloat(w.get(QuantVectors.SHORT, o + scaleByte(lane))), acc);
        }
        return acc;
    }

    // ---- the product --------------------------------------------------------------------------------

    @Override
    public void multiplyGroups(MemorySegment w, long offset, int g0, int g1, int cols, float[] x, int xOff, int m, float[] out, int outOff, int outStride) {
        if (g1 <= g0 || m <= 0) return;
        int blocks = cols / QK;
        long groupBytes = (long) blocks * BLOCK_BYTES;
        MemorySegment seg = QuantVectors.nativeRows(w, offset + g0 * groupBytes, (g1 - g0) * groupBytes);
        long base = QuantVectors.checkedAddress(seg, seg == w ? offset + g0 * groupBytes : 0, (g1 - g0) * groupBytes);
        java.util.Objects.checkFromIndexSize(xOff, (long) m * cols, x.length);
        java.util.Objects.checkFromIndexSize(outOff + (long) (m - 1) * outStride + (long) g0 * GROUP, (long) (g1 - g0) * GROUP, out.length);
        if (QuantVectors.L == 8) Q8_0x32Lanes8.multiply(base, g0, g1, blocks, x, xOff, m, out, outOff, outStride);
        else multiply512(base, g0, g1, blocks, x, xOff, cols, m, out, outOff, outStride);
        java.lang.ref.Reference.reachabilityFence(w);   // read by address above: w must outlive the kernel
    }

    /**
     * The 512-bit kernel on groups [g0, g1) at address base (group g0), every row of x; it runs on any machine (the Vector
     * API computes vectors wider than the hardware's in Java, slowly), so tests compare it with {@link Q8_0x32Lanes8} on AVX2.
     */
    static void multiply512(long base, int g0, int g1, int blocks, float[] x, int xOff, int cols, int m, float[] out, int outOff, int outStride) {
        long groupBytes = (long) blocks * BLOCK_BYTES;
        if (m >= PANEL_MIN_ROWS) {
            panelGroups(base, g0, g1, blocks, x, xOff, cols, m, out, outOff, outStride);
            return;
        }
        for (int g = g0; g < g1; g++) {
            long group = base + (g - g0) * groupBytes;
            int i = 0;
            for (; i + 3 < m; i += 4) rows4(group, blocks, x, xOff + i * cols, cols, out, outOff + i * outStride + g * GROUP, outStride);
            for (; i < m; i++) row1(group, blocks, x, xOff + i * cols, out, outOff + i * outStride + g * GROUP);
        }
    }

    /**
     * {@link #multiplyGroups} for many activation rows (a prefill): per group, the codes and scales of {@value #PANEL_BLOCKS}
     * blocks at a time widened once into a 32 KiB panel of floats, then every activation row multiplied with it four at a
     * time, the outputs' running sums kept in {@code out} between panels. {@link #rows4} widens a column (four operations)
     * for every eight FMAs of its four rows; from the panel the FMAs and two loads remain. Each output is the same operation sequence as
     * {@link #row1}'s (a float stored and loaded back is exact), so the bits do not depend on m.
     */
    private static void panelGroups(long base, int g0, int g1, int blocks, float[] x, int xOff, int cols, int m, float[] out, int outOff, int outStride) {
        float[][] panel = PANEL.get();
        float[] codes = panel[0], scales = panel[1];
        long groupBytes = (long) blocks * BLOCK_BYTES;
        for (int g = g0; g < g1; g++) {
            long group = base + (g - g0) * groupBytes;
            for (int b0 = 0; b0 < blocks; b0 += PANEL_BLOCKS) {
                int nb = Math.min(PANEL_BLOCKS, blocks - b0);
                widen(group + (long) b0 * BLOCK_BYTES, nb, codes, scales);
                int i = 0;
                for (; i + 3 < m; i += 4) {
                    panelRows4(codes, scales, nb, b0 == 0, x, xOff + i * cols + b0 * QK, cols, out, outOff + i * outStride + g * GROUP, outStride);
                }
                for (; i < m; i++) panelRow1(codes, scales, nb, b0 == 0, x, xOff + i * cols + b0 * QK, out, outOff + i * outStride + g * GROUP);
            }
        }
    }

    /** nb blocks of one group at c: codes[(b·32 + j)·32 + r] = row r's code j of block b, scales[b·32 + r] = row r's d, as floats. */
    private static void widen(long c, int nb, float[] codes, float[] scales) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        for (int b = 0; b < nb; b++) {
            long blk = c + (long) b * BLOCK_BYTES;
            for (int j = 0; j < QK; j++) {
                long col = blk + CODES + 32L * j;
                int p = (b * QK + j) * GROUP;
                ((FloatVector) ByteVector.fromMemorySegment(B, mem, col, LE).convertShape(VectorOperators.B2F, F, 0)).intoArray(codes, p);
                ((FloatVector) ByteVector.fromMemorySegment(B, mem, col + 16, LE).convertShape(VectorOperators.B2F, F, 0)).intoArray(codes, p + 16);
            }
            IntVector h = IntVector.fromMemorySegment(I, mem, blk, LE);      // row1's widening, written out as there
            h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats().intoArray(scales, b * GROUP);
            h.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.and(0x80000000)).reinterpretAsFloats().intoArray(scales, b * GROUP + 16);
        }
    }

    /** {@link #row1} over one panel of nb blocks: out[o .. o + 32) starts from zero on the first panel, else from what it holds. */
    private static void panelRow1(float[] codes, float[] scales, int nb, boolean first, float[] x, int xo, float[] out, int o) {
        FloatVector f0 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, out, o);
        FloatVector f1 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, out, o + 16);
        for (int b = 0; b < nb; b++) {
            int k = xo + b * QK;
            FloatVector s0 = FloatVector.zero(F), s1 = s0;
            for (int j = 0; j < QK; j++) {
                int p = (b * QK + j) * GROUP;
                FloatVector a = FloatVector.broadcast(F, x[k + j]);
                s0 = FloatVector.fromArray(F, codes, p).fma(a, s0);
                s1 = FloatVector.fromArray(F, codes, p + 16).fma(a, s1);
            }
            f0 = s0.fma(FloatVector.fromArray(F, scales, b * GROUP), f0);
            f1 = s1.fma(FloatVector.fromArray(F, scales, b * GROUP + 16), f1);
        }
        f0.intoArray(out, o);
        f1.intoArray(out, o + 16);
    }

    /** {@link #rows4} over one panel of nb blocks, the running sums taken from out after the first panel. */
    private static void panelRows4(float[] codes, float[] scales, int nb, boolean first, float[] x, int xo, int cols, float[] out, int o, int stride) {
        FloatVector f00, f01, f10, f11, f20, f21, f30, f31;
        if (first) {
            f00 = FloatVector.zero(F); f01 = f00; f10 = f00; f11 = f00; f20 = f00; f21 = f00; f30 = f00; f31 = f00;
        } else {
            f00 = FloatVector.fromArray(F, out, o);
            f01 = FloatVector.fromArray(F, out, o + 16);
            f10 = FloatVector.fromArray(F, out, o + stride);
            f11 = FloatVector.fromArray(F, out, o + stride + 16);
            f20 = FloatVector.fromArray(F, out, o + 2 * stride);
            f21 = FloatVector.fromArray(F, out, o + 2 * stride + 16);
            f30 = FloatVector.fromArray(F, out, o + 3 * stride);
            f31 = FloatVector.fromArray(F, out, o + 3 * stride + 16);
        }
        for (int b = 0; b < nb; b++) {
            int k = xo + b * QK;
            FloatVector s00 = FloatVector.zero(F), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            for (int j = 0; j < QK; j++) {
                int p = (b * QK + j) * GROUP;
                FloatVector v0 = FloatVector.fromArray(F, codes, p), v1 = FloatVector.fromArray(F, codes, p + 16);
                FloatVector a = FloatVector.broadcast(F, x[k + j]);
                s00 = v0.fma(a, s00);
                s01 = v1.fma(a, s01);
                a = FloatVector.broadcast(F, x[k + cols + j]);
                s10 = v0.fma(a, s10);
                s11 = v1.fma(a, s11);
                a = FloatVector.broadcast(F, x[k + 2 * cols + j]);
                s20 = v0.fma(a, s20);
                s21 = v1.fma(a, s21);
                a = FloatVector.broadcast(F, x[k + 3 * cols + j]);
                s30 = v0.fma(a, s30);
                s31 = v1.fma(a, s31);
            }
            FloatVector d0 = FloatVector.fromArray(F, scales, b * GROUP), d1 = FloatVector.fromArray(F, scales, b * GROUP + 16);
            f00 = s00.fma(d0, f00);
            f01 = s01.fma(d1, f01);
            f10 = s10.fma(d0, f10);
            f11 = s11.fma(d1, f11);
            f20 = s20.fma(d0, f20);
            f21 = s21.fma(d1, f21);
            f30 = s30.fma(d0, f30);
            f31 = s31.fma(d1, f31);
        }
        f00.intoArray(out, o);
        f01.intoArray(out, o + 16);
        f10.intoArray(out, o + stride);
        f11.intoArray(out, o + stride + 16);
        f20.intoArray(out, o + 2 * stride);
        f21.intoArray(out, o + 2 * stride + 16);
        f30.intoArray(out, o + 3 * stride);
        f31.intoArray(out, o + 3 * stride + 16);
    }

    /** One activation row (at x[xo ..]) times one group: out[o .. o + 32). */
    private static void row1(long group, int blocks, float[] x, int xo, float[] out, int o) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        FloatVector f0 = FloatVector.zero(F), f1 = f0;
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES;
            int k = xo + b * QK;
            FloatVector s0 = FloatVector.zero(F), s1 = s0;
            for (int j = 0; j < QK; j++) {
                long col = c + CODES + 32L * j;
                FloatVector v0 = (FloatVector) ByteVector.fromMemorySegment(B, mem, col, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector v1 = (FloatVector) ByteVector.fromMemorySegment(B, mem, col + 16, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector a = FloatVector.broadcast(F, x[k + j]);
                s0 = v0.fma(a, s0);
                s1 = v1.fma(a, s1);
            }
            // the 32 F16 scales widened (magnitude bits into F32's place, times 2^112, sign OR-ed back; exact for finite
            // values), written out as in Q4_0x32Format's kernels
            IntVector h = IntVector.fromMemorySegment(I, mem, c, LE);
            FloatVector d0 = h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector d1 = h.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.and(0x80000000)).reinterpretAsFloats();
            f0 = s0.fma(d0, f0);
            f1 = s1.fma(d1, f1);
        }
        f0.intoArray(out, o);
        f1.intoArray(out, o + 16);
    }

    /** Four activation rows (at x[xo ..], {@code cols} apart) times one group: {@link #row1}'s outputs, each column of codes widened once. */
    private static void rows4(long group, int blocks, float[] x, int xo, int cols, float[] out, int o, int stride) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        FloatVector f00 = FloatVector.zero(F), f01 = f00, f10 = f00, f11 = f00, f20 = f00, f21 = f00, f30 = f00, f31 = f00;
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES;
            int k = xo + b * QK;
            FloatVector s00 = FloatVector.zero(F), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            for (int j = 0; j < QK; j++) {
                long col = c + CODES + 32L * j;
                FloatVector v0 = (FloatVector) ByteVector.fromMemorySegment(B, mem, col, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector v1 = (FloatVector) ByteVector.fromMemorySegment(B, mem, col + 16, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector a = FloatVector.broadcast(F, x[k + j]);
                s00 = v0.fma(a, s00);
                s01 = v1.fma(a, s01);
                a = FloatVector.broadcast(F, x[k + cols + j]);
                s10 = v0.fma(a, s10);
                s11 = v1.fma(a, s11);
                a = FloatVector.broadcast(F, x[k + 2 * cols + j]);
                s20 = v0.fma(a, s20);
                s21 = v1.fma(a, s21);
                a = FloatVector.broadcast(F, x[k + 3 * cols + j]);
                s30 = v0.fma(a, s30);
                s31 = v1.fma(a, s31);
            }
            IntVector h = IntVector.fromMemorySegment(I, mem, c, LE);        // row1's widening, written out as there
            FloatVector d0 = h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector d1 = h.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.and(0x80000000)).reinterpretAsFloats();
            f00 = s00.fma(d0, f00);
            f01 = s01.fma(d1, f01);
            f10 = s10.fma(d0, f10);
            f11 = s11.fma(d1, f11);
            f20 = s20.fma(d0, f20);
            f21 = s21.fma(d1, f21);
            f30 = s30.fma(d0, f30);
            f31 = s31.fma(d1, f31);
        }
        f00.intoArray(out, o);
        f01.intoArray(out, o + 16);
        f10.intoArray(out, o + stride);
        f11.intoArray(out, o + stride + 16);
        f20.intoArray(out, o + 2 * stride);
        f21.intoArray(out, o + 2 * stride + 16);
        f30.intoArray(out, o + 3 * stride);
        f31.intoArray(out, o + 3 * stride + 16);
    }
}
