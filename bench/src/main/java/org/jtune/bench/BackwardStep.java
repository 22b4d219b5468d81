package org.jtune.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.autograd.OpProfile;
import org.jtune.autograd.Variable;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.arch.Architectures;
import org.jtune.models.weights.Weight;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.HeapGrowthLimit;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.StepBufferPool;
import org.jtune.tensor.Tensor;
import org.jtune.train.run.FineTune;
import org.jtune.train.run.MemoryPlan;

/**
 * One configuration of `jtune bench backward`, meant to run alone in a fresh JVM so that its peak
 * resident set is its own: builds a model of the given {@link TrainingShape} with random F32 weights
 * (std 0.02, norms 1, as the PyTorch peer), makes every weight a trainable parameter, and times
 * forward + backward (no optimizer step; gradients are dropped after each step, as the peer sets
 * them to None) of random token ids against random targets. Prints one JSON object on stdout:
 * the median step time over the timed steps and the process's peak resident set (VmHWM of
 * /proc/self/status, read at the end; the resident set before the model was built is reported too).
 * Each step runs as the trainer's do: in a {@link StepBufferPool} bounded by the memory plan's activations (unless
 * -Djtune.stepPool=false), under the {@link HeapGrowthLimit} (unless -Djtune.heapLimit=false).
 *
 * <p>Usage: {@code BackwardStep THREADS CHECKPOINTING(true|false) WARMUP STEPS}.
 */
public final class BackwardStep {
    private BackwardStep() {}

    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[0]);
        boolean checkpointing = Boolean.parseBoolean(args[1]);
        int warmup = Integer.parseInt(args[2]), steps = Integer.parseInt(args[3]);
        Map<String, Object> r = run(TrainingShape.stories15M(), threads, checkpointing, warmup, steps);
        System.out.println(new ObjectMapper().writeValueAsString(r));
    }

    static Map<String, Object> run(TrainingShape shape, int threads, boolean checkpointing, int warmup, int steps) throws Exception {
        long rssBefore = procStatusBytes("VmRSS");
        Parallel.setThreads(threads);
        LlamaConfig config = shape.config();
        Rng rng = new Rng(0);
        CausalLM model = Architectures.random(config, rng, 0.02f);
        List<Variable> params = new ArrayList<>();
        for (Weight w : model.weights().all()) {
            Variable p = Variable.parameter(w.value().value());
            w.set(p);
            params.add(p);
        }
        int b = shape.batch(), t = shape.seq(), n = shape.tokens();
        int[] ids = new int[n], targets = new int[n], pos = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = rng.nextInt(shape.vocab());
            targets[i] = rng.nextInt(shape.vocab());
            pos[i] = i % t;
        }
        Tensor idT = Tensor.ofInts(ids, b, t), posT = Tensor.ofInts(pos, b, t), tgT = Tensor.ofInts(targets, n);
        ForwardPass pass = ForwardPass.training(AttentionMask.causalMask(), null, checkpointing);
        double[] times = new double[steps];
        float loss = Float.NaN;
        long gcStart = 0;
        // as the trainer runs a step: in a pool bounded by the memory plan's activations, under the heap growth limit
        MemoryPlan plan = MemoryPlan.of(model, new MemoryPlan.Workload(n, checkpointing, params.stream().mapToLong(p -> p.value().numel()).sum(), 0, true));
        StepBufferPool pool = StepBufferPool.enabled() ? new StepBufferPool(plan.activationBytes()) : null;
        HeapGrowthLimit heapLimit = HeapGrowthLimit.enabled() ? HeapGrowthLimit.install(HeapGrowthLimit.TRAINING_RATIO, HeapGrowthLimit.TRAINING_FLOOR) : null;
        for (int s = 0; s < warmup + steps; s++) {
            if (s == warmup) {
                gcStart = gcMillis();
                if (OpProfile.enabled()) OpProfile.reset();
            }
            long t0 = System.nanoTime();
            java.util.function.Supplier<Float> step = () -> {
                Variable l = FineTune.tokenLoss(model, model.hidden(idT, posT, pass), tgT, n); // the trainer's head and loss
                l.backward();
                return l.value().item();
            };
            loss = pool == null ? step.get() : pool.step(step);
            for (Variable p : params) p.zeroGrad();
            double dt = (System.nanoTime() - t0) / 1e9;
            if (s >= warmup) times[s - warmup] = dt;
        }
        if (heapLimit != null) heapLimit.close();
        if (OpProfile.enabled()) System.err.print("per-op profile of " + steps + " steps (-Djtune.profile=true):\n" + OpProfile.report());
        double[] sorted = times.clone();
        Arrays.sort(sorted);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("threads", threads);
        r.put("checkpointing", checkpointing);
        r.put("step_s", sorted[sorted.length / 2]);
        r.put("step_times_s", times);
        r.put("gc_s_per_step", (gcMillis() - gcStart) / 1e3 / steps);
        r.put("loss", loss);
        r.put("peak_rss_bytes", procStatusBytes("VmHWM"));
        r.put("step_pool_bytes", pool == null ? 0 : pool.pooledBytes());
        r.put("plan_bytes", plan.peakBytes());
        r.put("rss_before_model_bytes", rssBefore);
        return r;
    }

    /** Milliseconds all garbage collectors have spent so far (pauses; concurrent phases included for collectors that report them). */
    static long gcMillis() {
        long ms = 0;
        for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) ms += Math.max(0, gc.getCollectionTime());
        return ms;
    }

    /** A "kB" line of /proc/self/status (VmHWM: peak resident set, VmRSS: current) in bytes; −1 when unreadable. */
    static long procStatusBytes(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) return Long.parseLong(line.substring(key.length() + 1).replace("kB", "").trim()) * 1024;
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
