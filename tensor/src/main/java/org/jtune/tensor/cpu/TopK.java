package org.jtune.tensor.cpu;

import java.util.Arrays;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * The k largest values along the last dim in descending order, with their indices. Order: NaN
 * above +∞ (as torch.topk), −0 equal to +0, equal values by ascending index. Small k keeps a sorted
 * list of the best k seen so far (one scan, insertion); large k sorts the row by a 64-bit key
 * (order-preserving bits of the value, then the index), so both paths give the same answer.
 */
final class TopK {
    private static final int INSERTION_MAX_K = 32;

    private TopK() {}

    static void topK(Tensor x, int k, Tensor values, Tensor indices) {
        Rows in = Rows.lastDim(x);
        Rows vo = Rows.lastDim(values), io = Rows.lastDim(indices);
        int n = in.length();
        if (k == 0 || in.count() == 0) return;
        Parallel.forRange(in.count(), Rows.grain((long) n * (k <= INSERTION_MAX_K ? 2 : 20)), (r0, r1) -> {
            float[] buf = in.direct() ? null : new float[n];
            float[] vals = new float[k];
            int[] idx = new int[k];
            long[] keys = k <= INSERTION_MAX_K ? null : new long[n];
            for (int r = r0; r < r1; r++) {
                float[] a = in.arrayOf(r, buf);
                int base = in.baseOf(r, buf);
                if (keys == null) insertionTopK(a, base, n, k, vals, idx);
                else sortedTopK(a, base, n, k, keys, vals, idx);
                vo.store(r, vals);
                long io0 = io.offset(r);
                for (int i = 0; i < k; i++) indices.storage().setInt(DType.I32, io0 + i * io.stride(), idx[i]);
            }
        });
    }

    /** Order-preserving int for a float: NaN (any payload) highest, −0 as +0. */
    static int orderKey(float f) {
        if (f != f) return Integer.MAX_VALUE;
        int bits = Float.floatToRawIntBits(f == 0f ? 0f : f);
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    private static void insertionTopK(float[] a, int off, int n, int k, float[] vals, int[] idx) {
        int[] keys = new int[k];
        int count = 0;
        for (int i = 0; i < n; i++) {
            int key = orderKey(a[off + i]);
            if (count == k && key <= keys[k - 1]) continue; // an equal value seen earlier stays ahead
            int pos = count == k ? k - 1 : count++;
            while (pos > 0 && keys[pos - 1] < key) {
                keys[pos] = keys[pos - 1];
                vals[pos] = vals[pos - 1];
                idx[pos] = idx[pos - 1];
                pos--;
            }
            keys[pos] = key;
            vals[pos] = a[off + i];
            idx[pos] = i;
        }
    }

    private static void sortedTopK(float[] a, int off, int n, int k, long[] keys, float[] vals, int[] idx) {
        // Ascending order of (−value, index): negate the order key (as a long, so MIN_VALUE is safe).
        for (int i = 0; i < n; i++) keys[i] = (-(long) orderKey(a[off + i]) << 32) | i;
        Arrays.sort(keys);
        for (int i = 0; i < k; i++) {
            idx[i] = (int) keys[i];
            vals[i] = a[off + idx[i]];
        }
    }
}
