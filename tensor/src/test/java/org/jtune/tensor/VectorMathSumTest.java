package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorMath#sum}: the lanes added in lane order (the bits of a float loop 0, 1, 2, ... over
 * them, for every species the kernels use), and no allocation once compiled: the kernels call it in
 * their inner loops (the QLoRA GEMM once per 4 weight rows × 2 input rows × chunk), where a float[] per
 * call was most of a training step's garbage.
 */
class VectorMathSumTest {
    @Test
    void addsTheLanesInLaneOrder() {
        java.util.Random r = new java.util.Random(7);
        for (VectorSpecies<Float> s : java.util.List.of(FloatVector.SPECIES_128, FloatVector.SPECIES_256, FloatVector.SPECIES_512,
                FloatVector.SPECIES_PREFERRED)) {
            float[] a = new float[s.length()];
            for (int trial = 0; trial < 200; trial++) {
                // magnitudes spread over many binades, so that another order would change the last bits
                for (int i = 0; i < a.length; i++) a[i] = (float) ((r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(9) - 4));
                float expected = 0f;
                for (float x : a) expected += x;
                assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(VectorMath.sum(FloatVector.fromArray(s, a, 0))),
                        s + " trial " + trial);
            }
        }
    }

    /**
     * {@link VectorMath#treeSum}: the bits of the scalar tree it describes (lane i plus lane i + n/2 for every i at once,
     * then with n/4, ..., 1; lane 0), before and after C2 compiles it, NaN and infinities passing through as in scalar
     * adds; a species other than the preferred one falls back to the lane-order sum.
     */
    @Test
    void treeSumAddsInItsFixedTree() {
        java.util.Random r = new java.util.Random(8);
        float[] a = new float[SPECIES.length()];
        for (int trial = 0; trial < 20000; trial++) {   // enough calls for C2 to compile treeSum
            for (int i = 0; i < a.length; i++) a[i] = (float) ((r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(9) - 4));
            if (trial % 97 == 0) a[r.nextInt(a.length)] = trial % 2 == 0 ? Float.NaN : Float.POSITIVE_INFINITY;
            float[] t = a.clone();
            for (int half = t.length / 2; half >= 1; half /= 2) {
                float[] next = new float[t.length];
                for (int i = 0; i < t.length; i++) next[i] = t[i] + t[(i + half) % t.length];
                t = next;
            }
            assertEquals(Float.floatToIntBits(t[0]), Float.floatToIntBits(VectorMath.treeSum(FloatVector.fromArray(SPECIES, a, 0))),
                    "trial " + trial);
        }
        VectorSpecies<Float> other = SPECIES == FloatVector.SPECIES_128 ? FloatVector.SPECIES_256 : FloatVector.SPECIES_128;
        float[] b = {1e8f, 1f, -1e8f, 1f, 3f, 5f, 7f, 9f};
        assertEquals(VectorMath.sum(FloatVector.fromArray(other, b, 0)), VectorMath.treeSum(FloatVector.fromArray(other, b, 0)));
    }

    @Test
    void allocatesNothingOnceCompiled() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        float[] x = new float[1024];
        for (int i = 0; i < x.length; i++) x[i] = i * 1e-3f;
        float sink = 0f;
        long best = Long.MAX_VALUE;
        // rounds until C2 has compiled sumAll with sum inlined (a loaded machine may take many); the old
        // toArray() form allocated a float[] per call in every round, ~1.5 MB per round here
        for (int round = 0; round < 400 && best > 0; round++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            sink += sumAll(x);
            best = Math.min(best, threads.getCurrentThreadAllocatedBytes() - before);
        }
        assertTrue(sink > 0f);
        assertTrue(best < 4096, "VectorMath.sum still allocates " + best + " bytes per 300×" + x.length / SPECIES.length() + " calls after compilation");
    }

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private static float sumAll(float[] x) {
        float s = 0f;
        for (int rep = 0; rep < 300; rep++) {
            for (int i = 0; i + SPECIES.length() <= x.length; i += SPECIES.length()) s += VectorMath.sum(FloatVector.fromArray(SPECIES, x, i));
        }
        return s;
    }
}
