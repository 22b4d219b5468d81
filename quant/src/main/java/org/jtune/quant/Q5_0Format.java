package org.jtune.quant;

import java.lang.foreign.MemorySegment;
import org.jtune.tensor.Int8BlockCodec;

/**
 * GGML_TYPE_Q5_0 (ggml-common.h {@code block_q5_0}, 22 bytes per 32 weights): an F16 scale d, a 32-bit
 * little-endian word qh holding the fifth bit of each weight (bit j for weight j), then 16 bytes whose low nibbles
 * are the low 4 bits of weights 0..15 and high nibbles those of weights 16..31; w = (q − 16)·d. Quantization is
 * {@code quantize_row_q5_0_ref}: d = max/−16 with max the value of largest magnitude (the first one on ties),
 * q = min(31, trunc(x/d + 16.5)). llama.cpp's Q4_K_M uses it where rows are not whole 256-element blocks (small
 * models), so jtune reads it; the kernels are scalar (it is a fallback type, a few matrices of a file).
 */
public final class Q5_0Format implements BlockFormat, Int8BlockCodec {
    public static final Q5_0Format INSTANCE = new Q5_0Format();
    private static final int QK = 32;
    private static final int BYTES = 22;

    private Q5_0Format() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q5_0;
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
            float d = max / -16f;
            float id = d != 0f ? 1f / d : 0f;
            QuantVectors.putF16(dst, o, d);
            int qh = 0;
            for (int j = 0; j < QK / 2; j++) {
                int q0 = Math.min(31, (int) (src[x0 + j] * id + 16.5f));            // C's (int8_t) truncates
                int q1 = Math.min(31, (int) (src[x0 + QK / 2 + j] * id + 16.5f));
                QuantVectors.put(dst, o + 6 + j, (q0 & 0x0F) | ((q1 & 0x0F) << 4));
                qh |= ((q0 & 0x10) >>> 4) << j;
                qh |= ((q1 & 0x10) >>> 4) << (j + QK / 2);
            }
            dst.set(QuantVectors.INT, o + 2, qh);
        }
    }

    /** (q − 16)·d per weight (exact products). */
    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        checkRow(n);
        for (int b = 0; b < n / QK; b++) {
            long o = srcOff + (long) b * BYTES;
            float d = QuantVectors.f16(src, o);
            int qh = src.get(QuantVectors.INT, o + 2);
            int y = dstOff + b * QK;
            for (int j = 0; j < QK / 2; j++) {
                int qs = QuantVectors.u8(src, o + 6 + j);
                int h0 = ((qh >>> j) << 4) & 0x10, h1 = (qh >>> (j + 12)) & 0x10;
                dst[y + j] = (((qs & 0x0F) | h0) - 16) * d;
                dst[y + j + QK / 2] = (((qs >>> 4) | h1) - 16) * d;
            }
        }
    }

    /** Σ w·x over the row, block by block: each block's 32 products summed in index order, then scaled sums added in block order. */
    @Override
    public float dot(MemorySegment w, long wOff, float[] x, int xOff, int n) {
        checkRow(n);
        float[] block = new float[QK];
        float sum = 0f;
        for (int b = 0; b < n / QK; b++) {
            dequantizeRow(w, wOff + (long) b * BYTES, block, 0, QK);
            float s = 0f;
            for (int j = 0; j < QK; j++) s = Math.fma(block[j], x[xOff + b * QK + j], s);
            sum += s;
        }
        return sum;
    }

    @Override
    public int maxAbsCode() {
        return 16;
    }

    /** The codes q − 16 (fifth bit from qh) and the F16 scales d of blocks [from/32, (from + n)/32). */
    @Override
    public void codes(MemorySegment w, long rowOff, int cols, int from, int n, float[] codes, int codesOff, float[] scales, int scalesOff) {
        long base = rowOff + (long) (from / QK) * BYTES;
        for (int b = 0; b < n / QK; b++) {
            long o = base + (long) b * BYTES;
            scales[scalesOff + b] = QuantVectors.f16(w, o);
            int qh = w.get(QuantVectors.INT, o + 2);
            int y = codesOff + b * QK;
            for (int j = 0; j < QK / 2; j++) {
                int qs = QuantVectors.u8(w, o + 6 + j);
                int h0 = ((qh >>> j) << 4) & 0x10, h1 = (qh >>> (j + 12)) & 0x10;
                codes[y + j] = ((qs & 0x0F) | h0) - 16;
                codes[y + j + QK / 2] = ((qs >>> 4) | h1) - 16;
            }
        }
    }
}
