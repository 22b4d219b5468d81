package org.jtune.tensor;

import java.util.Arrays;

/**
 * A dense row-major array of doubles with a shape: the scalar reference's values. Read from a tensor
 * element by element through its strides and {@link Storage#getFloat} (never through a kernel), so the
 * reference sees exactly the values a view holds, whatever its layout and dtype.
 */
record Ref(int[] shape, double[] v) {
    static Ref zeros(int... shape) {
        return new Ref(shape.clone(), new double[(int) Tensor.numel(shape)]);
    }

    static Ref of(Tensor t) {
        if (!t.storage().isHost()) t = t.to(Device.CPU); // a device result is read on the host
        int[] shape = t.shape();
        long[] st = t.strides();
        int n = (int) t.numel();
        double[] v = new double[n];
        int[] p = new int[shape.length];
        for (int k = 0; k < n; k++) {
            long off = t.offset();
            for (int d = 0; d < shape.length; d++) off += p[d] * st[d];
            v[k] = t.dtype() == DType.I32 ? t.storage().getInt(DType.I32, off) : t.storage().getFloat(t.dtype(), off);
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++p[d] < shape[d]) break;
                p[d] = 0;
            }
        }
        return new Ref(shape, v);
    }

    int numel() {
        return v.length;
    }

    int rank() {
        return shape.length;
    }

    /** Row-major strides of this shape. */
    int[] strides() {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            s[d] = acc;
            acc *= shape[d];
        }
        return s;
    }

    int flat(int... idx) {
        int[] s = strides();
        int f = 0;
        for (int d = 0; d < idx.length; d++) f += idx[d] * s[d];
        return f;
    }

    double at(int... idx) {
        return v[flat(idx)];
    }

    /** The multi-index of flat position {@code flat}. */
    int[] unravel(int flat) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }

    @Override
    public String toString() {
        return "Ref" + Arrays.toString(shape);
    }
}
