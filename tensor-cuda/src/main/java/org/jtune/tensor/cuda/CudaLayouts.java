package org.jtune.tensor.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Packs the by-value struct parameters of the kernels, byte for byte as the CUDA C declares them
 * (little-endian): {@code StridedLayout} of common.cuh (rank, shape[8], a[8], b[8]: 25 longs, 200 bytes,
 * no padding) and {@code AttShape} of attention.cu (9 ints and a float, 40 bytes).
 */
public final class CudaLayouts {
    public static final int MAX_RANK = 8;
    public static final int STRIDED_LAYOUT_BYTES = 8 * (1 + 3 * MAX_RANK);
    public static final int ATT_SHAPE_BYTES = 40;

    private CudaLayouts() {}

    /**
     * The layout of an elementwise walk over {@code shape} reading through strides {@code a} and writing
     * through {@code b}. Rank 0 is packed as rank 1 of size 1.
     */
    public static byte[] strided(int[] shape, long[] a, long[] b) {
        if (shape.length > MAX_RANK) throw new IllegalArgumentException("cuda kernels take tensors of rank ≤ " + MAX_RANK + ", got " + shape.length);
        ByteBuffer buf = ByteBuffer.allocate(STRIDED_LAYOUT_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        int rank = Math.max(1, shape.length);
        buf.putLong(rank);
        for (int d = 0; d < MAX_RANK; d++) buf.putLong(d < shape.length ? shape[d] : 1);
        for (int d = 0; d < MAX_RANK; d++) buf.putLong(d < a.length ? a[d] : 0);
        for (int d = 0; d < MAX_RANK; d++) buf.putLong(d < b.length ? b[d] : 0);
        return buf.array();
    }

    /** AttShape {B, T, S, Hq, Hkv, D, causal, window, qOff, scale}. */
    public static byte[] attention(int b, int t, int s, int hq, int hkv, int d, boolean causal, int window, int qOff, float scale) {
        ByteBuffer buf = ByteBuffer.allocate(ATT_SHAPE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(b).putInt(t).putInt(s).putInt(hq).putInt(hkv).putInt(d).putInt(causal ? 1 : 0).putInt(window).putInt(qOff).putFloat(scale);
        return buf.array();
    }
}
