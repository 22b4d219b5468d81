package org.jtune.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.jtune.tensor.AdamWStep;
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
 * JMH: the fused AdamW update (Backend.adamw) of one F32 parameter of {@code elements} values (default
 * 2048×5632, a 1.1B MLP projection), param, m and v updated in place from a fixed gradient. Memory
 * traffic per call: 4 tensors read, 3 written (GB/s = 28 bytes × elements ÷ time). The step count grows
 * with each call, as in training; the values stay finite (the update is bounded by lr).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC"})
public class AdamWJmh {
    @Param({"11534336"})
    public int elements;
    @Param({"1", "2"})
    public int threads;

    private Tensor param, grad, m, v;
    private long step;
    private int savedThreads;

    @Setup(Level.Trial)
    public void setUp() {
        savedThreads = Parallel.threads();
        Parallel.setThreads(threads);
        Rng rng = new Rng(3);
        param = Tensor.uniform(rng, -0.1f, 0.1f, elements);
        grad = Tensor.uniform(rng, -1e-2f, 1e-2f, elements);
        m = Tensor.zeros(elements);
        v = Tensor.zeros(elements);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        Parallel.setThreads(savedThreads);
    }

    @Benchmark
    public void adamw(Blackhole bh) {
        CpuBackend.INSTANCE.adamw(param, grad, m, v, AdamWStep.of(1e-4, 0.01, 0.9, 0.999, 1e-8, ++step));
        bh.consume(param);
    }
}
