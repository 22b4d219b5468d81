package org.jtune.quant;

import static org.jtune.quant.QuantVectors.B;
import static org.jtune.quant.QuantVectors.F;
import static org.jtune.quant.QuantVectors.L;
import static org.jtune.quant.QuantVectors.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import org.jtune.tensor.VectorMath;

/**
 * GGML_TYPE_Q6_K (ggml-common.h {@code block_q6_K}, 210 bytes per 256 weights): ql[128] (low 4 bits),
 * qh[64] (high 2 bits), sixteen signed 8-bit scales, F16 d at byte 208. In each 128-weight half n, byte
 * l &lt; 32 of ql/qh holds weights l, l+32, l+64, l+96 (ql[l] low/high nibble for l and l+64, ql[l+32] for
 * l+32 and l+96, qh[l] bit pairs 0-1, 2-3, 4-5, 6-7); w = d·sc_g·(q − 32) with g the weight's 16-group.
 *
 * <p>Quantization is {@code quantize_row_q6_K_ref}: each 16-group's scale is fitted by
 * {@code make_qx_quants(16, 32, x, L, rmse_type = 1)} (weights x², 19 candidate scales), the scales are
 * quantized to int8 against the one of largest magnitude (d = max/−128), and the quants recomputed.
 */
public final class Q6KFormat implements BlockFormat {
    public static final Q6KFormat INSTANCE = new Q6KFormat();
    private static final int QK = 256;
    private static final int BYTES = 210;
    private static final int QH = 128;
    private static final int SC = 192;
    private static final int D = 208;
    private static final float GROUP_MAX_EPS = 1e-15f;

    private Q6KFormat() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, MemorySegment dst, long dstOff, int n) {
        checkRow(n);
        int[] l = new int[QK];
        float[] scales = new float[16];
        for (int b = 0; b < n / QK; b++) {
            int x = srcOff + b * QK;
            long o = dstOff + (long) b * BYTES;
            float maxScale = 0f, maxAbsScale = 0f;
            for (int ib = 0; ib < 16; ib++) {
                float scale = makeQxQuants(16, 32, src, x + 16 * ib, l, 16 * ib);
                scales[ib] = scale;
                float abs = Math.abs(scale);
                if (abs > maxAbsScale) {
                    maxAbsScale = abs;
                    maxScale = scale;
                }
            }
            if (maxAbsScale < GROUP_MAX_EPS) {
                dst.asSlice(o, BYTES).fill((byte) 0);
                continue;
            }
            float iscale = -128f / maxScale;
            QuantVectors.putF16(dst, o + D, 1 / iscale);
            for (int ib = 0; ib < 16; ib++) QuantVectors.put(dst, o + SC + ib, Math.min(127, GgmlRounding.nearestInt(iscale * scales[ib])));
            float dAll = QuantVectors.f16(dst, o + D);
            for (int j = 0; j < 16; j++) {
                float d = dAll * QuantVectors.i8(dst, o + SC + j);
                if (d == 0f) continue;
                for (int i = 0; i < 16; i++) {
                    int q = GgmlRounding.nearestInt(src[x + 16 * j + i] / d);
                    l[16 * j + i] = Math.max(-32, Math.min(31, q)) + 32;
                }
            }
            for (int h = 0; h < 2; h++) {
                long ql = o + 64L * h, qh = o + QH + 32L * h;
                int j = 128 * h;
                for (int i = 0; i < 32; i++) {
                    int q1 = l[j + i] & 0xF, q2 = l[j + i + 32] & 0xF, q3 = l[j + i + 64] & 0xF, q4 = l[j + i + 96] & 0xF;
                    QuantVectors.put(dst, ql + i, q1 | (q3 << 4));
                    QuantVectors.put(dst, ql + i + 32, q2 | (q4 << 4));
                    QuantVectors.put(dst, qh + i, (l[j + i] >> 4) | ((l[j + i + 32] >> 4) << 2) | ((l[j + i + 64] >> 4) << 4)
                            | ((l[j + i + 96] >> 4) << 6));
                }
            }
        }
    }

    /**
     * ggml's make_qx_quants with rmse_type 1 and no importance weights: levels L in [0, 2·nmax) stored in
     * l[lOff..lOff + n), weights x², returns the scale. Arithmetic in ggml's order, in F32.
     */
    static float makeQxQuants(int n, int nmax, float[] x, int xOff, int[] l, int lOff) {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xOff + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xOff + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) l[lOff + i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[xOff + i];
            int q = GgmlRounding.nearestInt(iscale * xi);
            q = Math.max(-nmax, Math.min(nmax - 1, q));
            l[lOff + i] = q + nmax;
            float w = xi * xi;
            sumlx += w * xi * q;
            suml2 += w * q * q;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xOff + i];
                int q = GgmlRounding.nearestInt(iscale * xi);
                q = Math.max(-nmax, Math.min(nmax - 1, q));
                float w = xi * xi;
                sumlx += w * xi * q;
                suml2 += w * q * q;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    int q = GgmlRounding.nearestInt(iscale * x[xOff + i]);
                    l[lOff + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, q));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        checkRow(n);
        if (QuantVectors.ENABLED) {
            dequantizeVectors(src, srcOff, dst, dstOff, n);
            return;
        }
        for (int b = 0; b < n / QK; b++) {
            long o = srcOff + (long) b * BYTES;
            float d = QuantVectors.f16(src, o + D);
            for (int h = 0; h < 2; h++) {
                long ql = o + 64L * h, qh = o + QH + 32L * h, sc = o + SC + 8L * h;
                int y = dstOff + b * QK + 128 * h;
                for (int i = 0; i < 32; i++) {
                    int is = i / 16;
                    int lo = QuantVectors.u8(src, ql + i), hi = QuantVectors.u8(src, ql + i + 32), bits = QuantVectors.u8(src, qh + i);
                    int q1 = ((lo & 0xF) | ((bits & 3) << 4)) - 32;
                    int q2 = ((hi & 0xF) | (((bits >> 2) & 3) << 4)) - 32;
                    int q3 = ((lo >>> 4) | (((bits >> 4) & 3) << 4)) - 32;
                    int q4 = ((hi >>> 4) | (((bits >> 6) & 3) << 4)) - 32;
                    dst[y + i] = d * QuantVectors.i8(src, sc + is) * q1;
                    dst[y + i + 32] = d * QuantVectors.i8(src, sc + is + 2) * q2;
                    dst[y + i + 64] = d * QuantVectors.i8(src, sc + is + 4) * q3;
                    dst[y + i + 96] = d * QuantVectors.i8(src, sc + is + 6) * q4;
                }
            }
        }
    }

    /**
     * {@link #dequantizeRow} with the 6-bit codes assembled in registers as {@link #dot} does: each value is
     * (d·sc)·q as in the scalar loop (the same two float products), so the bits are the same. The panel GEMM dequantizes
     * every weight chunk through this (the scalar loop was two thirds of a Q6_K prefill product's time).
     */
    private static void dequantizeVectors(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / QK; b++) {
            long o = srcOff + (long) b * BYTES;
            float d = QuantVectors.f16(src, o + D);
            for (int h = 0; h < 2; h++) {
                long ql = o + 64L * h, qh = o + QH + 32L * h, sc = o + SC + 8L * h;
                int y = dstOff + b * QK + 128 * h;
                for (int i = 0; i < 32; i += L) {
                    int g = i / 16;
                    IntVector lo = QuantVectors.widen(src, ql + i), hi = QuantVectors.widen(src, ql + i + 32), bits = QuantVectors.widen(src, qh + i);
                    IntVector q1 = lo.and(0xF).or(bits.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q2 = hi.and(0xF).or(bits.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32);
                    IntVector q3 = lo.lanewise(VectorOperators.ASHR, 4).and(0xF).or(bits.and(0x30)).sub(32);
                    IntVector q4 = hi.lanewise(VectorOperators.ASHR, 4).and(0xF).or(bits.lanewise(VectorOperators.ASHR, 2).and(0x30)).sub(32);
                    ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul(d * QuantVectors.i8(src, sc + g)).intoArray(dst, y + i);
                    ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul(d * QuantVectors.i8(src, sc + g + 2)).intoArray(dst, y + i + 32);
                    ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul(d * QuantVectors.i8(src, sc + g + 4)).intoArray(dst, y + i + 64);
                    ((FloatVector) q4.convert(VectorOperators.I2F, 0)).mul(d * QuantVectors.i8(src, sc + g + 6)).intoArray(dst, y + i + 96);
                }
            }
        }
    }

    /**
     * Σ_g d·sc_g·(q_g · x_g) over the 16-groups; the 6-bit quants are assembled and widened in registers. With 16
     * lanes ({@link #dot16}) the four products of a step go to four accumulators (one chain of four FMAs per step
     * waited on their latency).
     */
    @Override
    public float dot(MemorySegment w, long wOff, float[] x, int xOff, int n) {
        checkRow(n);
        if (!QuantVectors.ENABLED) return scalarDot(w, wOff, x, xOff, n);
        MemorySegment m = QuantVectors.nativeRows(w, wOff, rowBytes(n));   // heap rows: copied first
        float dot = L == 16 ? dot16(QuantVectors.checkedAddress(m, m == w ? wOff : 0, rowBytes(n)), x, xOff, n / QK) : dotLanes(m, m == w ? wOff : 0, x, xOff, n / QK);
        java.lang.ref.Reference.reachabilityFence(m);
        return dot;
    }

    /**
     * A piece of the decode GEMV: with 16 lanes on native rows, their bounds and liveness checked once for the piece,
     * then the kernel on each row's absolute address (the same bits as {@link #dot} row by row).
     */
    @Override
    public void dotRows(MemorySegment w, long rowOff, long rowBytes, int rows, int cols, float[] x, int xOff, float[] out, int outOff) {
        if (L != 16 || !QuantVectors.ENABLED || !w.isNative() || rows <= 0) {
            BlockFormat.super.dotRows(w, rowOff, rowBytes, rows, cols, x, xOff, out, outOff);
            return;
        }
        checkRow(cols);
        java.util.Objects.checkFromIndexSize(outOff, rows, out.length);
        long address = QuantVectors.checkedAddress(w, rowOff, (rows - 1) * rowBytes + rowBytes(cols));
        for (int i = 0; i < rows; i++) out[outOff + i] = dot16(address + i * rowBytes, x, xOff, cols / QK);
        java.lang.ref.Reference.reachabilityFence(w);   // read by address above: w must outlive the kernel
    }

    /** Any lane count (8 ≤ L ≤ 16, e.g. AVX2): loads from a segment of exact class ({@link QuantVectors#checkedAddress}). */
    private static float dotLanes(MemorySegment segment, long wOff, float[] x, int xOff, int blocks) {
        long bytes = (long) blocks * BYTES;
        MemorySegment w = QuantVectors.ALL_NATIVE;
        wOff = QuantVectors.checkedAddress(segment, wOff, bytes);   // absolute address
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long o = wOff + (long) b * BYTES;
            float d = QuantVectors.f16(w, o + D);
            for (int h = 0; h < 2; h++) {
                long ql = o + 64L * h, qh = o + QH + 32L * h;
                long sc = w.get(QuantVectors.LONG, o + SC + 8L * h);        // the 8 int8 scales of this half
                int xh = xOff + b * QK + 128 * h;
                for (int i = 0; i < 32; i += L) {
                    int g = i / 16;
                    IntVector lo = QuantVectors.widen(w, ql + i), hi = QuantVectors.widen(w, ql + i + 32), bits = QuantVectors.widen(w, qh + i);
                    IntVector q1 = lo.and(0xF).or(bits.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q2 = hi.and(0xF).or(bits.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32);
                    IntVector q3 = lo.lanewise(VectorOperators.ASHR, 4).and(0xF).or(bits.and(0x30)).sub(32);
                    IntVector q4 = hi.lanewise(VectorOperators.ASHR, 4).and(0xF).or(bits.lanewise(VectorOperators.ASHR, 2).and(0x30)).sub(32);
                    FloatVector s1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xh + i));
                    FloatVector s2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xh + i + 32));
                    FloatVector s3 = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xh + i + 64));
                    FloatVector s4 = ((FloatVector) q4.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xh + i + 96));
                    acc = s1.fma(FloatVector.broadcast(F, d * (byte) (sc >>> (8 * g))), acc);
                    acc = s2.fma(FloatVector.broadcast(F, d * (byte) (sc >>> (8 * (g + 2)))), acc);
                    acc = s3.fma(FloatVector.broadcast(F, d * (byte) (sc >>> (8 * (g + 4)))), acc);
                    acc = s4.fma(FloatVector.broadcast(F, d * (byte) (sc >>> (8 * (g + 6)))), acc);
                }
            }
        }
        return VectorMath.sum(acc);
    }

    /**
     * The 16-lane decode kernel on native rows, loading at absolute addresses from {@link QuantVectors#ALL_NATIVE}: a
     * super-block's two halves and their two 16-weight steps written out straight (loops over them compiled to clamped
     * long index arithmetic and spills), the same products and sums in the same order as before (same bits). The F16
     * field, the loads and the final lane sum (QuantVectors.sum16's tree) are written with the JDK's own methods only:
     * past ~18,000 nodes C2 stops inlining other methods (NodeCountInliningCutoff), which left a call to QuantVectors.f16
     * in the loop and one to sum16 that boxed its vector.
     */
    private static float dot16(long base, float[] x, int xOff, int blocks) {
        MemorySegment w = QuantVectors.ALL_NATIVE;
        FloatVector a1 = FloatVector.zero(F), a2 = a1, a3 = a1, a4 = a1;
        for (int b = 0; b < blocks; b++) {
            long o = base + (long) b * BYTES;
            int xb = xOff + b * QK;
            float d = Float.float16ToFloat(w.get(QuantVectors.SHORT, o + D));
            long sc0 = w.get(QuantVectors.LONG, o + SC + 0);          // the 8 int8 scales of half 0
            {                                                                 // half 0, weights 0..15 of each quarter
                IntVector lo = (IntVector) ByteVector.fromMemorySegment(B, w, o + 0, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector hi = (IntVector) ByteVector.fromMemorySegment(B, w, o + 32, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector bits = (IntVector) ByteVector.fromMemorySegment(B, w, o + 128, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector q1 = lo.and(0xF).or(bits.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                IntVector q2 = hi.and(0xF).or(bits.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32);
                IntVector q3 = lo.lanewise(VectorOperators.ASHR, 4).and(0xF).or(bits.and(0x30)).sub(32);
                IntVector q4 = hi.lanewise(VectorOperators.ASHR, 4).and(0xF).or(bits.lanewise(VectorOperators.ASHR, 2).and(0x30)).sub(32);
                a1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 0))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc0 >>> 0)), a1);
                a2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 32))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc0 >>> 16)), a2);
                a3 = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 64))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc0 >>> 32)), a3);
                a4 = ((FloatVector) q4.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 96))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc0 >>> 48)), a4);
            }
            {                                                                 // half 0, weights 16..31 of each quarter
                IntVector lo = (IntVector) ByteVector.fromMemorySegment(B, w, o + 16, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector hi = (IntVector) ByteVector.fromMemorySegment(B, w, o + 48, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector bits = (IntVector) ByteVector.fromMemorySegment(B, w, o + 144, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector q1 = lo.and(0xF).or(bits.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                IntVector q2 = hi.and(0xF).or(bits.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32);
                IntVector q3 = lo.lanewise(VectorOperators.ASHR, 4).and(0xF).or(bits.and(0x30)).sub(32);
                IntVector q4 = hi.lanewise(VectorOperators.ASHR, 4).and(0xF).or(bits.lanewise(VectorOperators.ASHR, 2).and(0x30)).sub(32);
                a1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 16))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc0 >>> 8)), a1);
                a2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 48))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc0 >>> 24)), a2);
                a3 = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 80))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc0 >>> 40)), a3);
                a4 = ((FloatVector) q4.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 112))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc0 >>> 56)), a4);
            }
            long sc1 = w.get(QuantVectors.LONG, o + SC + 8);          // the 8 int8 scales of half 1
            {                                                                 // half 1, weights 0..15 of each quarter
                IntVector lo = (IntVector) ByteVector.fromMemorySegment(B, w, o + 64, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector hi = (IntVector) ByteVector.fromMemorySegment(B, w, o + 96, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector bits = (IntVector) ByteVector.fromMemorySegment(B, w, o + 160, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector q1 = lo.and(0xF).or(bits.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                IntVector q2 = hi.and(0xF).or(bits.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32);
                IntVector q3 = lo.lanewise(VectorOperators.ASHR, 4).and(0xF).or(bits.and(0x30)).sub(32);
                IntVector q4 = hi.lanewise(VectorOperators.ASHR, 4).and(0xF).or(bits.lanewise(VectorOperators.ASHR, 2).and(0x30)).sub(32);
                a1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 128))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc1 >>> 0)), a1);
                a2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 160))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc1 >>> 16)), a2);
                a3 = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 192))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc1 >>> 32)), a3);
                a4 = ((FloatVector) q4.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 224))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc1 >>> 48)), a4);
            }
            {                                                                 // half 1, weights 16..31 of each quarter
                IntVector lo = (IntVector) ByteVector.fromMemorySegment(B, w, o + 80, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector hi = (IntVector) ByteVector.fromMemorySegment(B, w, o + 112, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector bits = (IntVector) ByteVector.fromMemorySegment(B, w, o + 176, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector q1 = lo.and(0xF).or(bits.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                IntVector q2 = hi.and(0xF).or(bits.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32);
                IntVector q3 = lo.lanewise(VectorOperators.ASHR, 4).and(0xF).or(bits.and(0x30)).sub(32);
                IntVector q4 = hi.lanewise(VectorOperators.ASHR, 4).and(0xF).or(bits.lanewise(VectorOperators.ASHR, 2).and(0x30)).sub(32);
                a1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 144))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc1 >>> 8)), a1);
                a2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 176))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc1 >>> 24)), a2);
                a3 = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 208))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc1 >>> 40)), a3);
                a4 = ((FloatVector) q4.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb + 240))
                        .fma(FloatVector.broadcast(F, d * (byte) (sc1 >>> 56)), a4);
            }
        }
        FloatVector v = a1.add(a2).add(a3.add(a4));        // QuantVectors.sum16, written out
        v = v.add(v.rearrange(QuantVectors.X8));
        v = v.add(v.rearrange(QuantVectors.X4));
        v = v.add(v.rearrange(QuantVectors.X2));
        v = v.add(v.rearrange(QuantVectors.X1));
        return v.lane(0);
    }

    private float scalarDot(MemorySegment w, long wOff, float[] x, int xOff, int n) {
        float[] row = new float[QK];
        float acc = 0f;
        for (int b = 0; b < n / QK; b++) {
            dequantizeRow(w, wOff + (long) b * BYTES, row, 0, QK);
            for (int i = 0; i < QK; i++) acc += row[i] * x[xOff + b * QK + i];
        }
        return acc;
    }
}
