package org.jtune.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Random;
import org.jtune.quant.BlockFormat;
import org.jtune.quant.GgmlType;
import org.jtune.quant.kernel.QuantizedMatmul;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;

/**
 * GB/s of weight bytes read by the quantized GEMV ({@link QuantizedMatmul#gemv}, decode) and GFLOP/s of
 * the quantized GEMM (prefill, m = 128), for every block format, beside tensor's F32 GEMV on the same
 * TinyLlama-1.1B shapes (out × in: 5632×2048 gate/up, 2048×5632 down, 2048×2048 q/o). Each GEMV
 * cycles through enough copies of the matrix (≥ 1 GiB) that the weights come from DRAM, not the L3.
 * With one thread the GEMV is also timed in CPU seconds of the calling thread, a figure a busy machine
 * (other processes taking turns on the cores) disturbs less than wall time.
 * Run: {@code java --add-modules jdk.incubator.vector -cp bench/target/classes:... org.jtune.bench.QuantMatmulBenchmark [threads]}
 * (see README); prints one line per row with the load average.
 */
public final class QuantMatmulBenchmark {
    private static final long WORKING_SET = Long.getLong("jtune.bench.workingSet", 1L << 30);
    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();

    private QuantMatmulBenchmark() {}

    public static void main(String[] args) {
        int[] threadCounts = args.length > 0 ? new int[] {Integer.parseInt(args[0])} : new int[] {1, 2};
        int[][] shapes = {{5632, 2048}, {2048, 5632}, {2048, 2048}};
        GgmlType[] types = {GgmlType.F32, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K};
        System.out.println("# load average before: " + LoadAverage.read());
        for (int threads : threadCounts) {
            Parallel.setThreads(threads);
            for (int[] shape : shapes) {
                int rows = shape[0], cols = shape[1];
                System.out.printf(Locale.ROOT, "%-10s threads=%d shape=%dx%d  F32 tensor Gemv: %.1f GB/s%n", "reference", threads, rows, cols,
                        f32TensorGemv(rows, cols));
                for (GgmlType t : types) {
                    double[] r = quantized(t.format(), rows, cols);
                    System.out.printf(Locale.ROOT, "%-10s threads=%d shape=%dx%d  gemv %.1f GB/s (%.2f ms)%s  gemm m=128 %.1f GFLOP/s%n",
                            t, threads, rows, cols, r[0], r[1],
                            threads == 1 ? String.format(Locale.ROOT, " [%.1f GB/s per CPU-second]", r[3]) : "", r[2]);
                }
            }
        }
        System.out.println("# load average after: " + LoadAverage.read());
    }

    /** [GB/s of the GEMV, ms per GEMV, GFLOP/s of the m=128 GEMM]. */
    private static double[] quantized(BlockFormat f, int rows, int cols) {
        Random r = new Random(1);
        float[] dense = new float[rows * cols];
        for (int i = 0; i < dense.length; i++) dense[i] = (float) r.nextGaussian() * 0.02f;
        long bytes = f.rowBytes(cols) * rows;
        int copies = (int) Math.max(1, WORKING_SET / bytes);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment w = arena.allocate(bytes * copies, 64);
            for (int i = 0; i < rows; i++) f.quantizeRow(dense, i * cols, w, i * f.rowBytes(cols), cols);
            for (int c = 1; c < copies; c++) w.asSlice(c * bytes, bytes).copyFrom(w.asSlice(0, bytes));
            float[] x = new float[128 * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            float[] out = new float[128 * rows];
            for (int c = 0; c < copies; c++) QuantizedMatmul.gemv(f, w, c * bytes, rows, cols, x, 0, out, 0);   // warm-up
            int reps = Math.max(copies * 2, 20);
            long t0 = System.nanoTime(), c0 = CPU.getCurrentThreadCpuTime();
            for (int i = 0; i < reps; i++) QuantizedMatmul.gemv(f, w, (i % copies) * bytes, rows, cols, x, 0, out, 0);
            double gemvSeconds = (System.nanoTime() - t0) / 1e9 / reps;
            double gemvCpuSeconds = (CPU.getCurrentThreadCpuTime() - c0) / 1e9 / reps;
            QuantizedMatmul.gemm(f, w, 0, rows, cols, x, 0, 128, out, 0);                                       // warm-up
            int gemmReps = 3;
            t0 = System.nanoTime();
            for (int i = 0; i < gemmReps; i++) QuantizedMatmul.gemm(f, w, (i % copies) * bytes, rows, cols, x, 0, 128, out, 0);
            double gemmSeconds = (System.nanoTime() - t0) / 1e9 / gemmReps;
            return new double[] {bytes / gemvSeconds / 1e9, gemvSeconds * 1e3, 2.0 * 128 * rows * cols / gemmSeconds / 1e9,
                    bytes / gemvCpuSeconds / 1e9};
        }
    }

    /** GB/s of tensor's F32 GEMV reading an off-heap (mapped-like) weight in place through Ops.matmul. */
    private static double f32TensorGemv(int rows, int cols) {
        long bytes = 4L * rows * cols;
        int copies = (int) Math.max(1, WORKING_SET / bytes);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment w = arena.allocate(bytes * copies, 64);
            Random r = new Random(2);
            for (long i = 0; i < (long) rows * cols; i++) w.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
            for (int c = 1; c < copies; c++) w.asSlice(c * bytes, bytes).copyFrom(w.asSlice(0, bytes));
            Tensor[] weights = new Tensor[copies];
            for (int c = 0; c < copies; c++) {
                weights[c] = new Tensor(Storage.wrap(w.asSlice(c * bytes, bytes)), DType.F32, new int[] {rows, cols}, new long[] {cols, 1}, 0);
            }
            Tensor x = Tensor.uniform(new org.jtune.tensor.Rng(3), -1f, 1f, 1, cols);
            for (Tensor t : weights) Ops.matmul(x, t.t());
            int reps = Math.max(copies * 2, 20);
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) Ops.matmul(x, weights[i % copies].t());
            double seconds = (System.nanoTime() - t0) / 1e9 / reps;
            return bytes / seconds / 1e9;
        }
    }
}
