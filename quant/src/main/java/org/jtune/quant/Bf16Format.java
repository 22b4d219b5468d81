package org.jtune.quant;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import org.jtune.tensor.Half;
import org.jtune.tensor.VectorMath;

/**
 * GGML_TYPE_BF16: the top 16 bits of a binary32, little-endian. Conversion from F32 is ggml's
 * {@code ggml_compute_fp32_to_bf16}: round to nearest even, NaN kept quiet; widening is exact.
 */
public final class Bf16Format implements BlockFormat {
    public static final Bf16Format INSTANCE = new Bf16Format();

    private Bf16Format() {}

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, MemorySegment dst, long dstOff, int n) {
        for (int i = 0; i < n; i++) dst.set(QuantVectors.SHORT, dstOff + 2L * i, Half.floatToBf16(src[srcOff + i]));
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) dst[dstOff + i] = Half.bf16ToFloat(src.get(QuantVectors.SHORT, srcOff + 2L * i));
    }

    @Override
    public float dot(MemorySegment w, long wOff, float[] x, int xOff, int n) {
        int i = 0;
        float s = 0f;
        if (QuantVectors.ENABLED) {
            FloatVector acc = FloatVector.zero(QuantVectors.F);
            for (int bound = n - n % QuantVectors.L; i < bound; i += QuantVectors.L) {
                ShortVector bits = ShortVector.fromMemorySegment(QuantVectors.H, w, wOff + 2L * i, QuantVectors.LE);
                acc = QuantVectors.bf16Bits(bits).fma(FloatVector.fromArray(QuantVectors.F, x, xOff + i), acc);
            }
            s = VectorMath.sum(acc);
        }
        for (; i < n; i++) s += Half.bf16ToFloat(w.get(QuantVectors.SHORT, wOff + 2L * i)) * x[xOff + i];
        return s;
    }
}
