package org.jtune.bench;

import java.util.List;
import org.jtune.tensor.Backend;
import org.jtune.tensor.cpu.CpuBackend;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * `jtune bench ops`: the memory-bound kernels of a transformer layer on a 4096×8192 F32 tensor
 * (128 MiB) — softmax, RMSNorm, RoPE (as (1, 4096, 64, 128)) and SiLU·mul (the fused SwiGLU kernel
 * the Llama MLP calls, Ops.swiglu) — in GB/s of logical bytes (inputs read once + output written once,
 * so SiLU·mul counts 3 tensors), beside a plain copy of the same number of bytes
 * (System.arraycopy split over the same threads) measured in the same run. Two figures per op:
 * {@code gb_per_s} calls the Ops entry point (which allocates a zeroed output each call, as callers
 * pay), {@code kernel_gb_per_s} calls the Backend kernel into a preallocated output. Ratio = Ops
 * figure ÷ copy; kernel ratio = kernel figure ÷ a copy timed alternately with the kernel (its own
 * {@code kernel_peer_gb_per_s}), so a burst of load from other processes hits both. The copy is
 * System.arraycopy, whose large-array stub may write past the cache; the kernels' Vector API stores
 * read each output line first (write-allocate), so on this machine a plain vector copy loop measured
 * 0.68-0.87 of System.arraycopy (two runs, load 5): the {@code vector_copy} line (that loop, both
 * figures) measures this ceiling in the same run. An op whose kernel is not built yet is reported with an error and the exit code is 1.
 *
 * <p>Each tensor is the first 4096 rows of an array 96 rows (3 MiB) longer: on this project's machine a stream whose
 * source and destination lie a multiple of 256 MiB apart (x and out were: x, u, out allocated back to back, 128 MiB
 * each) ran at 9–10 GB/s instead of 22–23 (System.arraycopy, one thread; 128, 192, 260, 320 and 384 MiB apart were
 * fast, 256 and 512 slow; bench/RESULTS.md, 2026-12-06), which had made the copy peer, and the ratios, depend on where
 * the heap put the arrays.
 */
final class OpsBenchmark {
    private static final int ROWS = 4096, COLS = 8192;
    /** Rows allocated past each tensor's end (3 MiB), so that no two tensors start a multiple of 256 MiB apart (see above). */
    private static final int SPACER_ROWS = 96;
    private final Timing timing = new Timing(3, 0.3, 7, 1.0);

    /** One op: how to call it through Ops, through the Backend into out, and how many tensors it touches. */
    private record Op(String name, int tensors, Runnable viaOps, Runnable viaKernel) {}

    int run(boolean json) {
        System.err.println("ops: " + ROWS + "x" + COLS + " F32; load average " + LoadAverage.read());
        Rng rng = new Rng(44);
        Tensor x = Tensor.uniform(rng, -4f, 4f, ROWS + SPACER_ROWS, COLS).narrow(0, 0, ROWS);
        Tensor u = Tensor.uniform(rng, -4f, 4f, ROWS + SPACER_ROWS, COLS).narrow(0, 0, ROWS);
        Tensor out = Tensor.zeros(ROWS + SPACER_ROWS, COLS).narrow(0, 0, ROWS);
        Tensor weight = Tensor.uniform(rng, 0.5f, 1.5f, COLS);
        Tensor x4 = x.view(1, ROWS, 64, COLS / 64), out4 = out.view(1, ROWS, 64, COLS / 64);
        int[] pos = new int[ROWS];
        for (int i = 0; i < ROWS; i++) pos[i] = i;
        Tensor positions = Tensor.ofInts(pos, 1, ROWS);
        float[] inv = new float[COLS / 128];
        for (int i = 0; i < inv.length; i++) inv[i] = (float) Math.pow(10000.0, -2.0 * i / (COLS / 64));
        Tensor invFreq = Tensor.of(inv, inv.length);
        Backend be = CpuBackend.INSTANCE;
        float[] src = x.storage().floatArray(), dst = out.storage().floatArray();
        int elements = ROWS * COLS; // the arrays are longer (SPACER_ROWS); x and out start at element 0
        Runnable copy = () -> Parallel.forRange(elements, 1 << 16, (i0, i1) -> System.arraycopy(src, i0, dst, i0, i1 - i0));
        Runnable vectorCopy = () -> Parallel.forRange(elements, 1 << 16, (i0, i1) -> vectorCopy(src, dst, i0, i1));
        List<Op> ops = List.of(
                new Op("softmax", 2, () -> Ops.softmax(x, -1), () -> be.softmax(x, out)),
                new Op("rmsnorm", 2, () -> Ops.rmsNorm(x, weight, 1e-5f), () -> be.rmsNorm(x, weight, 1e-5f, out, null)),
                new Op("rope", 2, () -> Ops.rope(x4, positions, invFreq), () -> be.rope(x4, positions, invFreq, false, out4)),
                new Op("silu_mul", 3, () -> Ops.swiglu(x, u), () -> be.swiglu(x, u, out)),
                new Op("vector_copy", 2, vectorCopy, vectorCopy));
        java.util.Set<String> missing = new java.util.LinkedHashSet<>();
        int saved = Parallel.threads();
        try {
            for (int threads : new int[] {1, 2}) {
                Parallel.setThreads(threads);
                for (Op op : ops) {
                    ResultLine line = new ResultLine().put("bench", "ops").put("op", op.name).put("rows", ROWS).put("cols", COLS)
                            .put("threads", threads);
                    try {
                        op.viaKernel.run(); // fails fast when the kernel is not built
                    } catch (UnsupportedOperationException e) {
                        missing.add(op.name);
                        line.put("error", "kernel missing: " + e.getMessage()).print(json);
                        continue;
                    }
                    double bytes = 4.0 * ROWS * COLS * op.tensors;
                    double copyBytes = 2.0 * 4 * ROWS * COLS;
                    Timing.Result[] r = timing.pair(op.viaOps, copy);
                    Timing.Result[] k = timing.pair(op.viaKernel, copy);
                    double gbs = bytes / r[0].median() * 1e-9, copyGbs = copyBytes / r[1].median() * 1e-9;
                    double kernelGbs = bytes / k[0].median() * 1e-9, kernelCopyGbs = copyBytes / k[1].median() * 1e-9;
                    line.put("gb_per_s", gbs).put("kernel_gb_per_s", kernelGbs)
                            .put("peer", "copy").put("peer_gb_per_s", copyGbs).put("ratio", gbs / copyGbs)
                            .put("kernel_peer_gb_per_s", kernelCopyGbs).put("kernel_ratio", kernelGbs / kernelCopyGbs)
                            .put("reps", r[0].reps()).put("spread", Math.max(r[0].spread(), r[1].spread()))
                            .put("kernel_spread", Math.max(k[0].spread(), k[1].spread()))
                            .print(json);
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
        System.err.println("ops: done; load average " + LoadAverage.read()
                + (missing.isEmpty() ? "" : "; kernels missing in this build: " + String.join(", ", missing)));
        return missing.isEmpty() ? 0 : 1;
    }

    /** dst[i0, i1) ← src[i0, i1) with Vector API loads and stores, as the kernels write. */
    private static void vectorCopy(float[] src, float[] dst, int i0, int i1) {
        var s = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        int i = i0;
        for (int bound = i0 + s.loopBound(i1 - i0); i < bound; i += s.length()) {
            jdk.incubator.vector.FloatVector.fromArray(s, src, i).intoArray(dst, i);
        }
        for (; i < i1; i++) dst[i] = src[i];
    }
}
