package org.jtune.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.autograd.OpProfile;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraAdapters;
import org.jtune.models.lora.LoraConfig;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.HeapGrowthLimit;
import org.jtune.tensor.Rng;
import org.jtune.tensor.StepBufferPool;
import org.jtune.tensor.Tensor;
import org.jtune.train.optim.AdamW;
import org.jtune.train.run.FineTune;
import org.jtune.train.run.MemoryPlan;
import org.jtune.train.optim.WeightDecayRule;

/**
 * One configuration of `jtune bench qlora` in its own JVM: a LoRA training step (r 16, alpha 32 on every
 * projection, gradient checkpointing per layer, forward + backward + AdamW) at batch B × T, on either the
 * NF4 folder {@link QloraBench} wrote ({@code qlora}: the base loaded 4-bit from bitsandbytes' layout, frozen)
 * or a random F32 base of the same shape in memory ({@code lora}). Prints the median step time, the peak
 * resident set (VmHWM) and the bytes the projections hold as JSON. The step runs under a {@link HeapGrowthLimit}
 * as the trainer's do (-Djtune.heapLimit=false turns it off), in the trainer's bounded {@link StepBufferPool} (-Djtune.stepPool=false: none).
 * Usage: {@code QloraStep qlora FOLDER B T THREADS STEPS} or {@code QloraStep lora DIM,LAYERS,HEADS,KV,HIDDEN,VOCAB B T THREADS STEPS}.
 */
public final class QloraStep {
    private QloraStep() {}

    public static void main(String[] args) throws Exception {
        boolean qlora = args[0].equals("qlora");
        int b = Integer.parseInt(args[2]), t = Integer.parseInt(args[3]), threads = Integer.parseInt(args[4]), steps = Integer.parseInt(args[5]);
        Parallel.setThreads(threads);
        Rng rng = new Rng(0);
        CausalLM model;
        if (qlora) {
            model = Architectures.load(Path.of(args[1]));
        } else {
            String[] s = args[1].split(",");
            LlamaConfig c = RandomLlamaFolder.shape(Integer.parseInt(s[0]), Integer.parseInt(s[1]), Integer.parseInt(s[2]), Integer.parseInt(s[3]),
                    Integer.parseInt(s[4]), Integer.parseInt(s[5]));
            model = Architectures.random(c, rng, 0.02f);
        }
        long projectionBytes = 0;
        for (var w : model.weights().all()) {
            Tensor v = w.value().value();
            if (w.role() == org.jtune.models.weights.Weight.Role.LINEAR) {
                projectionBytes += v.dtype() == DType.BLOCK ? v.storage().segment().byteSize() : v.numel() * v.dtype().byteSize();
            }
        }
        Map<String, Variable> trainable = LoraAdapters.attach(model, Adapters.DEFAULT,
                new LoraConfig(16, 32f, 0f, List.of("all-linear"), false, List.of()).withDora(Boolean.getBoolean("jtune.bench.dora")), rng, false);
        List<Variable> params = new ArrayList<>(trainable.values());
        AdamW opt = new AdamW(WeightDecayRule.split(params, 0.0), AdamW.Config.TORCH_DEFAULTS);
        long trainableValues = params.stream().mapToLong(p -> p.value().numel()).sum();
        MemoryPlan memoryPlan = MemoryPlan.of(model, new MemoryPlan.Workload(b * t,
                true, trainableValues, 2, false));
        int vocab = model.config().vocabSize(), n = b * t;
        int[] ids = new int[n], targets = new int[n], pos = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = rng.nextInt(vocab);
            targets[i] = rng.nextInt(vocab);
            pos[i] = i % t;
        }
        Tensor idT = Tensor.ofInts(ids, b, t), posT = Tensor.ofInts(pos, b, t), tgT = Tensor.ofInts(targets, n);
        ForwardPass pass = ForwardPass.training(AttentionMask.causalMask(), new Rng(1), true);
        double[] times = new double[steps];
        float loss = Float.NaN;
        // the step pool as the trainer runs it: bounded by the plan's activations (unbounded, at this width it held
        // buffers of every size: 2 of the 1.1B shape's layers, 4×512, 888 MB after a full collection against 229 MB without)
        StepBufferPool pool = StepBufferPool.enabled() ? new StepBufferPool(memoryPlan.activationBytes()) : null;
        HeapGrowthLimit heapLimit = HeapGrowthLimit.enabled() ? HeapGrowthLimit.install(HeapGrowthLimit.TRAINING_RATIO, HeapGrowthLimit.TRAINING_FLOOR) : null;
        for (int s = 0; s < steps; s++) {
            long t0 = System.nanoTime();
            java.util.function.Supplier<Float> step = () -> {
                Variable l = loss(model, idT, posT, tgT, pass, n);
                l.backward();
                return l.value().item();
            };
            loss = pool == null ? step.get() : pool.step(step); // forward + backward from the step pool, as the trainer
            opt.step(1e-4);
            opt.zeroGrad();
            times[s] = (System.nanoTime() - t0) / 1e9;
            System.err.printf("  step %d: %.1f s, loss %.4f%n", s + 1, times[s], loss);
        }
        if (heapLimit != null) heapLimit.close();
        if (OpProfile.enabled()) System.err.print("per-op profile of " + steps + " steps (-Djtune.profile=true):\n" + OpProfile.report());
        double[] sorted = times.clone();
        java.util.Arrays.sort(sorted);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("step_s", sorted[sorted.length / 2]);
        r.put("loss", loss);
        r.put("trainable_params", trainableValues);
        r.put("projection_bytes", projectionBytes);
        r.put("peak_rss_bytes", BackwardStep.procStatusBytes("VmHWM"));
        r.put("plan_bytes", memoryPlan.peakBytes()); // the trainer's memory plan for this step, beside the measured peak
        if (heapLimit != null) r.put("forced_full_gcs", heapLimit.forcedCollections());
        System.out.println(new ObjectMapper().writeValueAsString(r));
    }

    /** The recorded loss, in its own frame: no local holds the hidden states during the backward. */
    private static Variable loss(CausalLM model, Tensor ids, Tensor pos, Tensor targets, ForwardPass pass, int n) {
        return FineTune.tokenLoss(model, model.hidden(ids, pos, pass), targets, n); // the trainer's head and loss
    }
}
