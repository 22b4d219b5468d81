package org.jtune.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.jtune.tensor.Backend;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.cpu.CpuBackend;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * JMH: the memory-bound row kernels of `jtune bench ops` (softmax, RMSNorm, RoPE as (1, rows, cols/128,
 * 128), the fused SwiGLU) on rows × cols F32, each into a preallocated output through the CPU Backend,
 * beside the peer of that bench, a System.arraycopy of one tensor split over the same threads. Time per
 * call; GB/s = bytes ÷ time with 2 tensors for softmax, RMSNorm, RoPE and copy, 3 for SwiGLU (inputs
 * read + output written once). Tensors are made in the trial set-up, outside the measured method; the
 * Blackhole takes the output so the call cannot be dropped.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC"})
public class RowOpsJmh {
    @Param({"4096"})
    public int rows;
    @Param({"8192"})
    public int cols;
    @Param({"1", "2"})
    public int threads;

    private final Backend be = CpuBackend.INSTANCE;
    private Tensor x, u, out, weight, x4, out4, positions, invFreq;
    private float[] src, dst;
    private int savedThreads;

    @Setup(Level.Trial)
    public void setUp() {
        savedThreads = Parallel.threads();
        Parallel.setThreads(threads);
        Rng rng = new Rng(44);
        x = Tensor.uniform(rng, -4f, 4f, rows, cols);
        u = Tensor.uniform(rng, -4f, 4f, rows, cols);
        out = Tensor.zeros(rows, cols);
        weight = Tensor.uniform(rng, 0.5f, 1.5f, cols);
        x4 = x.view(1, rows, cols / 128, 128);
        out4 = out.view(1, rows, cols / 128, 128);
        int[] pos = new int[rows];
        for (int i = 0; i < rows; i++) pos[i] = i;
        positions = Tensor.ofInts(pos, 1, rows);
        float[] inv = new float[64];
        for (int i = 0; i < inv.length; i++) inv[i] = (float) Math.pow(10000.0, -2.0 * i / 128);
        invFreq = Tensor.of(inv, inv.length);
        src = x.storage().floatArray();
        dst = out.storage().floatArray();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        Parallel.setThreads(savedThreads);
    }

    @Benchmark
    public void copy(Blackhole bh) {
        Parallel.forRange(src.length, 1 << 16, (i0, i1) -> System.arraycopy(src, i0, dst, i0, i1 - i0));
        bh.consume(dst);
    }

    @Benchmark
    public void softmax(Blackhole bh) {
        be.softmax(x, out);
        bh.consume(out);
    }

    @Benchmark
    public void rmsnorm(Blackhole bh) {
        be.rmsNorm(x, weight, 1e-5f, out, null);
        bh.consume(out);
    }

    @Benchmark
    public void rope(Blackhole bh) {
        be.rope(x4, positions, invFreq, false, out4);
        bh.consume(out4);
    }

    @Benchmark
    public void swiglu(Blackhole bh) {
        be.swiglu(x, u, out);
        bh.consume(out);
    }
}
