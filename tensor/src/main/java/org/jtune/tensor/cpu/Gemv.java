package org.jtune.tensor.cpu;

import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix-vector products for a few rows of A (decode: M = 1..{@link #MAX_ROWS}): C (M, N) ← (C or 0) +
 * A (M, K) · B (K, N), streaming B once from memory. A arrives packed as contiguous F32 rows. Two
 * layouts of B are handled without copies:
 * <ul>
 * <li>K contiguous (the transposed (N, K) weight of a Linear): each output is a dot product of an A
 *     row with a weight row; four weight rows are read together with four vector accumulators;</li>
 * <li>N contiguous (a row-major B): each B row is scaled by A's element and added to a C chunk that
 *     stays in L1.</li>
 * </ul>
 * BF16/F16 weights are widened to F32 in registers ({@link HalfVectors}). The caller splits columns
 * [j0, j1) across threads; each output's sum runs over k in a fixed order (vector lanes, then lanes
 * reduced, then the scalar tail), independent of the split.
 */
final class Gemv {
    static final int MAX_ROWS = 4;
    private static final VectorSpecies<Float> S = HalfVectors.F;
    private static final int L = S.length();
    private static final int CHUNK = 512;

    private Gemv() {}

    /** True when B's layout has a unit stride this class streams along. */
    static boolean handles(StridedMatrix b) {
        return b.rowStride() == 1 || b.colStride() == 1;
    }

    /** a: M rows of K floats at a[m·K]; C rows at c[co + m·ldc]. */
    static void run(float[] a, int m, int k, StridedMatrix b, float[] c, int co, int ldc, int j0, int j1, boolean accumulate) {
        if (b.rowStride() == 1) dots(a, m, k, b, c, co, ldc, j0, j1, accumulate);
        else axpys(a, m, k, b, c, co, ldc, j0, j1, accumulate);
    }

    private static FloatVector load(StridedMatrix b, long i) {
        return switch (b.dtype()) {
            case F32 -> b.floats() != null ? FloatVector.fromArray(S, b.floats(), (int) i)
                    : FloatVector.fromMemorySegment(S, b.segment(), i << 2, ByteOrder.LITTLE_ENDIAN);
            case BF16 -> b.shorts() != null ? HalfVectors.bf16(b.shorts(), (int) i) : HalfVectors.bf16(b.segment(), i << 1);
            default -> b.shorts() != null ? HalfVectors.f16(b.shorts(), (int) i) : HalfVectors.f16(b.segment(), i << 1);
        };
    }

    private static void dots(float[] a, int m, int k, StridedMatrix b, float[] c, int co, int ldc, int j0, int j1, boolean accumulate) {
        int bound = k - k % L;
        int j = j0;
        for (; j + 4 <= j1; j += 4) {
            long w0 = b.index(0, j), w1 = b.index(0, j + 1), w2 = b.index(0, j + 2), w3 = b.index(0, j + 3);
            for (int r = 0; r < m; r++) {
                int ao = r * k;
                FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                for (int t = 0; t < bound; t += L) {
                    FloatVector x = FloatVector.fromArray(S, a, ao + t);
                    s0 = load(b, w0 + t).fma(x, s0);
                    s1 = load(b, w1 + t).fma(x, s1);
                    s2 = load(b, w2 + t).fma(x, s2);
                    s3 = load(b, w3 + t).fma(x, s3);
                }
                float d0 = s0.reduceLanes(VectorOperators.ADD), d1 = s1.reduceLanes(VectorOperators.ADD);
                float d2 = s2.reduceLanes(VectorOperators.ADD), d3 = s3.reduceLanes(VectorOperators.ADD);
                for (int t = bound; t < k; t++) {
                    float x = a[ao + t];
                    d0 += x * b.at(w0 + t);
                    d1 += x * b.at(w1 + t);
                    d2 += x * b.at(w2 + t);
                    d3 += x * b.at(w3 + t);
                }
                int o = co + r * ldc + j;
                c[o] = accumulate ? c[o] + d0 : d0;
                c[o + 1] = accumulate ? c[o + 1] + d1 : d1;
                c[o + 2] = accumulate ? c[o + 2] + d2 : d2;
                c[o + 3] = accumulate ? c[o + 3] + d3 : d3;
            }
        }
        for (; j < j1; j++) {
            long w = b.index(0, j);
            for (int r = 0; r < m; r++) {
                int ao = r * k;
                FloatVector s0 = FloatVector.zero(S);
                for (int t = 0; t < bound; t += L) s0 = load(b, w + t).fma(FloatVector.fromArray(S, a, ao + t), s0);
                float d = s0.reduceLanes(VectorOperators.ADD);
                for (int t = bound; t < k; t++) d += a[ao + t] * b.at(w + t);
                int o = co + r * ldc + j;
                c[o] = accumulate ? c[o] + d : d;
            }
        }
    }

    private static void axpys(float[] a, int m, int k, StridedMatrix b, float[] c, int co, int ldc, int j0, int j1, boolean accumulate) {
        for (int jc = j0; jc < j1; jc += CHUNK) {
            int je = Math.min(j1, jc + CHUNK);
            int bound = jc + (je - jc) - (je - jc) % L;
            for (int r = 0; r < m; r++) {
                if (!accumulate) java.util.Arrays.fill(c, co + r * ldc + jc, co + r * ldc + je, 0f);
            }
            for (int p = 0; p < k; p++) {
                long row = b.index(p, 0);
                for (int r = 0; r < m; r++) {
                    FloatVector x = FloatVector.broadcast(S, a[r * k + p]);
                    float xs = a[r * k + p];
                    int o = co + r * ldc;
                    int j = jc;
                    for (; j < bound; j += L) {
                        load(b, row + j).fma(x, FloatVector.fromArray(S, c, o + j)).intoArray(c, o + j);
                    }
                    for (; j < je; j++) c[o + j] += xs * b.at(row + j);
                }
            }
        }
    }
}
