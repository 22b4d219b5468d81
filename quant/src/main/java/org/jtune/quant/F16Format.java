package org.jtune.quant;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import org.jtune.tensor.VectorMath;

/**
 * GGML_TYPE_F16: IEEE binary16, little-endian. Conversion from F32 rounds to nearest even, as ggml's
 * GGML_FP32_TO_FP16 (F16C or its C fallback) does; widening is exact.
 */
public final class F16Format implements BlockFormat {
    public static final F16Format INSTANCE = new F16Format();

    private F16Format() {}

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, MemorySegment dst, long dstOff, int n) {
        for (int i = 0; i < n; i++) QuantVectors.putF16(dst, dstOff + 2L * i, src[srcOff + i]);
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) dst[dstOff + i] = QuantVectors.f16(src, srcOff + 2L * i);
    }

    @Override
    public float dot(MemorySegment w, long wOff, float[] x, int xOff, int n) {
        int i = 0;
        float s = 0f;
        if (QuantVectors.ENABLED) {
            FloatVector acc = FloatVector.zero(QuantVectors.F);
            for (int bound = n - n % QuantVectors.L; i < bound; i += QuantVectors.L) {
                ShortVector bits = ShortVector.fromMemorySegment(QuantVectors.H, w, wOff + 2L * i, QuantVectors.LE);
                acc = QuantVectors.f16Bits(bits).fma(FloatVector.fromArray(QuantVectors.F, x, xOff + i), acc);
            }
            s = VectorMath.sum(acc);
        }
        for (; i < n; i++) s += QuantVectors.f16(w, wOff + 2L * i) * x[xOff + i];
        return s;
    }
}
