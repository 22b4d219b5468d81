package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GEMM micro-kernel: one MR × NR tile of C (NR = two vectors of the preferred species, 32 columns with AVX-512,
 * 16 with AVX2) from a packed A strip (kc × MR, depth-major) and a packed B strip (kc × NR). MR is 8 rows where the
 * machine has 32 vector registers (AVX-512: 16 accumulators, two B vectors and a broadcast fit) and 6 where it has 16
 * (AVX2: 12 accumulators + 3 = 15, where the 8-row tile needs 19). The 6-row tile reads A's values through a heap
 * segment over the packed array: on a Zen 3 core the same tile broadcasting {@code a[i]} ran at 44 GFLOP/s in L1 and
 * through the segment at 82 (OpenBLAS's whole 2048³ SGEMM: 88), the array element's load apparently not folded into
 * the broadcast there. The segment holds the strip alone ({@link StripSegments}): C2 then proves the reads in
 * bounds once, before the loop; offset into the whole packed block it checked each of the six reads at every step (30
 * instructions a step instead of 20: 66 against 78 GFLOP/s in L2, the whole 2048³ product 64 against 75).
 * C tile ← (load ? C tile : 0) + Σ_k a[k]ᵀ·b[k], summed in order k = 0..kc−1 with one FMA per step.
 * The 16 accumulators are plain locals of one method and the k loop is fully unrolled over the tile,
 * so the JIT keeps them in vector registers (an array of accumulators or a helper call spills them).
 * Bounds checks on the packed arrays are linear in k and hoisted out of the loop by the JIT.
 */
final class GemmKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Vector length in floats. */
    static final int L = S.length();
    static final int MR = L == 8 ? 6 : 8;
    static final int NR = 2 * L;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final float[] ZEROS = new float[NR];

    private GemmKernel() {}

    /** The tile at c[co + i·ldc + j], i &lt; MR, j &lt; NR, of the A strip at a[ao ..], which {@code strip} holds alone. */
    static void tile(int kc, float[] a, int ao, MemorySegment strip, float[] b, int bo, float[] c, int co, int ldc, boolean load) {
        if (MR == 6) tile6(kc, strip, b, bo, c, co, ldc, load);
        else tile8(kc, a, ao, b, bo, c, co, ldc, load);
    }

    /** The 8-row tile. */
    static void tile8(int kc, float[] a, int ao, float[] b, int bo, float[] c, int co, int ldc, boolean load) {
        int r0 = co + 0 * ldc;
        int r1 = co + 1 * ldc;
        int r2 = co + 2 * ldc;
        int r3 = co + 3 * ldc;
        int r4 = co + 4 * ldc;
        int r5 = co + 5 * ldc;
        int r6 = co + 6 * ldc;
        int r7 = co + 7 * ldc;
        FloatVector c00, c01;
        FloatVector c10, c11;
        FloatVector c20, c21;
        FloatVector c30, c31;
        FloatVector c40, c41;
        FloatVector c50, c51;
        FloatVector c60, c61;
        FloatVector c70, c71;
        if (load) {
            c00 = FloatVector.fromArray(S, c, r0); c01 = FloatVector.fromArray(S, c, r0 + L);
            c10 = FloatVector.fromArray(S, c, r1); c11 = FloatVector.fromArray(S, c, r1 + L);
            c20 = FloatVector.fromArray(S, c, r2); c21 = FloatVector.fromArray(S, c, r2 + L);
            c30 = FloatVector.fromArray(S, c, r3); c31 = FloatVector.fromArray(S, c, r3 + L);
            c40 = FloatVector.fromArray(S, c, r4); c41 = FloatVector.fromArray(S, c, r4 + L);
            c50 = FloatVector.fromArray(S, c, r5); c51 = FloatVector.fromArray(S, c, r5 + L);
            c60 = FloatVector.fromArray(S, c, r6); c61 = FloatVector.fromArray(S, c, r6 + L);
            c70 = FloatVector.fromArray(S, c, r7); c71 = FloatVector.fromArray(S, c, r7 + L);
        } else {
            FloatVector z = FloatVector.zero(S);
            c00 = z; c01 = z;
            c10 = z; c11 = z;
            c20 = z; c21 = z;
            c30 = z; c31 = z;
            c40 = z; c41 = z;
            c50 = z; c51 = z;
            c60 = z; c61 = z;
            c70 = z; c71 = z;
        }
        for (int k = 0; k < kc; k++) {
            int ak = ao + k * 8, bk = bo + k * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bk), b1 = FloatVector.fromArray(S, b, bk + L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[ak + 0]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ak + 1]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ak + 2]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ak + 3]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ak + 4]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[ak + 5]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[ak + 6]); c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[ak + 7]); c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + L);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + L);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + L);
        c60.intoArray(c, r6); c61.intoArray(c, r6 + L);
        c70.intoArray(c, r7); c71.intoArray(c, r7 + L);
    }

    /** The 6-row tile: the 8-row one without its last two rows; {@code a} is the strip, kc × 6 floats from its start. */
    static void tile6(int kc, MemorySegment a, float[] b, int bo, float[] c, int co, int ldc, boolean load) {
        int r0 = co + 0 * ldc;
        int r1 = co + 1 * ldc;
        int r2 = co + 2 * ldc;
        int r3 = co + 3 * ldc;
        int r4 = co + 4 * ldc;
        int r5 = co + 5 * ldc;
        // the accumulators start from C or from zeros read the same way: one straight path into the loop, where a branch
        // between loads and zeros cost the loop 10 % (74 against 82 GFLOP/s in L1)
        float[] from = load ? c : ZEROS;
        int f0 = load ? r0 : 0, f1 = load ? r1 : 0, f2 = load ? r2 : 0, f3 = load ? r3 : 0, f4 = load ? r4 : 0, f5 = load ? r5 : 0;
        FloatVector c00 = FloatVector.fromArray(S, from, f0), c01 = FloatVector.fromArray(S, from, f0 + L);
        FloatVector c10 = FloatVector.fromArray(S, from, f1), c11 = FloatVector.fromArray(S, from, f1 + L);
        FloatVector c20 = FloatVector.fromArray(S, from, f2), c21 = FloatVector.fromArray(S, from, f2 + L);
        FloatVector c30 = FloatVector.fromArray(S, from, f3), c31 = FloatVector.fromArray(S, from, f3 + L);
        FloatVector c40 = FloatVector.fromArray(S, from, f4), c41 = FloatVector.fromArray(S, from, f4 + L);
        FloatVector c50 = FloatVector.fromArray(S, from, f5), c51 = FloatVector.fromArray(S, from, f5 + L);
        for (int k = 0; k < kc; k++) {
            long ak = k * (6L * Float.BYTES); // one constant factor: written (k·6)·4, the reads were checked again
            int bk = bo + k * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bk), b1 = FloatVector.fromArray(S, b, bk + L);
            FloatVector x;
            x = FloatVector.broadcast(S, a.get(F32, ak + 0 * Float.BYTES)); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a.get(F32, ak + 1 * Float.BYTES)); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a.get(F32, ak + 2 * Float.BYTES)); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a.get(F32, ak + 3 * Float.BYTES)); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a.get(F32, ak + 4 * Float.BYTES)); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a.get(F32, ak + 5 * Float.BYTES)); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + L);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + L);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + L);
    }
}
