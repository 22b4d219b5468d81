package org.jtune.tensor.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;

/**
 * Index-driven copies: embedding rows, index_select, gather, and the in-place scatter-adds that are
 * their gradients (embedding backward, scatter_add). Every index is checked before anything is written; an index out of range throws
 * an IllegalArgumentException naming the op, the position of the index and its value. scatter_add
 * runs sequentially so that repeated indices always add in the same order.
 */
final class Indexing {
    private Indexing() {}

    static void embedding(Tensor weight, Tensor ids, Tensor out) {
        int v = weight.size(0), d = weight.size(1), n = ids.size(0);
        int[] id = new int[n];
        for (int i = 0; i < n; i++) {
            id[i] = ids.storage().getInt(DType.I32, ids.offset() + i * ids.stride(0));
            if (id[i] < 0 || id[i] >= v) {
                throw new IllegalArgumentException("embedding: id " + id[i] + " at position " + i + " outside [0, " + v
                        + ") for weight " + Arrays.toString(weight.shape()));
            }
        }
        Rows w = Rows.lastDim(weight);
        Rows o = Rows.lastDim(out);
        Parallel.forRange(n, Rows.grain(d), (r0, r1) -> {
            float[] buf = new float[d];
            for (int r = r0; r < r1; r++) {
                if (o.direct()) {
                    if (w.direct()) System.arraycopy(w.array(), (int) w.offset(id[r]), o.array(), (int) o.offset(r), d);
                    else {
                        w.load(id[r], buf);
                        System.arraycopy(buf, 0, o.array(), (int) o.offset(r), d);
                    }
                } else {
                    w.load(id[r], buf);
                    o.store(r, buf);
                }
            }
        });
    }

    /**
     * dW[ids[i]] += g[i] for every i with ids[i] ≥ 0 (the backward of {@link #embedding}), touching only
     * the rows used. Split across threads by columns, each walking the positions in order, so repeated
     * ids add in the same order whatever the thread count.
     */
    static void embeddingBackward(Tensor g, Tensor ids, Tensor dW) {
        int rows = dW.size(0), d = dW.size(1), n = ids.size(0);
        int[] id = new int[n];
        for (int i = 0; i < n; i++) {
            id[i] = ids.storage().getInt(DType.I32, ids.offset() + i * ids.stride(0));
            if (id[i] >= rows) {
                throw new IllegalArgumentException("embedding backward: id " + id[i] + " at position " + i + " outside [0, " + rows
                        + ") for a gradient of " + Arrays.toString(dW.shape()));
            }
        }
        Tensor gd = Elementwise.dense(g);
        float[] ga = Elementwise.arr(gd), o = Elementwise.arr(dW);
        int go = (int) gd.offset(), oo = (int) dW.offset();
        Parallel.forRange(d, Math.max(RowKernels.L, 256), (c0, c1) -> {
            for (int i = 0; i < n; i++) {
                if (id[i] < 0) continue;
                int ob = oo + id[i] * d, gb = go + i * d;
                int c = c0;
                for (int bound = c0 + RowKernels.S.loopBound(c1 - c0); c < bound; c += RowKernels.L) {
                    FloatVector.fromArray(RowKernels.S, o, ob + c).add(FloatVector.fromArray(RowKernels.S, ga, gb + c)).intoArray(o, ob + c);
                }
                for (; c < c1; c++) o[ob + c] += ga[gb + c];
            }
        });
    }

    static void indexSelect(Tensor x, int dim, Tensor idx, Tensor out) {
        int n = idx.size(0), size = x.size(dim);
        int[] id = new int[n];
        for (int i = 0; i < n; i++) {
            id[i] = idx.storage().getInt(DType.I32, idx.offset() + i * idx.stride(0));
            if (id[i] < 0 || id[i] >= size) {
                throw new IllegalArgumentException("index_select: index " + id[i] + " at position " + i + " outside [0, " + size
                        + ") of dim " + dim + " of " + Arrays.toString(x.shape()));
            }
        }
        for (int i = 0; i < n; i++) Elementwise.copy(x.narrow(dim, id[i], 1), out.narrow(dim, i, 1));
    }

    /** out[p] ← x[p with coordinate dim replaced by idx[p]], for every position p of idx. */
    static void gather(Tensor x, int dim, Tensor idx, Tensor out) {
        int size = x.size(dim);
        forEachIndex(idx, x, dim, "gather", (p, xOff) -> {}, size); // validates all indices first
        Storage xs = x.storage(), os = out.storage();
        DType xt = x.dtype(), ot = out.dtype();
        long[] oStrides = out.strides();
        forEachIndex(idx, x, dim, "gather", (p, xOff) -> {
            long oOff = out.offset();
            for (int d = 0; d < p.length; d++) oOff += p[d] * oStrides[d];
            os.setFloat(ot, oOff, xs.getFloat(xt, xOff));
        }, size);
    }

    /** dst[p with coordinate dim replaced by idx[p]] += src[p], in place, in row-major order of p. */
    static void scatterAdd(Tensor dst, int dim, Tensor idx, Tensor src) {
        int size = dst.size(dim);
        forEachIndex(idx, dst, dim, "scatter_add", (p, dOff) -> {}, size);
        Storage ds = dst.storage(), ss = src.storage();
        DType dt = dst.dtype(), st = src.dtype();
        long[] sStrides = src.strides();
        forEachIndex(idx, dst, dim, "scatter_add", (p, dOff) -> {
            long sOff = src.offset();
            for (int d = 0; d < p.length; d++) sOff += p[d] * sStrides[d];
            ds.setFloat(dt, dOff, ds.getFloat(dt, dOff) + ss.getFloat(st, sOff));
        }, size);
    }

    @FunctionalInterface
    private interface IndexBody {
        /** p: the position in idx; target: the storage index in the indexed tensor. */
        void at(int[] p, long target);
    }

    /**
     * Walks every position p of idx in row-major order, checking idx[p] ∈ [0, size), and calls body
     * with the storage index of the indexed element of t.
     */
    private static void forEachIndex(Tensor idx, Tensor t, int dim, String op, IndexBody body, int size) {
        int r = idx.rank();
        int[] shape = idx.shape();
        long n = idx.numel();
        if (n == 0) return;
        long[] is = idx.strides(), ts = t.strides();
        int[] p = new int[r];
        Storage st = idx.storage();
        for (long k = 0; k < n; k++) {
            long iOff = idx.offset(), tOff = t.offset();
            for (int d = 0; d < r; d++) {
                iOff += p[d] * is[d];
                if (d != dim) tOff += p[d] * ts[d];
            }
            int v = st.getInt(DType.I32, iOff);
            if (v < 0 || v >= size) {
                throw new IllegalArgumentException(op + ": index " + v + " at " + Arrays.toString(p) + " outside [0, " + size
                        + ") of dim " + dim + " of " + Arrays.toString(t.shape()));
            }
            body.at(p, tOff + v * ts[dim]);
            for (int d = r - 1; d >= 0; d--) {
                if (++p[d] < shape[d]) break;
                p[d] = 0;
            }
        }
    }
}
