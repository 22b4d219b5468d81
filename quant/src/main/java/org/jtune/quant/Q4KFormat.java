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
 * GGML_TYPE_Q4_K (ggml-common.h {@code block_q4_K}, 144 bytes per 256 weights): F16 d, F16 dmin, 12
 * bytes holding eight 6-bit scales and eight 6-bit mins ({@code get_scale_min_k4}), then 128 bytes of
 * 4-bit quants: each 64-weight chunk is 32 bytes whose low nibbles are sub-block 2c and high nibbles
 * sub-block 2c+1. w = d·sc_j·q − dmin·m_j for the 32 weights of sub-block j.
 *
 * <p>Quantization is {@code quantize_row_q4_K_ref}: each sub-block's (scale, min) is fitted by
 * {@code make_qkx2_quants} (weights av_x + |x|, a grid search of 21 candidate scales minimizing the weighted
 * squared error), the eight scales and mins are quantized to 6 bits against their maxima, and the quants are
 * recomputed from the quantized scales.
 */
public final class Q4KFormat implements BlockFormat {
    public static final Q4KFormat INSTANCE = new Q4KFormat();
    private static final int QK = 256;
    private static final int BYTES = 144;
    private static final int SCALES = 4;
    private static final int QS = 16;

    private Q4KFormat() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    /** ggml's get_scale_min_k4: the 6-bit scale (low 8 bits) and min (next 8 bits) of sub-block j. */
    static int scaleMin(MemorySegment s, long scales, int j) {
        int sc, m;
        if (j < 4) {
            sc = QuantVectors.u8(s, scales + j) & 63;
            m = QuantVectors.u8(s, scales + j + 4) & 63;
        } else {
            int q = QuantVectors.u8(s, scales + j + 4);
            sc = (q & 0xF) | ((QuantVectors.u8(s, scales + j - 4) >>> 6) << 4);
            m = (q >>> 4) | ((QuantVectors.u8(s, scales + j) >>> 6) << 4);
        }
        return sc | (m << 8);
    }

    /** {@link #scaleMin(MemorySegment, long, int)} from the 12 scale bytes held in registers (bytes 0..7, 8..11). */
    private static int scaleMin(long lo8, long hi4, int j) {
        int sc, m;
        if (j < 4) {
            sc = (int) (lo8 >>> (8 * j)) & 63;
            m = (int) (lo8 >>> (8 * (j + 4))) & 63;
        } else {
            int q = (int) (hi4 >>> (8 * (j - 4))) & 0xFF;
            sc = (q & 0xF) | ((((int) (lo8 >>> (8 * (j - 4))) & 0xFF) >>> 6) << 4);
            m = (q >>> 4) | ((((int) (lo8 >>> (8 * j)) & 0xFF) >>> 6) << 4);
        }
        return sc | (m << 8);
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, MemorySegment dst, long dstOff, int n) {
        checkRow(n);
        int[] l = new int[QK];
        int[] laux = new int[32];
        float[] weights = new float[32];
        float[] mins = new float[8];
        float[] scales = new float[8];
        float[] theMin = new float[1];
        for (int b = 0; b < n / QK; b++) {
            int x = srcOff + b * QK;
            long o = dstOff + (long) b * BYTES;
            float maxScale = 0f, maxMin = 0f;
            for (int j = 0; j < 8; j++) {
                float sumX2 = 0f;
                for (int i = 0; i < 32; i++) sumX2 += src[x + 32 * j + i] * src[x + 32 * j + i];
                float avX = (float) Math.sqrt(sumX2 / 32f);
                for (int i = 0; i < 32; i++) weights[i] = avX + Math.abs(src[x + 32 * j + i]);
                scales[j] = makeQkx2Quants(32, 15, src, x + 32 * j, weights, l, 32 * j, theMin, laux, -1f, 0.1f, 20);
                mins[j] = theMin[0];
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            long sc = o + SCALES;
            for (int j = 0; j < 8; j++) {
                int ls = Math.min(63, GgmlRounding.nearestInt(invScale * scales[j]) & 0xFF);   // uint8_t, then MIN(63, ·)
                int lm = Math.min(63, GgmlRounding.nearestInt(invMin * mins[j]) & 0xFF);
                if (j < 4) {
                    QuantVectors.put(dst, sc + j, ls);
                    QuantVectors.put(dst, sc + j + 4, lm);
                } else {
                    QuantVectors.put(dst, sc + j + 4, (ls & 0xF) | ((lm & 0xF) << 4));
                    QuantVectors.put(dst, sc + j - 4, QuantVectors.u8(dst, sc + j - 4) | ((ls >>> 4) << 6));
                    QuantVectors.put(dst, sc + j, QuantVectors.u8(dst, sc + j) | ((lm >>> 4) << 6));
                }
            }
            QuantVectors.putF16(dst, o, maxScale / 63f);
            QuantVectors.putF16(dst, o + 2, maxMin / 63f);
            float dAll = QuantVectors.f16(dst, o), dminAll = QuantVectors.f16(dst, o + 2);
            for (int j = 0; j < 8; j++) {
                int sm = scaleMin(dst, sc, j);
                float d = dAll * (sm & 0xFF);
                if (d == 0f) continue;
                float dm = dminAll * (sm >>> 8);
                for (int i = 0; i < 32; i++) {
                    int q = GgmlRounding.nearestInt((src[x + 32 * j + i] + dm) / d);
                    l[32 * j + i] = Math.max(0, Math.min(15, q));
                }
            }
            for (int c = 0; c < 4; c++) {
                for (int i = 0; i < 32; i++) QuantVectors.put(dst, o + QS + 32L * c + i, l[64 * c + i] | (l[64 * c + i + 32] << 4));
            }
        }
    }

    /**
     * ggml's make_qkx2_quants: fits x ≈ scale·L + min (min ≤ 0) over n values with the given weights,
     * L in [0, nmax]; returns the scale, stores −min in theMin[0] and the levels in l[lOff..lOff + n).
     * The arithmetic is ggml's, in its order, in F32 (use_mad = false).
     */
    static float makeQkx2Quants(int n, int nmax, float[] x, int xOff, float[] weights, int[] l, int lOff, float[] theMin,
                                int[] laux, float rmin, float rdelta, int nstep) {
        float min = x[xOff], max = x[xOff];
        float sumW = weights[0];
        float sumX = sumW * x[xOff];
        for (int i = 1; i < n; i++) {
            float xi = x[xOff + i];
            if (xi < min) min = xi;
            if (xi > max) max = xi;
            float w = weights[i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0) min = 0;
        if (max == min) {
            for (int i = 0; i < n; i++) l[lOff + i] = 0;
            theMin[0] = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int q = GgmlRounding.nearestInt(iscale * (x[xOff + i] - min));
            l[lOff + i] = Math.max(0, Math.min(nmax, q));
            float diff = scale * l[lOff + i] + min - x[xOff + i];
            bestError += weights[i] * (diff * diff);
        }
        if (nstep < 1) {
            theMin[0] = -min;
            return scale;
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXl = 0;
            for (int i = 0; i < n; i++) {
                int q = GgmlRounding.nearestInt(iscale * (x[xOff + i] - min));
                q = Math.max(0, Math.min(nmax, q));
                laux[i] = q;
                float w = weights[i];
                sumL += w * q;
                sumL2 += w * q * q;
                sumXl += w * q * x[xOff + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXl - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXl) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * laux[i] + thisMin - x[xOff + i];
                    curError += weights[i] * (diff * diff);
                }
                if (curError < bestError) {
                    for (int i = 0; i < n; i++) l[lOff + i] = laux[i];
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        checkRow(n);
        for (int b = 0; b < n / QK; b++) {
            long o = srcOff + (long) b * BYTES;
            float d = QuantVectors.f16(src, o), min = QuantVectors.f16(src, o + 2);
            int y = dstOff + b * QK;
            for (int c = 0; c < 4; c++) {
                int sm1 = scaleMin(src, o + SCALES, 2 * c), sm2 = scaleMin(src, o + SCALES, 2 * c + 1);
                float d1 = d * (sm1 & 0xFF), m1 = min * (sm1 >>> 8);
                float d2 = d * (sm2 & 0xFF), m2 = min * (sm2 >>> 8);
                if (QuantVectors.ENABLED) { // the same two float operations per value, in registers
                    for (int i = 0; i < 32; i += L) {
                        IntVector q = QuantVectors.widen(src, o + QS + 32L * c + i);
                        ((FloatVector) q.and(0x0F).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(dst, y + 64 * c + i);
                        ((FloatVector) q.lanewise(VectorOperators.ASHR, 4).and(0x0F).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2)
                                .intoArray(dst, y + 64 * c + 32 + i);
                    }
                    continue;
                }
                for (int i = 0; i < 32; i++) {
                    int q = QuantVectors.u8(src, o + QS + 32L * c + i);
                    dst[y + 64 * c + i] = d1 * (q & 0xF) - m1;
                    dst[y + 64 * c + 32 + i] = d2 * (q >>> 4) - m2;
                }
            }
        }
    }

    /**
     * Σ_j d·sc_j·(q_j · x_j) − dmin·m_j·Σx_j over the sub-blocks j: the quants are widened in registers, the
     * scaled products and the scaled x (for the mins) go to accumulators that are subtracted at the end. With 16
     * lanes ({@link #dot16}) a sub-block is two vectors written out straight, each with its own pair of accumulators.
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
        FloatVector acc = FloatVector.zero(F), accMin = acc;
        for (int b = 0; b < blocks; b++) {
            long o = wOff + (long) b * BYTES;
            float d = QuantVectors.f16(w, o), dmin = QuantVectors.f16(w, o + 2);
            long lo8 = w.get(QuantVectors.LONG, o + SCALES);                 // scale bytes 0..7
            long hi4 = w.get(QuantVectors.INT, o + SCALES + 8) & 0xFFFFFFFFL;  // scale bytes 8..11
            for (int j = 0; j < 8; j++) {                                    // sub-block j: nibbles (j & 1) of chunk j / 2
                int sm = scaleMin(lo8, hi4, j);
                FloatVector dj = FloatVector.broadcast(F, d * (sm & 0xFF)), mj = FloatVector.broadcast(F, dmin * (sm >>> 8));
                long qs = o + QS + 32L * (j >> 1);
                int shift = 4 * (j & 1), xj = xOff + b * QK + 32 * j;
                for (int p = 0; p < 32; p += L) {
                    IntVector q = QuantVectors.widen(w, qs + p);
                    FloatVector v = FloatVector.fromArray(F, x, xj + p);
                    acc = ((FloatVector) q.lanewise(VectorOperators.ASHR, shift).and(0x0F).convert(VectorOperators.I2F, 0)).mul(v).fma(dj, acc);
                    accMin = v.fma(mj, accMin);
                }
            }
        }
        return VectorMath.sum(acc) - VectorMath.sum(accMin);
    }

    /** Lane i holds the bits of the float i: nibble → level by {@code selectFrom} (indices wrap modulo 16, the nibble mask). */
    private static final IntVector LEVELS = IntVector.fromArray(QuantVectors.I,
            java.util.stream.IntStream.range(0, QuantVectors.I.length()).map(i -> Float.floatToIntBits(i & 15)).toArray(), 0);

    /**
     * The 16-lane decode kernel on native rows, loading at absolute addresses from {@link QuantVectors#ALL_NATIVE}: a
     * super-block's four 64-weight chunks written out straight (the loop over them compiled to ~100 scalar instructions
     * per chunk of clamped long index arithmetic and spills around ~30 vector ones), the 6-bit scales and mins unpacked
     * with constant shifts ({@link #scaleMin(long, long, int)} for each j), nibbles mapped to floats through
     * {@link #LEVELS}, the same products and sums in the same order as before (same bits). The F16 fields, the loads and
     * the final lane sums (QuantVectors.sum16's tree) are written with the JDK's own methods only: past ~18,000 nodes C2
     * stops inlining other methods (NodeCountInliningCutoff), and the calls to sum16 there boxed two vectors per row.
     */
    private static float dot16(long base, float[] x, int xOff, int blocks) {
        MemorySegment w = QuantVectors.ALL_NATIVE;
        IntVector levels = LEVELS;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, m0 = a0, m1 = a0;
        for (int b = 0; b < blocks; b++) {
            long o = base + (long) b * BYTES;
            int xb = xOff + b * QK;
            float d = Float.float16ToFloat(w.get(QuantVectors.SHORT, o)), dmin = Float.float16ToFloat(w.get(QuantVectors.SHORT, o + 2));
            long lo8 = w.get(QuantVectors.LONG, o + SCALES);                  // scale bytes 0..7
            long hi4 = w.get(QuantVectors.INT, o + SCALES + 8) & 0xFFFFFFFFL;   // scale bytes 8..11
            {                                                                 // chunk 0: sub-blocks 0 (low nibbles), 1 (high)
                int scLo = (int) (lo8 >>> 0) & 63, mLo = (int) (lo8 >>> 32) & 63;
                int scHi = (int) (lo8 >>> 8) & 63, mHi = (int) (lo8 >>> 40) & 63;
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 16, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 32, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                FloatVector v0 = FloatVector.fromArray(F, x, xb + 0), v1 = FloatVector.fromArray(F, x, xb + 16);
                FloatVector v2 = FloatVector.fromArray(F, x, xb + 32), v3 = FloatVector.fromArray(F, x, xb + 48);
                FloatVector dl = FloatVector.broadcast(F, d * scLo), dh = FloatVector.broadcast(F, d * scHi);
                FloatVector ml = FloatVector.broadcast(F, dmin * mLo), mh = FloatVector.broadcast(F, dmin * mHi);
                a0 = q0.selectFrom(levels).reinterpretAsFloats().mul(v0).fma(dl, a0);
                a1 = q1.selectFrom(levels).reinterpretAsFloats().mul(v1).fma(dl, a1);
                m0 = v0.fma(ml, m0);
                m1 = v1.fma(ml, m1);
                a0 = q0.lanewise(VectorOperators.ASHR, 4).selectFrom(levels).reinterpretAsFloats().mul(v2).fma(dh, a0);
                a1 = q1.lanewise(VectorOperators.ASHR, 4).selectFrom(levels).reinterpretAsFloats().mul(v3).fma(dh, a1);
                m0 = v2.fma(mh, m0);
                m1 = v3.fma(mh, m1);
            }
            {                                                                 // chunk 1: sub-blocks 2 (low nibbles), 3 (high)
                int scLo = (int) (lo8 >>> 16) & 63, mLo = (int) (lo8 >>> 48) & 63;
                int scHi = (int) (lo8 >>> 24) & 63, mHi = (int) (lo8 >>> 56) & 63;
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 48, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 64, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                FloatVector v0 = FloatVector.fromArray(F, x, xb + 64), v1 = FloatVector.fromArray(F, x, xb + 80);
                FloatVector v2 = FloatVector.fromArray(F, x, xb + 96), v3 = FloatVector.fromArray(F, x, xb + 112);
                FloatVector dl = FloatVector.broadcast(F, d * scLo), dh = FloatVector.broadcast(F, d * scHi);
                FloatVector ml = FloatVector.broadcast(F, dmin * mLo), mh = FloatVector.broadcast(F, dmin * mHi);
                a0 = q0.selectFrom(levels).reinterpretAsFloats().mul(v0).fma(dl, a0);
                a1 = q1.selectFrom(levels).reinterpretAsFloats().mul(v1).fma(dl, a1);
                m0 = v0.fma(ml, m0);
                m1 = v1.fma(ml, m1);
                a0 = q0.lanewise(VectorOperators.ASHR, 4).selectFrom(levels).reinterpretAsFloats().mul(v2).fma(dh, a0);
                a1 = q1.lanewise(VectorOperators.ASHR, 4).selectFrom(levels).reinterpretAsFloats().mul(v3).fma(dh, a1);
                m0 = v2.fma(mh, m0);
                m1 = v3.fma(mh, m1);
            }
            {                                                                 // chunk 2: sub-blocks 4 (low nibbles), 5 (high)
                int scLo = ((int) (hi4 >>> 0) & 0xF) | (((int) (lo8 >>> 6) & 3) << 4), mLo = ((int) (hi4 >>> 4) & 0xF) | (((int) (lo8 >>> 38) & 3) << 4);
                int scHi = ((int) (hi4 >>> 8) & 0xF) | (((int) (lo8 >>> 14) & 3) << 4), mHi = ((int) (hi4 >>> 12) & 0xF) | (((int) (lo8 >>> 46) & 3) << 4);
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 80, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 96, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                FloatVector v0 = FloatVector.fromArray(F, x, xb + 128), v1 = FloatVector.fromArray(F, x, xb + 144);
                FloatVector v2 = FloatVector.fromArray(F, x, xb + 160), v3 = FloatVector.fromArray(F, x, xb + 176);
                FloatVector dl = FloatVector.broadcast(F, d * scLo), dh = FloatVector.broadcast(F, d * scHi);
                FloatVector ml = FloatVector.broadcast(F, dmin * mLo), mh = FloatVector.broadcast(F, dmin * mHi);
                a0 = q0.selectFrom(levels).reinterpretAsFloats().mul(v0).fma(dl, a0);
                a1 = q1.selectFrom(levels).reinterpretAsFloats().mul(v1).fma(dl, a1);
                m0 = v0.fma(ml, m0);
                m1 = v1.fma(ml, m1);
                a0 = q0.lanewise(VectorOperators.ASHR, 4).selectFrom(levels).reinterpretAsFloats().mul(v2).fma(dh, a0);
                a1 = q1.lanewise(VectorOperators.ASHR, 4).selectFrom(levels).reinterpretAsFloats().mul(v3).fma(dh, a1);
                m0 = v2.fma(mh, m0);
                m1 = v3.fma(mh, m1);
            }
            {                                                                 // chunk 3: sub-blocks 6 (low nibbles), 7 (high)
                int scLo = ((int) (hi4 >>> 16) & 0xF) | (((int) (lo8 >>> 22) & 3) << 4), mLo = ((int) (hi4 >>> 20) & 0xF) | (((int) (lo8 >>> 54) & 3) << 4);
                int scHi = ((int) (hi4 >>> 24) & 0xF) | (((int) (lo8 >>> 30) & 3) << 4), mHi = ((int) (hi4 >>> 28) & 0xF) | (((int) (lo8 >>> 62) & 3) << 4);
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 112, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 128, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
                FloatVector v0 = FloatVector.fromArray(F, x, xb + 192), v1 = FloatVector.fromArray(F, x, xb + 208);
                FloatVector v2 = FloatVector.fromArray(F, x, xb + 224), v3 = FloatVector.fromArray(F, x, xb + 240);
                FloatVector dl = FloatVector.broadcast(F, d * scLo), dh = FloatVector.broadcast(F, d * scHi);
                FloatVector ml = FloatVector.broadcast(F, dmin * mLo), mh = FloatVector.broadcast(F, dmin * mHi);
                a0 = q0.selectFrom(levels).reinterpretAsFloats().mul(v0).fma(dl, a0);
                a1 = q1.selectFrom(levels).reinterpretAsFloats().mul(v1).fma(dl, a1);
                m0 = v0.fma(ml, m0);
                m1 = v1.fma(ml, m1);
                a0 = q0.lanewise(VectorOperators.ASHR, 4).selectFrom(levels).reinterpretAsFloats().mul(v2).fma(dh, a0);
                a1 = q1.lanewise(VectorOperators.ASHR, 4).selectFrom(levels).reinterpretAsFloats().mul(v3).fma(dh, a1);
                m0 = v2.fma(mh, m0);
                m1 = v3.fma(mh, m1);
            }
        }
        FloatVector a = a0.add(a1), m = m0.add(m1);           // QuantVectors.sum16 of each, written out
        a = a.add(a.rearrange(QuantVectors.X8));
        m = m.add(m.rearrange(QuantVectors.X8));
        a = a.add(a.rearrange(QuantVectors.X4));
        m = m.add(m.rearrange(QuantVectors.X4));
        a = a.add(a.rearrange(QuantVectors.X2));
        m = m.add(m.rearrange(QuantVectors.X2));
        a = a.add(a.rearrange(QuantVectors.X1));
        m = m.add(m.rearrange(QuantVectors.X1));
        return a.lane(0) - m.lane(0);
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
