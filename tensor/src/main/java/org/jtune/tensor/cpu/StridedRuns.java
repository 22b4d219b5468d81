package org.jtune.tensor.cpu;

/**
 * The index space of an elementwise kernel over several operands of one shape, each with its own
 * strides: dims that are contiguous for every operand are merged, and the space is walked as
 * {@link #outer()} runs of {@link #inner()} elements. {@link #bases} gives each operand's storage
 * offset at the start of a run, so work can be split by runs across threads.
 */
final class StridedRuns {
    private final int[] shape;      // coalesced, rank ≥ 1
    private final long[][] strides; // [operand][dim]
    private final long[] offsets;   // [operand]

    StridedRuns(int[] shape, long[] offsets, long[]... strides) {
        int r = shape.length;
        int k = strides.length;
        int[] s = new int[Math.max(r, 1)];
        long[][] st = new long[k][Math.max(r, 1)];
        int n = 0;
        if (r == 0) {
            s[0] = 1;
            n = 1;
        }
        for (int d = 0; d < r; d++) {
            if (shape[d] == 1 && r > 1) continue;
            if (n > 0 && mergeable(s[n - 1], st, n - 1, shape[d], strides, d)) {
                for (int p = 0; p < k; p++) st[p][n - 1] = strides[p][d];
                s[n - 1] *= shape[d];
                continue;
            }
            s[n] = shape[d];
            for (int p = 0; p < k; p++) st[p][n] = strides[p][d];
            n++;
        }
        if (n == 0) {
            s[0] = 1;
            n = 1;
        }
        this.shape = java.util.Arrays.copyOf(s, n);
        this.strides = new long[k][];
        for (int p = 0; p < k; p++) this.strides[p] = java.util.Arrays.copyOf(st[p], n);
        this.offsets = offsets;
    }

    private static boolean mergeable(int prevSize, long[][] st, int prev, int size, long[][] strides, int d) {
        for (int p = 0; p < st.length; p++) {
            if (st[p][prev] != strides[p][d] * size) return false;
        }
        return true;
    }

    int inner() {
        return shape[shape.length - 1];
    }

    long innerStride(int operand) {
        return strides[operand][shape.length - 1];
    }

    long outer() {
        long o = 1;
        for (int d = 0; d < shape.length - 1; d++) o *= shape[d];
        return o;
    }

    /** Writes each operand's offset at the start of run {@code run} into {@code out}. */
    void bases(long run, long[] out) {
        for (int p = 0; p < out.length; p++) out[p] = offsets[p];
        for (int d = shape.length - 2; d >= 0; d--) {
            long i = run % shape[d];
            run /= shape[d];
            for (int p = 0; p < out.length; p++) out[p] += i * strides[p][d];
        }
    }
}
