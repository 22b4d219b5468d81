package org.jtune.quant;

import static org.jtune.quant.QuantVectors.B;
import static org.jtune.quant.QuantVectors.F;
import static org.jtune.quant.QuantVectors.L;
import static org.jtune.quant.QuantVectors.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.jtune.tensor.Int8BlockCodec;
import org.jtune.tensor.VectorMath;

/**
 * GGML_TYPE_Q8_0 (ggml-common.h {@code block_q8_0}, 34 bytes per 32 weights): an F16 scale d, then 32
 * signed bytes q; w = q·d. Quantization is {@code quantize_row_q8_0_ref}: d = amax/127 (rounded to F16 for
 * storage only), q = roundf(x·(1/d)) with the unrounded d.
 */
public final class Q8_0Format implements BlockFormat, Int8BlockCodec {
    public static final Q8_0Format INSTANCE = new Q8_0Format();
    private static final int QK = 32;
    private static final int BYTES = 34;

    private Q8_0Format() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, MemorySegment dst, long dstOff, int n) {
        checkRow(n);
        for (int b = 0; b < n / QK; b++) {
            int x0 = srcOff + b * QK;
            long o = dstOff + (long) b * BYTES;
            float amax = 0f;
            for (int j = 0; j < QK; j++) {
                float a = Math.abs(src[x0 + j]);
                amax = amax > a ? amax : a;        // ggml's MAX(amax, fabsf(v))
            }
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            QuantVectors.putF16(dst, o, d);
            for (int j = 0; j < QK; j++) QuantVectors.put(dst, o + 2 + j, (int) GgmlRounding.roundf(src[x0 + j] * id));
        }
    }

    /** q·d per weight; the vector path gives the same bits (the product of an int8 and an F16 value is exact). */
    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        checkRow(n);
        if (QuantVectors.ENABLED) {
            for (int b = 0; b < n / QK; b++) {
                long o = srcOff + (long) b * BYTES;
                FloatVector d = FloatVector.broadcast(F, QuantVectors.f16(src, o));
                for (int p = 0; p < QK; p += L) {
                    FloatVector q = (FloatVector) ByteVector.fromMemorySegment(B, src, o + 2 + p, LE).convertShape(VectorOperators.B2F, F, 0);
                    q.mul(d).intoArray(dst, dstOff + b * QK + p);
                }
            }
            return;
        }
        for (int b = 0; b < n / QK; b++) {
            long o = srcOff + (long) b * BYTES;
            float d = QuantVectors.f16(src, o);
            for (int j = 0; j < QK; j++) dst[dstOff + b * QK + j] = QuantVectors.i8(src, o + 2 + j) * d;
        }
    }

    @Override
    public float dot(MemorySegment w, long wOff, float[] x, int xOff, int n) {
        checkRow(n);
        if (!QuantVectors.ENABLED) return scalarDot(w, wOff, x, xOff, n);
        int blocks = n / QK;
        MemorySegment m = QuantVectors.nativeRows(w, wOff, (long) blocks * BYTES);   // heap rows: copied first
        float dot = L == 16 ? dot16(QuantVectors.checkedAddress(m, m == w ? wOff : 0, rowBytes(n)), x, xOff, blocks) : dotLanes(m, m == w ? wOff : 0, x, xOff, blocks);
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
            int xb = xOff + b * QK;
            FloatVector s = FloatVector.zero(F);
            for (int p = 0; p < QK; p += L) {
                FloatVector q = (FloatVector) ByteVector.fromMemorySegment(B, w, o + 2 + p, LE).convertShape(VectorOperators.B2F, F, 0);
                s = q.fma(FloatVector.fromArray(F, x, xb + p), s);
            }
            acc = s.fma(FloatVector.broadcast(F, QuantVectors.f16(w, o)), acc);
        }
        return VectorMath.sum(acc);
    }

    /**
     * One row times x with 16 F32 lanes (AVX-512), the decode kernel: a block is two vectors, its sum s = q[0..16)·x +
     * q[16..32)·x is scaled into one of two accumulators (even blocks, odd blocks: one chain would wait on the FMA
     * latency every block), written out straight (the loop above over a block's vectors compiled to 6 or 11 GB/s from
     * run to run, this to 20–23 on one thread); then the two are added and the lanes summed in a fixed tree ({@link QuantVectors#sum16}). Loads
     * from a segment of exact class ({@link QuantVectors#checkedAddress}).
     */
    private static float dot16(long base, float[] x, int xOff, int blocks) {
        MemorySegment w = QuantVectors.ALL_NATIVE;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;          // even blocks, odd blocks
        int b = 0;
        for (; b + 3 < blocks; b += 4) {                        // four blocks a step (as Q4_0Format's kernel)
            long o = base + (long) b * BYTES;
            int xb = xOff + b * QK;
            FloatVector s0 = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 2, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xb));
            s0 = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 18, LE).convertShape(VectorOperators.B2F, F, 0))
                    .fma(FloatVector.fromArray(F, x, xb + 16), s0);
            a0 = s0.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(QuantVectors.SHORT, o))), a0);
            FloatVector s1 = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 36, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xb + 32));
            s1 = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 52, LE).convertShape(VectorOperators.B2F, F, 0))
                    .fma(FloatVector.fromArray(F, x, xb + 48), s1);
            a1 = s1.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(QuantVectors.SHORT, o + 34))), a1);
            FloatVector s2 = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 70, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xb + 64));
            s2 = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 86, LE).convertShape(VectorOperators.B2F, F, 0))
                    .fma(FloatVector.fromArray(F, x, xb + 80), s2);
            a0 = s2.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(QuantVectors.SHORT, o + 68))), a0);
            FloatVector s3 = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 104, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xb + 96));
            s3 = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 120, LE).convertShape(VectorOperators.B2F, F, 0))
                    .fma(FloatVector.fromArray(F, x, xb + 112), s3);
            a1 = s3.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(QuantVectors.SHORT, o + 102))), a1);
        }
        for (; b + 1 < blocks; b += 2) {
            long o = base + (long) b * BYTES;
            int xb = xOff + b * QK;
            FloatVector s0 = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 2, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xb));
            s0 = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 18, LE).convertShape(VectorOperators.B2F, F, 0))
                    .fma(FloatVector.fromArray(F, x, xb + 16), s0);
            a0 = s0.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(QuantVectors.SHORT, o))), a0);
            FloatVector s1 = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 36, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xb + 32));
            s1 = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 52, LE).convertShape(VectorOperators.B2F, F, 0))
                    .fma(FloatVector.fromArray(F, x, xb + 48), s1);
            a1 = s1.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(QuantVectors.SHORT, o + 34))), a1);
        }
        if (b < blocks) {
            long o = base + (long) b * BYTES;
            int xb = xOff + b * QK;
            FloatVector s0 = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 2, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xb));
            s0 = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 18, LE).convertShape(VectorOperators.B2F, F, 0))
                    .fma(FloatVector.fromArray(F, x, xb + 16), s0);
            a0 = s0.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(QuantVectors.SHORT, o))), a0);
        }
        FloatVector v = a0.add(a1);                         // QuantVectors.sum16, written out (see Q4_0Format's kernel)
        v = v.add(v.rearrange(QuantVectors.X8));
        v = v.add(v.rearrange(QuantVectors.X4));
        v = v.add(v.rearrange(QuantVectors.X2));
        v = v.add(v.rearrange(QuantVectors.X1));
        return v.lane(0);
    }

    private float scalarDot(MemorySegment w, long wOff, float[] x, int xOff, int n) {
        float acc = 0f;
        for (int b = 0; b < n / QK; b++) {
            long o = wOff + (long) b * BYTES;
            float s = 0f;
            for (int j = 0; j < QK; j++) s += QuantVectors.i8(w, o + 2 + j) * x[xOff + b * QK + j];
            acc += s * QuantVectors.f16(w, o);
        }
        return acc;
    }

    @Override
    public int maxAbsCode() {
        return 128;
    }

    /** The signed bytes q and the F16 scales d of blocks [from/32, (from + n)/32). */
    @Override
    public void codes(MemorySegment w, long rowOff, int cols, int from, int n, float[] codes, int codesOff, float[] scales, int scalesOff) {
        long base = rowOff + (long) (from / QK) * BYTES;
        for (int b = 0; b < n / QK; b++) {
            long o = base + (long) b * BYTES;
            scales[scalesOff + b] = QuantVectors.f16(w, o);
            if (QuantVectors.ENABLED) {
                for (int p = 0; p < QK; p += L) {
                    ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 2 + p, LE).convertShape(VectorOperators.B2F, F, 0)).intoArray(codes, codesOff + b * QK + p);
                }
                continue;
            }
            for (int j = 0; j < QK; j++) codes[codesOff + b * QK + j] = QuantVectors.i8(w, o + 2 + j);
        }
    }
}
