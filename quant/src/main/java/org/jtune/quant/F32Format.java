package org.jtune.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import org.jtune.tensor.VectorMath;

/** GGML_TYPE_F32: IEEE binary32, little-endian, one element per "block". */
public final class F32Format implements BlockFormat {
    public static final F32Format INSTANCE = new F32Format();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(QuantVectors.LE);

    private F32Format() {}

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, MemorySegment dst, long dstOff, int n) {
        MemorySegment.copy(src, srcOff, dst, FLOAT, dstOff, n);
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        MemorySegment.copy(src, FLOAT, srcOff, dst, dstOff, n);
    }

    @Override
    public float dot(MemorySegment w, long wOff, float[] x, int xOff, int n) {
        int i = 0;
        float s = 0f;
        if (QuantVectors.ENABLED) {
            FloatVector acc = FloatVector.zero(QuantVectors.F);
            for (int bound = n - n % QuantVectors.L; i < bound; i += QuantVectors.L) {
                FloatVector wv = FloatVector.fromMemorySegment(QuantVectors.F, w, wOff + 4L * i, QuantVectors.LE);
                acc = wv.fma(FloatVector.fromArray(QuantVectors.F, x, xOff + i), acc);
            }
            s = VectorMath.sum(acc);
        }
        for (; i < n; i++) s += w.get(FLOAT, wOff + 4L * i) * x[xOff + i];
        return s;
    }
}
