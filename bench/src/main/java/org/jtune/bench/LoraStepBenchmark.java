package org.jtune.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jtune.autograd.NoGrad;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.generate.SequenceRequest;
import org.jtune.models.generate.StepEngine;
import org.jtune.models.lora.AdapterRouting;
import org.jtune.models.lora.LoraAdapters;
import org.jtune.models.lora.LoraConfig;
import org.jtune.models.lora.LoraLinear;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * `jtune bench lora_step`: what per-request LoRA costs a decode step, in process, on the stories15M shape
 * (random F32 weights) with 8 adapters (rank 16 on q/k/v/o, as `bench serve`'s adapter case). 16 sequences
 * decode in three engines stepped in turn, so that all three see the same load: every sequence on the base
 * model; spread over the 8 adapters with the segmented kernel ({@link LoraLinear#setSegmentedKernel}, the
 * default); spread over the 8 with the run-by-run products it replaced. Each line gives median step
 * milliseconds and the throughput cost against the base (1 − base ms ÷ adapter ms). A second line times the
 * LoRA part of one q_proj call of 16 rows in 8 runs alone (routed call minus base call), both ways, alternating.
 * {@code -Djtune.bench.loraStep.shape=tinyllama} runs a TinyLlama-1.1B-width model with 4 layers instead.
 */
final class LoraStepBenchmark {
    private static final int SEQUENCES = 16, ADAPTERS = 8, WARM_STEPS = 8, TIMED_STEPS = 30;

    int run(boolean json) throws Exception {
        boolean tiny = "tinyllama".equals(System.getProperty("jtune.bench.loraStep.shape"));
        var config = tiny ? RandomLlamaFolder.shape(2048, 4, 32, 4, 5632, 32000) : RandomLlamaFolder.stories15M();
        String shape = tiny ? "tinyllama-width-4-layers" : "stories15M";
        Path dir = Files.createTempDirectory("jtune-bench-lora-step-");
        boolean saved = LoraLinear.segmentedKernel();
        try {
            System.err.printf("lora_step: %s, %d threads; load average %s%n", shape, Parallel.threads(), LoadAverage.read());
            RandomLlamaFolder.write(dir, config, DType.F32);
            try (CausalLM model = Architectures.load(dir)) {
                LoraConfig lora = new LoraConfig(16, 32f, 0f, List.of("q_proj", "k_proj", "v_proj", "o_proj"), false, List.of());
                for (int i = 0; i < ADAPTERS; i++) {
                    Map<String, Variable> params = LoraAdapters.attach(model, "a" + i, lora, new Rng(100 + i), false);
                    Rng rng = new Rng(200 + i);
                    for (var e : params.entrySet()) {
                        if (e.getKey().endsWith("lora_B.weight")) Ops.copyInto(Tensor.randn(rng, 0.01f, e.getValue().shape()), e.getValue().value());
                    }
                }
                model.adapters().setActive(List.of());
                steps(model, shape, json);
                projection(model, shape, json);
            }
        } finally {
            LoraLinear.setSegmentedKernel(saved);
            RandomLlamaFolder.delete(dir);
        }
        System.err.println("lora_step: done; load average " + LoadAverage.read());
        return 0;
    }

    private static void steps(CausalLM model, String shape, boolean json) {
        String load = LoadAverage.read();
        int total = WARM_STEPS + TIMED_STEPS + 4;
        StepEngine[] engines = new StepEngine[3]; // base, segmented, run by run
        for (int e = 0; e < 3; e++) {
            engines[e] = new StepEngine(model, new StepEngine.Limits(64, 4096));
            for (int i = 0; i < SEQUENCES; i++) {
                String adapter = e == 0 ? null : "a" + (i % ADAPTERS);
                engines[e].add(new SequenceRequest(new int[] {1, 10 + i, 20 + i, 30 + i}, SamplingConfig.greedy(total), adapter, null, false), null);
            }
        }
        double[][] ms = new double[3][TIMED_STEPS];
        for (int s = 0; s < 1 + WARM_STEPS + TIMED_STEPS; s++) { // the first step is the prefill
            for (int e = 0; e < 3; e++) {
                LoraLinear.setSegmentedKernel(e != 2);
                long t0 = System.nanoTime();
                engines[e].step();
                if (s > WARM_STEPS) ms[e][s - WARM_STEPS - 1] = (System.nanoTime() - t0) * 1e-6;
                if (engines[e].lastStepSequences() != SEQUENCES) throw new IllegalStateException("a step ran " + engines[e].lastStepSequences() + " sequences");
            }
        }
        for (StepEngine e : engines) while (!e.idle()) e.step();
        double base = median(ms[0]), segmented = median(ms[1]), runs = median(ms[2]);
        new ResultLine().put("bench", "lora_step").put("model", shape).put("threads", Parallel.threads()).put("sequences", SEQUENCES)
                .put("adapters", ADAPTERS).put("lora", "rank 16, q/k/v/o").put("step_ms_base", base).put("step_ms_segmented", segmented)
                .put("step_ms_run_by_run", runs).put("cost_segmented", 1 - base / segmented).put("cost_run_by_run", 1 - base / runs)
                .put("steps", TIMED_STEPS).put("load", load).print(json);
    }

    /** The LoRA part of one q_proj call over 16 rows in 8 runs: routed minus base, microseconds, both kernels alternating. */
    private static void projection(CausalLM model, String shape, boolean json) {
        String load = LoadAverage.read();
        LoraLinear q = model.weights().projections().getFirst();
        Variable x = Variable.constant(Tensor.randn(new Rng(5), 1f, SEQUENCES, q.inFeatures()));
        List<AdapterRouting.Run> runs = new ArrayList<>();
        for (int i = 0; i < ADAPTERS; i++) runs.add(new AdapterRouting.Run(i * SEQUENCES / ADAPTERS, SEQUENCES / ADAPTERS, "a" + i));
        AdapterRouting routing = AdapterRouting.runs(runs);
        int reps = 400;
        double[][] us = new double[3][reps];
        try (var g = NoGrad.enter()) {
            for (int r = -100; r < reps; r++) {
                for (int k = 0; k < 3; k++) {
                    LoraLinear.setSegmentedKernel(k != 2);
                    long t0 = System.nanoTime();
                    q.apply(x, k == 0 ? AdapterRouting.BASE : routing, null);
                    if (r >= 0) us[k][r] = (System.nanoTime() - t0) * 1e-3;
                }
            }
        }
        double base = median(us[0]);
        new ResultLine().put("bench", "lora_step").put("model", shape).put("case", "q_proj, 16 rows in 8 runs").put("proj_us_base", base)
                .put("lora_us_segmented", median(us[1]) - base).put("lora_us_run_by_run", median(us[2]) - base).put("reps", reps).put("load", load).print(json);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
    }
}
