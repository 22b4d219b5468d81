package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.jtune.tensor.DType;
import org.jtune.tensor.Half;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * A tensor seen as rows along one dim: {@link #count()} rows of {@link #length()} elements, row r
 * being the r-th combination of the other dims in row-major order (so row r of an input and row r
 * of a contiguous output with the same outer dims correspond). A kernel reads a row straight from
 * the heap float[] when {@link #direct()} (F32 with unit stride along the dim), otherwise through
 * {@link #load}, which converts F16/BF16/strided elements into a scratch buffer; it writes rows with
 * {@link #store} or, when direct, into the array.
 */
final class Rows {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private final Tensor t;
    private final DType dtype;
    private final int length;
    private final int count;
    private final long stride;
    private final int[] outerShape;
    private final long[] outerStrides;
    private final float[] floats;
    private final short[] shorts;
    private final MemorySegment segment;

    Rows(Tensor t, int dim) {
        this.t = t;
        this.dtype = t.dtype();
        int r = t.rank();
        if (r == 0) {
            length = 1;
            stride = 1;
            outerShape = new int[0];
            outerStrides = new long[0];
        } else {
            dim = t.dim(dim);
            length = t.size(dim);
            stride = t.stride(dim);
            outerShape = new int[r - 1];
            outerStrides = new long[r - 1];
            for (int d = 0, j = 0; d < r; d++) {
                if (d == dim) continue;
                outerShape[j] = t.size(d);
                outerStrides[j++] = t.stride(d);
            }
        }
        long c = 1;
        for (int s : outerShape) c *= s;
        if (c > Integer.MAX_VALUE) throw new IllegalArgumentException("too many rows in " + t);
        count = (int) c;
        segment = t.storage().segment();
        Object base = segment.address() == 0 ? segment.heapBase().orElse(null) : null;
        floats = dtype == DType.F32 && base instanceof float[] a ? a : null;
        shorts = (dtype == DType.BF16 || dtype == DType.F16) && base instanceof short[] a ? a : null;
    }

    static Rows lastDim(Tensor t) {
        return new Rows(t, t.rank() - 1);
    }

    int count() {
        return count;
    }

    int length() {
        return length;
    }

    long stride() {
        return stride;
    }

    /** True when rows can be read and written in place in {@link #array()} at unit stride. */
    boolean direct() {
        return floats != null && (stride == 1 || length <= 1);
    }

    float[] array() {
        return floats;
    }

    /** Storage index of row {@code row}'s first element. */
    long offset(int row) {
        long off = t.offset();
        for (int d = outerShape.length - 1; d >= 0; d--) {
            int s = outerShape[d];
            off += (row % s) * outerStrides[d];
            row /= s;
        }
        return off;
    }

    /** Element i of row {@code row} as a float. */
    float get(int row, int i) {
        return t.storage().getFloat(dtype, offset(row) + i * stride);
    }

    /** Copies row {@code row} into buf[0, length) as floats. */
    void load(int row, float[] buf) {
        long off = offset(row);
        int n = length;
        if (floats != null) {
            if (stride == 1) System.arraycopy(floats, (int) off, buf, 0, n);
            else for (int i = 0; i < n; i++) buf[i] = floats[(int) (off + i * stride)];
        } else if (shorts != null && dtype == DType.BF16) {
            for (int i = 0; i < n; i++) buf[i] = Half.bf16ToFloat(shorts[(int) (off + i * stride)]);
        } else if (shorts != null) {
            for (int i = 0; i < n; i++) buf[i] = Float.float16ToFloat(shorts[(int) (off + i * stride)]);
        } else if (dtype == DType.BF16) {
            for (int i = 0; i < n; i++) buf[i] = Half.bf16ToFloat(segment.get(I16, (off + i * stride) << 1));
        } else {
            for (int i = 0; i < n; i++) buf[i] = t.storage().getFloat(dtype, off + i * stride);
        }
    }

    /** Writes buf[0, length) into row {@code row}, converting to the tensor's dtype. */
    void store(int row, float[] buf) {
        long off = offset(row);
        if (floats != null && stride == 1) {
            System.arraycopy(buf, 0, floats, (int) off, length);
        } else {
            for (int i = 0; i < length; i++) t.storage().setFloat(dtype, off + i * stride, buf[i]);
        }
    }

    /** The array that holds row r: the backing array itself when rows are direct (buf null), else buf filled with the row. */
    float[] arrayOf(int r, float[] buf) {
        if (buf == null) return array();
        load(r, buf);
        return buf;
    }

    /** Where row r starts in {@link #arrayOf}'s array. */
    int baseOf(int r, float[] buf) {
        return buf == null ? (int) offset(r) : 0;
    }

    /** Rows per parallel task so that a task has at least ~16K elements of work. */
    static int grain(long elementsPerRow) {
        return (int) Math.max(1, (1 << 14) / Math.max(1, elementsPerRow));
    }
}
