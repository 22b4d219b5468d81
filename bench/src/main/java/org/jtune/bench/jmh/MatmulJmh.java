package org.jtune.bench.jmh;

import java.util.concurrent.TimeUnit;
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
 * JMH: the F32 products of `jtune bench gemm` and `jtune bench gemv` through the CPU Backend's matmul,
 * C = A·Bᵀ with B stored (n, k) as a Linear weight is: shape "m×k×n" (1×2048×5632 is the decode GEMV,
 * the others the GEMM shapes of the 1.1B model). GFLOP/s = 2·m·k·n ÷ time. For m = 1 the call cycles
 * over enough weight copies (≥ 96 MiB together) that each call reads its weight from memory, as decode
 * does, not from the cache. Operands are made in the trial set-up; the Blackhole takes the output.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC"})
public class MatmulJmh {
    @Param({"1x2048x5632", "512x2048x2048", "512x2048x5632"})
    public String shape;
    @Param({"1", "2"})
    public int threads;

    private Tensor a, out;
    private Tensor[] weights;
    private int next, savedThreads;

    @Setup(Level.Trial)
    public void setUp() {
        savedThreads = Parallel.threads();
        Parallel.setThreads(threads);
        String[] mkn = shape.split("x");
        int m = Integer.parseInt(mkn[0]), k = Integer.parseInt(mkn[1]), n = Integer.parseInt(mkn[2]);
        Rng rng = new Rng(7);
        a = Tensor.uniform(rng, -1f, 1f, m, k);
        out = Tensor.zeros(m, n);
        long bytes = 4L * k * n;
        int copies = m == 1 ? (int) Math.max(1, (96L << 20) / bytes + 1) : 1;
        weights = new Tensor[copies];
        for (int c = 0; c < copies; c++) weights[c] = Tensor.uniform(rng, -1f, 1f, n, k);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        Parallel.setThreads(savedThreads);
    }

    @Benchmark
    public void matmul(Blackhole bh) {
        Tensor w = weights[next];
        next = next + 1 == weights.length ? 0 : next + 1;
        CpuBackend.INSTANCE.matmul(a, w.t(), out, false);
        bh.consume(out);
    }
}
