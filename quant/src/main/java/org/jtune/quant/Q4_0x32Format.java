package org.jtune.quant;

import static org.jtune.quant.QuantVectors.F16_BIAS;
import static org.jtune.quant.QuantVectors.LE;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.Q8Rows;
import org.jtune.tensor.RowGroupCodec;
import org.jtune.tensor.Tensor;

/**
 * Q4_0 weights repacked on load for integer products (jtune's in-memory layout; files keep ggml's {@link Q4_0Format}):
 * the rows in groups of 32, and per group and block of 32 columns 576 bytes, as many as ggml's 32 blocks: the 32 rows'
 * F16 scales d as 16 little-endian 32-bit words, word t holding row t's in its low half and row t + 16's in its high
 * half (so that one 512-bit load and a few integer operations widen them to two F32 vectors of 16 rows, exactly), then
 * 16 columns of 32 bytes, byte r of column j being row r's ggml byte j (low nibble: weight j of the block, high nibble:
 * weight j + 16), so w = (q − 8)·d as in Q4_0. A scale that is Inf or NaN has no such widening: a matrix holding one
 * keeps ggml's rows.
 *
 * <p>The product ({@link #multiplyGroups}) takes activations as 8-bit codes per 32-block ({@link Q8Rows}, ggml's Q8_0),
 * as llama.cpp multiplies Q4_0: per group, block and activation row, S = Σ_k q_k·a_k over the 16 columns in 16-bit lanes,
 * one lane per weight row (products of nibbles 0..15 with codes of at most 127 in magnitude, added with wrap-around),
 * minus 8·Σ_k a_k: the result, Σ_k (q_k − 8)·a_k, lies within ±8·127·32 = ±32512, so the 16-bit lanes hold it exactly
 * although the sum before the subtraction may wrap. Then out += float(S)·(d·d_a), two F32 vectors of 16 rows, blocks in
 * order. The Vector API has no 8-bit dot product instruction (vpdpbusd); 16-bit multiplies and adds of 32 lanes with no
 * horizontal sums are what it compiles well. The code bytes are zero-extended to 16 bits, so the high nibble is one
 * shift and the low one a mask.
 *
 * <p>On with 16 F32 lanes (AVX-512) or 8 (AVX2: {@link Q4_0x32Lanes8}, the same bits) and {@link QuantVectors#ENABLED};
 * {@code -Djtune.q4_0.interleave=false} keeps ggml's rows and their F32-activation kernel.
 */
public final class Q4_0x32Format implements RowGroupCodec {
    public static final Q4_0x32Format INSTANCE = new Q4_0x32Format();
    /** Whether Q4_0 matrices of whole groups of rows are repacked into this layout when loaded or quantized. */
    public static final boolean ENABLED = QuantVectors.ENABLED && (QuantVectors.L == 16 || QuantVectors.L == 8)
            && !"false".equals(System.getProperty("jtune.q4_0.interleave"));
    private static final int QK = 32;
    /** The layout's bytes, shared with the other scale-and-codes format ({@link ScaledBlockGroups}). */
    private static final ScaledBlockGroups LAYOUT = new ScaledBlockGroups("q4_0x32", "Q4_0", 16);
    /** Bytes of one group's block: 32 F16 scales, then the columns of codes. */
    static final int BLOCK_BYTES = LAYOUT.blockBytes();
    private static final int CODES = ScaledBlockGroups.CODES;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;

    private Q4_0x32Format() {}

    @Override
    public String name() {
        return "q4_0x32";
    }

    @Override
    public int blockSize() {
        return QK;
    }

    /** The 256-bit kernel multiplies the code bytes unmasked ({@link Q4_0x32Lanes8}). */
    @Override
    public boolean usesPairedCodes() {
        return QuantVectors.L == 8;
    }

    /** Activation codes per 32-block, as llama.cpp multiplies Q4_0 (block_q8_0). */
    @Override
    public int activationBlock() {
        return QK;
    }

    @Override
    public long rowBytes(int cols) {
        return LAYOUT.rowBytes(cols);
    }

    // ---- layout ----------------------------------------------------------------------------------

    /**
     * A new native matrix in this layout holding the (rows, cols) ggml Q4_0 rows at plain[off ..]; null when a scale is
     * Inf or NaN.
     */
    public static MemorySegment interleave(MemorySegment plain, long off, int rows, int cols) {
        return LAYOUT.interleave(plain, off, rows, cols);
    }

    /** The ggml Q4_0 rows of a (rows, cols) matrix of this layout at w[off ..] (what files hold), on the heap. */
    public static MemorySegment plain(MemorySegment w, long off, int rows, int cols) {
        return LAYOUT.plain(w, off, rows, cols);
    }

    /** t in this layout when it is a whole Q4_0 matrix of whole groups of rows and {@link #ENABLED}, else t ({@link RowGroupFormats#repack}). */
    public static Tensor repacked(Tensor t) {
        return RowGroupFormats.repack(t, Q4_0Format.INSTANCE, INSTANCE, ENABLED, Q4_0x32Format::interleave);
    }

    /** A whole matrix of this layout as ggml Q4_0 rows (for writing files); any other tensor unchanged. */
    public static Tensor unpacked(Tensor t) {
        return RowGroupFormats.unpack(t, INSTANCE, Q4_0Format.INSTANCE, Q4_0x32Format::plain);
    }

    /** Byte of row r's F16 scale within its group's block: word r mod 16, half r / 16. */
    private static int scaleByte(int r) {
        return ScaledBlockGroups.scaleByte(r);
    }

    // ---- row primitives (loads, tests, the input gradient): one row gathered from its group ------------

    /** The row quantized by ggml's Q4_0 quantizer into its group; a non-finite value (an Inf or NaN scale) is refused. */
    @Override
    public void encodeRow(float[] src, int srcOff, int cols, MemorySegment dst, long dstOff) {
        MemorySegment row = MemorySegment.ofArray(new byte[Math.toIntExact(LAYOUT.rowBytes(cols))]);
        Q4_0Format.INSTANCE.quantizeRow(src, srcOff, row, 0, cols);
        LAYOUT.place(row, cols, dst, dstOff);
    }

    /** (q − 8)·d per weight: the floats of {@link Q4_0Format#dequantizeRow}. */
    @Override
    public void dequantize(MemorySegment w, long rowOff, int cols, int from, int n, float[] dst, int dstOff) {
        long rb = rowBytes(cols);
        int lane = RowGroupFormats.lane(rowOff, rb);
        for (int b = from / QK; b < (from + n) / QK; b++) {
            long o = RowGroupFormats.blockOffset(rowOff, rb, b, BLOCK_BYTES);
            float d = Float.float16ToFloat(w.get(QuantVectors.SHORT, o + scaleByte(lane)));
            int y = dstOff + b * QK - from;
            for (int j = 0; j < 16; j++) {
                int q = w.get(ValueLayout.JAVA_BYTE, o + CODES + 32L * j + lane) & 0xff;
                dst[y + j] = ((q & 0x0F) - 8) * d;
                dst[y + j + 16] = ((q >>> 4) - 8) * d;
            }
        }
    }

    /** Σ_k w_k·x_k in F32 over the dequantized row (exact activations; the products use {@link #multiplyGroups}). */
    @Override
    public float dot(MemorySegment w, long rowOff, int cols, float[] x, int xOff) {
        float[] row = new float[cols];
        dequantize(w, rowOff, cols, 0, cols, row, 0);
        float acc = 0f;
        for (int k = 0; k < cols; k++) acc = Math.fma(row[k], x[xOff + k], acc);
        return acc;
    }

    // ---- the product --------------------------------------------------------------------------------

    @Override
    public void multiplyGroups(MemorySegment w, long offset, int g0, int g1, int cols, Q8Rows x, float[] out, int outOff, int outStride) {
        if (g1 <= g0) return;
        if (x.cols() != cols) throw new IllegalArgumentException("activations of " + x.cols() + " columns for a weight of " + cols);
        int m = x.rows(), blocks = cols / QK;
        long groupBytes = (long) blocks * BLOCK_BYTES;
        MemorySegment seg = QuantVectors.nativeRows(w, offset + g0 * groupBytes, (g1 - g0) * groupBytes);
        long base = QuantVectors.checkedAddress(seg, seg == w ? offset + g0 * groupBytes : 0, (g1 - g0) * groupBytes);
        if (m > 0) java.util.Objects.checkFromIndexSize(outOff + (long) (m - 1) * outStride + (long) g0 * GROUP, (long) (g1 - g0) * GROUP, out.length);
        if (QuantVectors.L == 8) Q4_0x32Lanes8.multiply(base, g0, g1, blocks, x, out, outOff, outStride);
        else multiply512(base, g0, g1, blocks, x, out, outOff, outStride);
        java.lang.ref.Reference.reachabilityFence(w);   // read by address above: w must outlive the kernel
    }

    /**
     * The 512-bit kernel on groups [g0, g1) at address base (group g0), every row of x; it runs on any machine (the Vector
     * API computes vectors wider than the hardware's in Java, slowly), so tests compare it with {@link Q4_0x32Lanes8} on AVX2.
     */
    static void multiply512(long base, int g0, int g1, int blocks, Q8Rows x, float[] out, int outOff, int outStride) {
        int m = x.rows(), i = 0;
        for (; i + 3 < m; i += 4) rows4(base, g0, g1, blocks, x, i, out, outOff + i * outStride, outStride);
        for (; i < m; i++) row1(base, g0, g1, blocks, x, i, out, outOff + i * outStride);
    }

    /**
     * One activation row times groups [g0, g1), group g0 at address base: row r's output at out[o + r]. The loop over the
     * groups is inside the kernel (as in {@link #rows4}), so that each compiles on its own and a caller's profile
     * (decode, then a prefill) cannot deoptimize it.
     */
    private static void row1(long base, int g0, int g1, int blocks, Q8Rows x, int i, float[] out, int o) {
        for (int g = g0; g < g1; g++) row1(base + (long) (g - g0) * blocks * BLOCK_BYTES, blocks, x, i, out, o + g * GROUP);
    }

    /** One activation row times one group: out[o .. o + 32). */
    private static void row1(long group, int blocks, Q8Rows x, int i, float[] out, int o) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        short[] a = x.codes();
        int xo = i * blocks * QK, so = i * blocks;
        FloatVector f0 = FloatVector.zero(F), f1 = f0;
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES;
            int k = xo + b * QK;
            ShortVector s = ShortVector.zero(S);
            for (int j = 0; j < 16; j++) {
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B, mem, c + CODES + 32 * j, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                s = s.add(v.and((short) 15).mul(a[k + j]));
                s = s.add(v.lanewise(VectorOperators.LSHR, 4).mul(a[k + j + 16]));
            }
            float da = x.scales()[so + b];
            s = s.sub((short) (8 * x.sums()[so + b]));
            // the 32 F16 scales widened (magnitude bits into F32's place, times 2^112, sign OR-ed back; exact for finite
            // values) and the 16-bit sums converted, written out: as small helper methods, C2 compiled this kernel ~1.5×
            // slower (in-process A/B, bench/RESULTS.md)
            IntVector h = IntVector.fromMemorySegment(I, mem, c, LE);
            FloatVector d0 = h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector d1 = h.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.and(0x80000000)).reinterpretAsFloats();
            FloatVector s0 = (FloatVector) ((IntVector) s.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0);
            FloatVector s1 = (FloatVector) ((IntVector) s.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0);
            f0 = s0.fma(d0.mul(da), f0);
            f1 = s1.fma(d1.mul(da), f1);
        }
        f0.intoArray(out, o);
        f1.intoArray(out, o + 16);
    }

    /** Four activation rows (i to i + 3) times groups [g0, g1): {@link #row1}'s outputs, each column of codes decoded once. */
    private static void rows4(long base, int g0, int g1, int blocks, Q8Rows x, int i, float[] out, int o, int stride) {
        long groupBytes = (long) blocks * BLOCK_BYTES;
        int g = g0;
        for (; g + 1 < g1; g += 2) rows4Pair(base + (g - g0) * groupBytes, groupBytes, blocks, x, i, out, o + g * GROUP, stride);
        for (; g < g1; g++) rows4(base + (g - g0) * groupBytes, blocks, x, i, out, o + g * GROUP, stride);
    }

    /**
     * Four activation rows times two neighbouring groups (the second groupBytes after the first): {@link #rows4}'s outputs for
     * both, each broadcast activation multiplying two columns of codes. The 16-bit block sums are exact whatever their
     * order, so the bits are rows4's.
     */
    private static void rows4Pair(long group, long groupBytes, int blocks, Q8Rows x, int i, float[] out, int o, int stride) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        short[] a = x.codes();
        int cols = blocks * QK, xo = i * cols, so = i * blocks;
        float[] ds = x.scales();
        int[] sums = x.sums();
        FloatVector f00 = FloatVector.zero(F), f01 = f00, f10 = f00, f11 = f00, f20 = f00, f21 = f00, f30 = f00, f31 = f00;
        FloatVector e00 = f00, e01 = f00, e10 = f00, e11 = f00, e20 = f00, e21 = f00, e30 = f00, e31 = f00;
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES, cb = c + groupBytes;
            int k = xo + b * QK;
            ShortVector s0 = ShortVector.zero(S), s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
            for (int j = 0; j < 16; j++) {
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B, mem, c + CODES + 32 * j, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector u = (ShortVector) ByteVector.fromMemorySegment(B, mem, cb + CODES + 32 * j, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector lo = v.and((short) 15), hi = v.lanewise(VectorOperators.LSHR, 4);
                ShortVector ulo = u.and((short) 15), uhi = u.lanewise(VectorOperators.LSHR, 4);
                ShortVector p = ShortVector.broadcast(S, a[k + j]), q = ShortVector.broadcast(S, a[k + j + 16]);
                s0 = s0.add(lo.mul(p)).add(hi.mul(q));
                t0 = t0.add(ulo.mul(p)).add(uhi.mul(q));
                p = ShortVector.broadcast(S, a[k + cols + j]);
                q = ShortVector.broadcast(S, a[k + cols + j + 16]);
                s1 = s1.add(lo.mul(p)).add(hi.mul(q));
                t1 = t1.add(ulo.mul(p)).add(uhi.mul(q));
                p = ShortVector.broadcast(S, a[k + 2 * cols + j]);
                q = ShortVector.broadcast(S, a[k + 2 * cols + j + 16]);
                s2 = s2.add(lo.mul(p)).add(hi.mul(q));
                t2 = t2.add(ulo.mul(p)).add(uhi.mul(q));
                p = ShortVector.broadcast(S, a[k + 3 * cols + j]);
                q = ShortVector.broadcast(S, a[k + 3 * cols + j + 16]);
                s3 = s3.add(lo.mul(p)).add(hi.mul(q));
                t3 = t3.add(ulo.mul(p)).add(uhi.mul(q));
            }
            IntVector h = IntVector.fromMemorySegment(I, mem, c, LE);        // row1's conversions, written out as there
            FloatVector d0 = h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector d1 = h.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.and(0x80000000)).reinterpretAsFloats();
            h = IntVector.fromMemorySegment(I, mem, cb, LE);
            FloatVector c0 = h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector c1 = h.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.and(0x80000000)).reinterpretAsFloats();
            float da = ds[so + b];
            short off = (short) (8 * sums[so + b]);
            s0 = s0.sub(off);
            t0 = t0.sub(off);
            f00 = ((FloatVector) ((IntVector) s0.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), f00);
            f01 = ((FloatVector) ((IntVector) s0.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), f01);
            e00 = ((FloatVector) ((IntVector) t0.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(c0.mul(da), e00);
            e01 = ((FloatVector) ((IntVector) t0.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(c1.mul(da), e01);
            da = ds[so + blocks + b];
            off = (short) (8 * sums[so + blocks + b]);
            s1 = s1.sub(off);
            t1 = t1.sub(off);
            f10 = ((FloatVector) ((IntVector) s1.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), f10);
            f11 = ((FloatVector) ((IntVector) s1.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), f11);
            e10 = ((FloatVector) ((IntVector) t1.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(c0.mul(da), e10);
            e11 = ((FloatVector) ((IntVector) t1.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(c1.mul(da), e11);
            da = ds[so + 2 * blocks + b];
            off = (short) (8 * sums[so + 2 * blocks + b]);
            s2 = s2.sub(off);
            t2 = t2.sub(off);
            f20 = ((FloatVector) ((IntVector) s2.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), f20);
            f21 = ((FloatVector) ((IntVector) s2.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), f21);
            e20 = ((FloatVector) ((IntVector) t2.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(c0.mul(da), e20);
            e21 = ((FloatVector) ((IntVector) t2.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(c1.mul(da), e21);
            da = ds[so + 3 * blocks + b];
            off = (short) (8 * sums[so + 3 * blocks + b]);
            s3 = s3.sub(off);
            t3 = t3.sub(off);
            f30 = ((FloatVector) ((IntVector) s3.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), f30);
            f31 = ((FloatVector) ((IntVector) s3.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), f31);
            e30 = ((FloatVector) ((IntVector) t3.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(c0.mul(da), e30);
            e31 = ((FloatVector) ((IntVector) t3.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(c1.mul(da), e31);
        }
        f00.intoArray(out, o);
        f01.intoArray(out, o + 16);
        f10.intoArray(out, o + stride);
        f11.intoArray(out, o + stride + 16);
        f20.intoArray(out, o + 2 * stride);
        f21.intoArray(out, o + 2 * stride + 16);
        f30.intoArray(out, o + 3 * stride);
        f31.intoArray(out, o + 3 * stride + 16);
        e00.intoArray(out, o + GROUP);
        e01.intoArray(out, o + GROUP + 16);
        e10.intoArray(out, o + stride + GROUP);
        e11.intoArray(out, o + stride + GROUP + 16);
        e20.intoArray(out, o + 2 * stride + GROUP);
        e21.intoArray(out, o + 2 * stride + GROUP + 16);
        e30.intoArray(out, o + 3 * stride + GROUP);
        e31.intoArray(out, o + 3 * stride + GROUP + 16);
    }

    private static void rows4(long group, int blocks, Q8Rows x, int i, float[] out, int o, int stride) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        short[] a = x.codes();
        int cols = blocks * QK, xo = i * cols, so = i * blocks;
        FloatVector f00 = FloatVector.zero(F), f01 = f00, f10 = f00, f11 = f00, f20 = f00, f21 = f00, f30 = f00, f31 = f00;
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES;
            int k = xo + b * QK;
            ShortVector s0 = ShortVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
            for (int j = 0; j < 16; j++) {
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B, mem, c + CODES + 32 * j, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector lo = v.and((short) 15), hi = v.lanewise(VectorOperators.LSHR, 4);
                s0 = s0.add(lo.mul(a[k + j]));
                s0 = s0.add(hi.mul(a[k + j + 16]));
                s1 = s1.add(lo.mul(a[k + cols + j]));
                s1 = s1.add(hi.mul(a[k + cols + j + 16]));
                s2 = s2.add(lo.mul(a[k + 2 * cols + j]));
                s2 = s2.add(hi.mul(a[k + 2 * cols + j + 16]));
                s3 = s3.add(lo.mul(a[k + 3 * cols + j]));
                s3 = s3.add(hi.mul(a[k + 3 * cols + j + 16]));
            }
            IntVector h = IntVector.fromMemorySegment(I, mem, c, LE);        // row1's conversions, written out as there
            FloatVector d0 = h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector d1 = h.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.and(0x80000000)).reinterpretAsFloats();
            float[] ds = x.scales();
            int[] sums = x.sums();
            float da = ds[so + b];
            s0 = s0.sub((short) (8 * sums[so + b]));
            f00 = ((FloatVector) ((IntVector) s0.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), f00);
            f01 = ((FloatVector) ((IntVector) s0.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), f01);
            da = ds[so + blocks + b];
            s1 = s1.sub((short) (8 * sums[so + blocks + b]));
            f10 = ((FloatVector) ((IntVector) s1.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), f10);
            f11 = ((FloatVector) ((IntVector) s1.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), f11);
            da = ds[so + 2 * blocks + b];
            s2 = s2.sub((short) (8 * sums[so + 2 * blocks + b]));
            f20 = ((FloatVector) ((IntVector) s2.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), f20);
            f21 = ((FloatVector) ((IntVector) s2.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), f21);
            da = ds[so + 3 * blocks + b];
            s3 = s3.sub((short) (8 * sums[so + 3 * blocks + b]));
            f30 = ((FloatVector) ((IntVector) s3.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), f30);
            f31 = ((FloatVector) ((IntVector) s3.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), f31);
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
