package org.jtune.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.arch.Architectures;
import org.jtune.models.lora.Adapters;
import org.jtune.models.weights.Weight;
import org.jtune.models.lora.LoraAdapters;
import org.jtune.models.lora.LoraConfig;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.HeapGrowthLimit;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.StepBufferPool;
import org.jtune.tensor.Tensor;
import org.jtune.train.optim.AdamW;
import org.jtune.train.run.FineTune;
import org.jtune.train.run.MemoryPlan;
import org.jtune.train.optim.WeightDecayRule;

/**
 * One configuration of `jtune bench train` in its own JVM: a full training step — forward, backward
 * and an AdamW update — of a Llama of the given shape with random weights, either LoRA (r = 16,
 * alpha 32 on q, k, v, o; the base frozen) or full fine-tuning (every weight trainable), as
 * the fine-tuning recipe runs it. Prints the median step time and the peak resident set as JSON.
 * The step runs under the trainer's {@link HeapGrowthLimit} (-Djtune.heapLimit=false turns it off).
 * Usage: {@code TrainStep SHAPE(stories15M|110M|tinyllama-1.1B) MODE(lora|full) THREADS WARMUP STEPS}; LoRA targets and
 * checkpointing come from {@link TrainBench#plan}.
 */
public final class TrainStep {
    private TrainStep() {}

    public static void main(String[] args) throws Exception {
        TrainingShape shape = TrainBench.shape(args[0]);
        boolean lora = args[1].equals("lora");
        TrainBench.Plan plan = TrainBench.plan(args[0]);
        int threads = Integer.parseInt(args[2]), warmup = Integer.parseInt(args[3]), steps = Integer.parseInt(args[4]);
        Parallel.setThreads(threads);
        Rng rng = new Rng(0);
        CausalLM model = Architectures.random(shape.config(), rng, 0.02f);
        Map<String, Variable> trainable = new LinkedHashMap<>();
        if (lora) {
            trainable.putAll(LoraAdapters.attach(model, Adapters.DEFAULT, new LoraConfig(16, 32f, 0f, plan.hfTargets(), false,
                    List.of()).withDora(Boolean.getBoolean("jtune.bench.dora")), rng, false));
        } else {
            for (Weight w : model.weights().all()) {
                Variable p = Variable.parameter(w.value().value());
                w.set(p);
                trainable.put(w.name(), p);
            }
        }
        List<Variable> params = new ArrayList<>(trainable.values()); // each with its one gradient buffer
        AdamW opt = new AdamW(WeightDecayRule.split(params, 0.0), AdamW.Config.TORCH_DEFAULTS);
        long trainableValues = params.stream().mapToLong(p -> p.value().numel()).sum();
        MemoryPlan memoryPlan = MemoryPlan.of(model, new MemoryPlan.Workload(shape.tokens(),
                plan.checkpointing(), trainableValues, 2, !lora));
        int b = shape.batch(), t = shape.seq(), n = shape.tokens();
        int[] ids = new int[n], targets = new int[n], pos = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = rng.nextInt(shape.vocab());
            targets[i] = rng.nextInt(shape.vocab());
            pos[i] = i % t;
        }
        Tensor idT = Tensor.ofInts(ids, b, t), posT = Tensor.ofInts(pos, b, t), tgT = Tensor.ofInts(targets, n);
        ForwardPass pass = plan.checkpointing() ? ForwardPass.training(AttentionMask.causalMask(), null, true) : ForwardPass.of(AttentionMask.causalMask());
        double[] times = new double[steps];
        float loss = Float.NaN;
        StepBufferPool pool = StepBufferPool.enabled() ? new StepBufferPool(memoryPlan.activationBytes()) : null; // as the trainer's
        // under the trainer's heap growth limit, as a training run (FineTune) is: its peak is what the memory plan predicts
        HeapGrowthLimit heapLimit = HeapGrowthLimit.enabled() ? HeapGrowthLimit.install(HeapGrowthLimit.TRAINING_RATIO, HeapGrowthLimit.TRAINING_FLOOR) : null;
        for (int s = 0; s < warmup + steps; s++) {
            long t0 = System.nanoTime();
            java.util.function.Supplier<Float> step = () -> {
                Variable l = FineTune.tokenLoss(model, model.hidden(idT, posT, pass), tgT, n); // the trainer's head and loss
                l.backward();
                return l.value().item();
            };
            loss = pool == null ? step.get() : pool.step(step); // forward + backward from the step pool, as the trainer
            opt.step(1e-4);
            opt.zeroGrad();
            if (s >= warmup) times[s - warmup] = (System.nanoTime() - t0) / 1e9;
        }
        if (heapLimit != null) heapLimit.close();
        double[] sorted = times.clone();
        Arrays.sort(sorted);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("step_s", sorted[sorted.length / 2]);
        r.put("loss", loss);
        r.put("trainable_params", trainableValues);
        r.put("peak_rss_bytes", BackwardStep.procStatusBytes("VmHWM"));
        r.put("plan_bytes", memoryPlan.peakBytes()); // the trainer's memory plan for this step, beside the measured peak
        System.out.println(new ObjectMapper().writeValueAsString(r));
    }
}
