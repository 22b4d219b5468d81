package org.jtune.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A test-only {@link BlockCodec} whose rows are not a plain run of blocks: a row header of one F32 scale per
 * 8-element block (all scales first), then one signed byte per element; w = q·scale. It stands in for formats
 * such as NF4 with double-quantized absmax, whose rows carry their scales apart from their codes, to show that
 * the block kernels need nothing but the interface.
 */
final class RowScaledInt8Codec implements BlockCodec {
    static final RowScaledInt8Codec INSTANCE = new RowScaledInt8Codec();
    private static final int B = 8;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    @Override
    public String name() {
        return "test_rowscaled_i8";
    }

    @Override
    public int blockSize() {
        return B;
    }

    @Override
    public long rowBytes(int cols) {
        return cols / B * 4L + cols;
    }

    @Override
    public void encodeRow(float[] src, int srcOff, int cols, MemorySegment dst, long dstOff) {
        int blocks = cols / B;
        for (int b = 0; b < blocks; b++) {
            float amax = 0;
            for (int j = 0; j < B; j++) amax = Math.max(amax, Math.abs(src[srcOff + b * B + j]));
            float d = amax / 127f, id = d == 0 ? 0 : 1 / d;
            dst.set(F, dstOff + 4L * b, d);
            for (int j = 0; j < B; j++) dst.set(ValueLayout.JAVA_BYTE, dstOff + blocks * 4L + b * B + j, (byte) Math.round(src[srcOff + b * B + j] * id));
        }
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, int cols, int from, int n, float[] dst, int dstOff) {
        int blocks = cols / B;
        for (int t = 0; t < n; t++) {
            int k = from + t;
            dst[dstOff + t] = w.get(ValueLayout.JAVA_BYTE, rowOff + blocks * 4L + k) * w.get(F, rowOff + 4L * (k / B));
        }
    }

    @Override
    public float dot(MemorySegment w, long rowOff, int cols, float[] x, int xOff) {
        float[] row = new float[cols];
        dequantize(w, rowOff, cols, 0, cols, row, 0);
        float s = 0;
        for (int k = 0; k < cols; k++) s = Math.fma(row[k], x[xOff + k], s);
        return s;
    }

    /** The (rows, cols) values of a block tensor, read through the codec only (the reference's view). */
    static double[] values(Tensor q) {
        int rows = q.size(0), cols = q.size(1);
        BlockCodec c = q.blockCodec();
        double[] v = new double[rows * cols];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            c.dequantize(q.storage().segment(), r * c.rowBytes(cols), cols, 0, cols, row, 0);
            for (int k = 0; k < cols; k++) v[r * cols + k] = row[k];
        }
        return v;
    }

    static Tensor quantize(float[] w, int rows, int cols) {
        MemorySegment bytes = MemorySegment.ofArray(new byte[(int) INSTANCE.rowBytes(cols) * rows]);
        for (int r = 0; r < rows; r++) INSTANCE.encodeRow(w, r * cols, cols, bytes, r * INSTANCE.rowBytes(cols));
        return Tensor.blockQuantized(INSTANCE, bytes, rows, cols);
    }
}
