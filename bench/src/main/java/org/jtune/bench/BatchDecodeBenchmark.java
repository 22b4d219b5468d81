package org.jtune.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.generate.SequenceRequest;
import org.jtune.models.generate.StepEngine;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.cpu.CpuBackend;

/**
 * `jtune bench decode_batch`: the serving engine's decode step ({@link StepEngine}) with 1, 4, 16 and 32
 * sequences, in process, on a model of TinyLlama-1.1B's width with 4 layers (dim 2048, 32/4 heads, hidden
 * 5632, vocab 32000, random F32 weights mapped from a temporary folder: 1.0 GB, so that a run stays short on a
 * shared machine; per layer and for the head the products are those of the 1.1B model). Decode is
 * memory-bound, so a step of many sequences should cost little more than one pass over the weights: each
 * line gives the median step time with the multi-row GEMV (the default) and with the blocked GEMM
 * ({@link CpuBackend#setMultiRowGemv}), alternating step by step in the same run, and each step's time
 * over the one-sequence step.
 */
final class BatchDecodeBenchmark {
    private static final int[] BATCHES = {1, 4, 16, 32};
    private static final int WARM_STEPS = 6, TIMED_STEPS = 24;

    int run(boolean json) throws Exception {
        LlamaConfig config = RandomLlamaFolder.shape(2048, 4, 32, 4, 5632, 32000);
        Path dir = Files.createTempDirectory("jtune-bench-decode-batch-");
        boolean saved = CpuBackend.multiRowGemv();
        try {
            System.err.printf("decode_batch: %d threads; writing random F32 weights; load average %s%n", Parallel.threads(), LoadAverage.read());
            RandomLlamaFolder.write(dir, config, DType.F32);
            try (CausalLM model = Architectures.load(dir)) {
                double single = Double.NaN;
                for (int batch : batches()) {
                    String load = LoadAverage.read();
                    double[][] ms = steps(model, batch);
                    double multi = median(ms[0]), blocked = median(ms[1]);
                    if (batch == 1) single = multi;
                    new ResultLine().put("bench", "decode_batch").put("model", "tinyllama-width-4-layers").put("dtype", "f32")
                            .put("threads", Parallel.threads()).put("sequences", batch)
                            .put("step_ms_multi_row", multi).put("step_ms_blocked", blocked)
                            .put("multi_row_over_1", multi / single).put("blocked_over_1", blocked / single)
                            .put("steps", ms[0].length).put("load", load).print(json);
                }
            }
        } finally {
            CpuBackend.setMultiRowGemv(saved);
            RandomLlamaFolder.delete(dir);
        }
        System.err.println("decode_batch: done; load average " + LoadAverage.read());
        return 0;
    }

    /** {@link #BATCHES}, or the sequence counts named by {@code -Djtune.bench.decodeBatch.sizes=1,16} (through JTUNE_JAVA_OPTS). */
    private static int[] batches() {
        String s = System.getProperty("jtune.bench.decodeBatch.sizes");
        if (s == null || s.isBlank()) return BATCHES;
        return Arrays.stream(s.split(",")).mapToInt(x -> Integer.parseInt(x.trim())).toArray();
    }

    /** Milliseconds of each decode step of {@code batch} sequences: [0] multi-row GEMV, [1] blocked GEMM, alternating. */
    private static double[][] steps(CausalLM model, int batch) {
        StepEngine engine = new StepEngine(model, new StepEngine.Limits(64, 4096));
        int total = WARM_STEPS + 2 * TIMED_STEPS + 4;
        for (int i = 0; i < batch; i++) {
            engine.add(SequenceRequest.of(new int[] {1, 10 + i, 20 + i, 30 + i}, SamplingConfig.greedy(total)), null);
        }
        engine.step(); // prefill
        for (int i = 0; i < WARM_STEPS; i++) {
            CpuBackend.setMultiRowGemv(i % 2 == 0);
            engine.step();
        }
        double[][] ms = new double[2][TIMED_STEPS];
        for (int i = 0; i < 2 * TIMED_STEPS; i++) {
            CpuBackend.setMultiRowGemv(i % 2 == 0);
            long t0 = System.nanoTime();
            engine.step();
            ms[i % 2][i / 2] = (System.nanoTime() - t0) * 1e-6;
            if (engine.lastStepSequences() != batch) throw new IllegalStateException("step ran " + engine.lastStepSequences() + " sequences, not " + batch);
        }
        while (!engine.idle()) engine.step();
        return ms;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
    }
}
