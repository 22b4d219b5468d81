package org.jtune.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.Parallel;

/**
 * The F32 multiply-add rate the pool's threads reach in this process: 12 independent vector FMA chains per thread (enough to
 * cover the FMA latency), all threads at once, the fastest of several rounds. A yardstick for compute-bound work measured in
 * the same process: on this project's machine (Zen 4, AVX-512) 114–115 GFLOP/s on one thread and 224–226 on two
 * (bench/RESULTS.md, 2026-12-06). `bench decode` compares each prefill with it, so that a kernel that fell off its compiled
 * code (a Q4_K prefill at 0.17 of it, against 0.55–0.9 for every healthy row) is reported, not just slow.
 */
final class FmaPeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHAINS = 12;

    private FmaPeak() {}

    /** Floating-point operations per second (an FMA counts two) of all {@link Parallel#threads()} threads together. */
    static double flopsPerSecond() {
        int threads = Parallel.threads();
        float[] sink = new float[threads];
        double best = 0;
        for (int round = 0; round < 8; round++) {
            long iterations = round < 4 ? 20_000 : 2_000_000; // short rounds first: they run before C2 has compiled chains()
            long t0 = System.nanoTime();
            Parallel.forRange(threads, 1, (t, end) -> {
                for (int i = t; i < end; i++) sink[i] = chains(iterations);
            });
            double seconds = (System.nanoTime() - t0) / 1e9;
            best = Math.max(best, 2.0 * CHAINS * S.length() * iterations * threads / seconds);
        }
        float check = 0;
        for (float f : sink) check += f;
        if (Float.isNaN(check)) System.err.println("fma peak: NaN");
        return best;
    }

    private static float chains(long iterations) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f), c = FloatVector.broadcast(S, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(S, 1f), a1 = a0.add(1f), a2 = a0.add(2f), a3 = a0.add(3f), a4 = a0.add(4f), a5 = a0.add(5f);
        FloatVector a6 = a0.add(6f), a7 = a0.add(7f), a8 = a0.add(8f), a9 = a0.add(9f), a10 = a0.add(10f), a11 = a0.add(11f);
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11).reduceLanes(VectorOperators.ADD);
    }
}
