package org.jtune.quant.nf4;

/**
 * Nearest-value lookup in a sorted code book (the NF4 levels or the 8-bit dynamic map), as bitsandbytes'
 * reference backend does it: midpoints between neighbours computed in float32, then the number of
 * midpoints strictly below x ({@code torch.bucketize(x, midpoints)}, right = false). NaN compares
 * below everything and maps to index 0, as a comparison tree would.
 */
final class SortedCode {
    private SortedCode() {}

    /** (code[i] + code[i+1]) / 2 in float32, for a code sorted ascending. */
    static float[] midpoints(float[] code) {
        float[] m = new float[code.length - 1];
        for (int i = 0; i < m.length; i++) {
            if (!(code[i] <= code[i + 1])) throw new IllegalArgumentException("code book is not sorted at index " + i);
            m[i] = (code[i] + code[i + 1]) / 2f;
        }
        return m;
    }

    /** The number of midpoints m with m < x (binary search; midpoints sorted ascending). */
    static int bucket(float[] midpoints, float x) {
        int lo = 0, hi = midpoints.length;               // answer in [lo, hi]
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (midpoints[mid] < x) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
