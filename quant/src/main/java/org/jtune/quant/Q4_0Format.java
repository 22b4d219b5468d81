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
import org.jtune.tensor.Int8BlockCodec;
import org.jtune.tensor.VectorMath;

/**
 * GGML_TYPE_Q4_0 (ggml-common.h {@code block_q4_0}, 18 bytes per 32 weights): an F16 scale d, then 16
 * bytes whose low nibbles are weights 0..15 and high nibbles weights 16..31; w = (q − 8)·d.
 * Quantization is {@code quantize_row_q4_0_ref}: d = max/−8 where max is the value of largest magnitude
 * (the first one on ties), q = min(15, trunc(x/d + 8.5)).
 */
public final class Q4_0Format implements BlockFormat, Int8BlockCodec {
    public static final Q4_0Format INSTANCE = new Q4_0Format();
    private static final int QK = 32;
    private static final int BYTES = 18;

    private Q4_0Format() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, MemorySegment dst, long dstOff, int n) {
        checkRow(n);
        for (int b = 0; b < n / QK; b++) {
            int x0 = srcOff + b * QK;
            long o = dstOff + (long) b * BYTES;
            float amax = 0f, max = 0f;
            for (int j = 0; j < QK; j++) {
                float v = src[x0 + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8f;
            float id = d != 0f ? 1f / d : 0f;
            QuantVectors.putF16(dst, o, d);
            for (int j = 0; j < QK / 2; j++) {
                int q0 = Math.min(15, (int) (src[x0 + j] * id + 8.5f));            // C's (int8_t) truncates
                int q1 = Math.min(15, (int) (src[x0 + QK / 2 + j] * id + 8.5f));
                QuantVectors.put(dst, o + 2 + j, q0 | (q1 << 4));
            }
        }
    }

    /** (q − 8)·d per weight; the vector path gives the same bits (the product is exact). */
    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        checkRow(n);
        if (QuantVectors.ENABLED) {
            for (int b = 0; b < n / QK; b++) {
                long o = srcOff + (long) b * BYTES;
                FloatVector d = FloatVector.broadcast(F, QuantVectors.f16(src, o));
                int y = dstOff + b * QK;
                for (int p = 0; p < QK / 2; p += L) {
                    IntVector q = QuantVectors.widen(src, o + 2 + p);
                    ((FloatVector) q.and(0x0F).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(dst, y + p);
                    ((FloatVector) q.lanewise(VectorOperators.ASHR, 4).and(0x0F).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(dst, y + QK / 2 + p);
                }
            }
            return;
        }
        for (int b = 0; b < n / QK; b++) {
            long o = srcOff + (long) b * BYTES;
            float d = QuantVectors.f16(src, o);
            int y = dstOff + b * QK;
            for (int j = 0; j < QK / 2; j++) {
                int q = QuantVectors.u8(src, o + 2 + j);
                dst[y + j] = ((q & 0x0F) - 8) * d;
                dst[y + j + QK / 2] = ((q >>> 4) - 8) * d;
            }
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
            for (int p = 0; p < QK / 2; p += L) {
                IntVector q = QuantVectors.widen(w, o + 2 + p);
                FloatVector lo = (FloatVector) q.and(0x0F).sub(8).convert(VectorOperators.I2F, 0);
                FloatVector hi = (FloatVector) q.lanewise(VectorOperators.ASHR, 4).and(0x0F).sub(8).convert(VectorOperators.I2F, 0);
                s = lo.fma(FloatVector.fromArray(F, x, xb + p), s);
                s = hi.fma(FloatVector.fromArray(F, x, xb + QK / 2 + p), s);
            }
            acc = s.fma(FloatVector.broadcast(F, QuantVectors.f16(w, o)), acc);
        }
        return VectorMath.sum(acc);
    }

    /** Lane i holds the bits of the float i − 8: nibble → weight code by {@code selectFrom} (indices wrap modulo 16). */
    private static final IntVector CODES = IntVector.fromArray(QuantVectors.I,
            java.util.stream.IntStream.range(0, QuantVectors.I.length()).map(i -> Float.floatToIntBits((i & 15) - 8)).toArray(), 0);

    /**
     * One row times x with 16 F32 lanes (AVX-512), the decode kernel (as Q8_0Format's): the 16 bytes of a block widened
     * to int lanes once (sign-extended), each lane's low nibble, then its high nibble (after a shift), mapped to the float
     * q − 8 through {@link #CODES} with {@code selectFrom}, which wraps the index modulo 16 and so is the nibble mask
     * (vpermd: one operation where the convert and the subtraction of 8 took two, the same floats exactly); their
     * products with x summed and scaled into one of two accumulators (even, odd blocks), four blocks a step written out
     * straight (+6 % against two on one thread), then pairs, then a last block; loads at
     * absolute addresses from {@link QuantVectors#ALL_NATIVE}. The lane sum at the end is QuantVectors.sum16's tree
     * written out: C2 stops inlining methods that are not the JDK's own once a compilation holds ~18,000 nodes
     * (NodeCountInliningCutoff), and a call to sum16 there boxed its vector argument (bench/RESULTS.md, issue 12).
     */
    private static float dot16(long base, float[] x, int xOff, int blocks) {
        MemorySegment w = QuantVectors.ALL_NATIVE;
        IntVector codes = CODES;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;          // even blocks, odd blocks
        int b = 0;
        for (; b + 3 < blocks; b += 4) {                        // four blocks a step: the loop's index arithmetic is a third of its instructions
            long o = base + (long) b * BYTES;
            int xb = xOff + b * QK;
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 2, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
            FloatVector s0 = q0.selectFrom(codes).reinterpretAsFloats().mul(FloatVector.fromArray(F, x, xb));
            s0 = q0.lanewise(VectorOperators.ASHR, 4).selectFrom(codes).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xb + 16), s0);
            a0 = s0.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(QuantVectors.SHORT, o))), a0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 20, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
            FloatVector s1 = q1.selectFrom(codes).reinterpretAsFloats().mul(FloatVector.fromArray(F, x, xb + 32));
            s1 = q1.lanewise(VectorOperators.ASHR, 4).selectFrom(codes).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xb + 48), s1);
            a1 = s1.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(QuantVectors.SHORT, o + 18))), a1);
            IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 38, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
            FloatVector s2 = q2.selectFrom(codes).reinterpretAsFloats().mul(FloatVector.fromArray(F, x, xb + 64));
            s2 = q2.lanewise(VectorOperators.ASHR, 4).selectFrom(codes).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xb + 80), s2);
            a0 = s2.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(QuantVectors.SHORT, o + 36))), a0);
            IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 56, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
            FloatVector s3 = q3.selectFrom(codes).reinterpretAsFloats().mul(FloatVector.fromArray(F, x, xb + 96));
            s3 = q3.lanewise(VectorOperators.ASHR, 4).selectFrom(codes).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xb + 112), s3);
            a1 = s3.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(QuantVectors.SHORT, o + 54))), a1);
        }
        for (; b + 1 < blocks; b += 2) {
            long o = base + (long) b * BYTES;
            int xb = xOff + b * QK;
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 2, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
            FloatVector s0 = q0.selectFrom(codes).reinterpretAsFloats().mul(FloatVector.fromArray(F, x, xb));
            s0 = q0.lanewise(VectorOperators.ASHR, 4).selectFrom(codes).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xb + 16), s0);
            a0 = s0.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(QuantVectors.SHORT, o))), a0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 20, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
            FloatVector s1 = q1.selectFrom(codes).reinterpretAsFloats().mul(FloatVector.fromArray(F, x, xb + 32));
            s1 = q1.lanewise(VectorOperators.ASHR, 4).selectFrom(codes).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xb + 48), s1);
            a1 = s1.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(QuantVectors.SHORT, o + 18))), a1);
        }
        if (b < blocks) {
            long o = base + (long) b * BYTES;
            int xb = xOff + b * QK;
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, w, o + 2, LE).convertShape(VectorOperators.B2I, QuantVectors.I, 0);
            FloatVector s0 = q0.selectFrom(codes).reinterpretAsFloats().mul(FloatVector.fromArray(F, x, xb));
            s0 = q0.lanewise(VectorOperators.ASHR, 4).selectFrom(codes).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xb + 16), s0);
            a0 = s0.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(QuantVectors.SHORT, o))), a0);
        }
        FloatVector v = a0.add(a1);                         // QuantVectors.sum16, written out
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
            int xb = xOff + b * QK;
            float s = 0f;
            for (int j = 0; j < QK / 2; j++) {
                int q = QuantVectors.u8(w, o + 2 + j);
                s += ((q & 0x0F) - 8) * x[xb + j] + ((q >>> 4) - 8) * x[xb + QK / 2 + j];
            }
            acc += s * QuantVectors.f16(w, o);
        }
        return acc;
    }

    @Override
    public int maxAbsCode() {
        return 8;
    }

    /** The codes q − 8 (low nibbles first, then high) and the F16 scales d of blocks [from/32, (from + n)/32). */
    @Override
    public void codes(MemorySegment w, long rowOff, int cols, int from, int n, float[] codes, int codesOff, float[] scales, int scalesOff) {
        long base = rowOff + (long) (from / QK) * BYTES;
        for (int b = 0; b < n / QK; b++) {
            long o = base + (long) b * BYTES;
            scales[scalesOff + b] = QuantVectors.f16(w, o);
            int y = codesOff + b * QK;
            if (QuantVectors.ENABLED) {
                for (int p = 0; p < QK / 2; p += L) {
                    IntVector q = QuantVectors.widen(w, o + 2 + p);
                    ((FloatVector) q.and(0x0F).sub(8).convert(VectorOperators.I2F, 0)).intoArray(codes, y + p);
                    ((FloatVector) q.lanewise(VectorOperators.ASHR, 4).and(0x0F).sub(8).convert(VectorOperators.I2F, 0)).intoArray(codes, y + QK / 2 + p);
                }
                continue;
            }
            for (int j = 0; j < QK / 2; j++) {
                int q = QuantVectors.u8(w, o + 2 + j);
                codes[y + j] = (q & 0x0F) - 8;
                codes[y + j + QK / 2] = (q >>> 4) - 8;
            }
        }
    }
}
