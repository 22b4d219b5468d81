package org.jtune.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jtune.autograd.OpProfile;
import org.jtune.models.CausalLM;
import org.jtune.models.SequenceChunk;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.kv.KvCache;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Where one serving step goes on the TinyLlama-1.1B width, in process (no HTTP, no scheduler): the model's
 * batched step ({@link CausalLM#step}) over a prefill of S sequences × P prompt tokens, and over decode
 * steps of S rows and of one row, on random F32 weights mapped from a temporary folder with L layers
 * (default 4: per layer and for the head the products are those of the 22-layer model; a 22-layer
 * figure is head + 22/L × the layers). Prints the median step time of each kind, the step's time
 * per layer, and each projection on its own (Ops.linear on the model's own mapped weights) with its
 * GFLOP/s, so the sum of the products can be set beside the step; with {@code -Djtune.profile=true}
 * the per-op profile of the timed steps follows each kind (the attention of StepBatch is not an
 * autograd op: its time shows under the "reshape" that follows it).
 *
 * <p>{@code java -cp bench/target/jtune-bench.jar:bench/target/lib/* org.jtune.bench.EngineStepProfile [layers] [sequences] [promptTokens] [repeats]}
 */
public final class EngineStepProfile {
    /** {@code -Djtune.engineStep.only=prefill} (the prefill step only) or {@code steps} (no isolated products) or {@code decode} (the decode steps only). */
    private static final String ONLY = System.getProperty("jtune.engineStep.only", "");

    /** {@code -Djtune.engineStep.ab=NAME}: alternate prefill steps with a kernel switch on and off ({@link AbSwitch}). */
    private static final String AB = System.getProperty("jtune.engineStep.ab", "");

    /** A kernel setting that the A/B mode flips. */
    private record AbSwitch(java.util.function.Consumer<Boolean> setter) {
        static AbSwitch named(String name) {
            return switch (name) {
                case "packing" -> new AbSwitch(org.jtune.tensor.cpu.CpuBackend::setTransposedPacking);
                case "" -> null;
                default -> throw new IllegalArgumentException("unknown A/B switch " + name);
            };
        }

        void set(boolean on) {
            setter.accept(on);
        }
    }

    private EngineStepProfile() {}

    public static void main(String[] args) throws Exception {
        int layers = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        int seqs = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int prompt = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        int repeats = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        LlamaConfig config = RandomLlamaFolder.shape(2048, layers, 32, 4, 5632, 32000);
        Path dir = Files.createTempDirectory("jtune-engine-step-");
        try {
            System.err.printf("engine step: %d layers, %d threads, load %s%n", layers, Parallel.threads(), LoadAverage.read());
            RandomLlamaFolder.write(dir, config, DType.F32);
            try (CausalLM model = Architectures.load(dir)) {
                profile(model, config, layers, seqs, prompt, repeats);
            }
        } finally {
            RandomLlamaFolder.delete(dir);
        }
    }

    private static void profile(CausalLM model, LlamaConfig c, int layers, int seqs, int prompt, int repeats) {
        // prefill: S fresh sequences of P tokens in one step; with an A/B switch, the two settings alternate step by step
        AbSwitch ab = AbSwitch.named(AB);
        double[] prefill = new double[ONLY.equals("decode") ? 0 : repeats];
        double[][] abMs = new double[2][repeats], abCpu = new double[2][repeats];
        for (int r = prefill.length == 0 ? 0 : -1; r < prefill.length; r++) {
            if (r == 0 && OpProfile.enabled()) OpProfile.reset();
            if (ab != null) {
                for (int side = 0; side < 2; side++) {
                    ab.set(side == 0);
                    List<SequenceChunk> chunks = new ArrayList<>();
                    for (int s = 0; s < seqs; s++) chunks.add(new SequenceChunk(prompt(s, prompt), model.newKvCache(prompt + 64), null));
                    long t0 = System.nanoTime(), c0 = cpuNanos();
                    model.step(chunks);
                    if (r >= 0) {
                        abMs[side][r] = (System.nanoTime() - t0) * 1e-6;
                        abCpu[side][r] = (cpuNanos() - c0) * 1e-6;
                    }
                }
                ab.set(true);
                continue;
            }
            List<SequenceChunk> chunks = new ArrayList<>();
            for (int s = 0; s < seqs; s++) chunks.add(new SequenceChunk(prompt(s, prompt), model.newKvCache(prompt + 64), null));
            long t0 = System.nanoTime();
            model.step(chunks);
            if (r >= 0) prefill[r] = (System.nanoTime() - t0) * 1e-6;
        }
        if (ab != null) {
            report("prefill " + seqs + "x" + prompt + " " + AB + "=on ", abMs[0], layers);
            report("prefill " + seqs + "x" + prompt + " " + AB + "=off", abMs[1], layers);
            report("  process CPU ms, " + AB + "=on ", abCpu[0], layers);
            report("  process CPU ms, " + AB + "=off", abCpu[1], layers);
            return;
        }
        if (prefill.length > 0) report("prefill " + seqs + "x" + prompt, prefill, layers);
        if (ONLY.equals("prefill")) return;
        for (int batch : new int[] {seqs, 1}) {
            List<KvCache> caches = new ArrayList<>();
            List<SequenceChunk> first = new ArrayList<>();
            for (int s = 0; s < batch; s++) {
                KvCache kv = model.newKvCache(prompt + 2 * repeats + 8);
                caches.add(kv);
                first.add(new SequenceChunk(prompt(s, prompt), kv, null));
            }
            model.step(first);
            for (int s = 0; s < batch; s++) caches.get(s).advance(prompt(s, prompt));
            double[] decode = new double[repeats];
            for (int r = -1; r < 2 * repeats; r++) {
                if (r == 0 && OpProfile.enabled()) OpProfile.reset();
                List<SequenceChunk> chunks = new ArrayList<>();
                for (int s = 0; s < batch; s++) chunks.add(new SequenceChunk(new int[] {100 + s + r}, caches.get(s), null));
                long t0 = System.nanoTime();
                model.step(chunks);
                if (r >= 0 && r < repeats) decode[r] = (System.nanoTime() - t0) * 1e-6;
                for (int s = 0; s < batch; s++) caches.get(s).advance(new int[] {100 + s + r});
                if (r == repeats - 1) break;
            }
            report("decode " + batch + " rows", decode, layers);
        }
        if (ONLY.equals("steps") || ONLY.equals("decode")) return;
        // each projection on its own, on the model's weights, at the rows the steps use
        String p = "model.layers.0.";
        String[] names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
        for (int m : new int[] {seqs * prompt, seqs, 1}) {
            double layerMs = 0, layerFlop = 0;
            for (String n : names) {
                Tensor w = model.weights().get(p + n + ".weight").value().value();
                double[] ms = linear(m, w, repeats);
                double med = median(ms), flop = 2.0 * m * w.size(0) * w.size(1);
                layerMs += med;
                layerFlop += flop;
                System.err.printf("  linear m=%-4d %-17s (%5d x %5d): %8.2f ms  %6.1f GFLOP/s  %5.1f GB/s of weight%n",
                        m, n, w.size(0), w.size(1), med, flop / med / 1e6, 4.0 * w.numel() / med / 1e6);
            }
            Tensor head = model.weights().get("lm_head.weight").value().value();
            double hm = median(linear(Math.min(m, seqs), head, Math.max(2, repeats / 2)));
            System.err.printf("  m=%d: one layer's projections %.1f ms (%.1f GFLOP/s); lm_head at %d rows %.1f ms; 22 layers + head %.0f ms%n",
                    m, layerMs, layerFlop / layerMs / 1e6, Math.min(m, seqs), hm, 22 * layerMs + hm);
        }
    }

    private static double[] linear(int m, Tensor w, int repeats) {
        Tensor x = Tensor.randn(new org.jtune.tensor.Rng(m), 1f, m, w.size(1));
        double[] ms = new double[repeats];
        Ops.linear(x, w);
        for (int r = 0; r < repeats; r++) {
            long t0 = System.nanoTime();
            Ops.linear(x, w);
            ms[r] = (System.nanoTime() - t0) * 1e-6;
        }
        return ms;
    }

    /** CPU time of the whole process (all threads), which the other sessions' load inflates far less than wall time. */
    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static int[] prompt(int s, int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = 300 + (s * 131 + i * 17) % 20000;
        return ids;
    }

    private static void report(String kind, double[] ms, int layers) {
        double med = median(ms);
        System.err.printf("%s: median %.1f ms over %d steps %s (load %s)%n", kind, med, ms.length, Arrays.toString(round(ms)), LoadAverage.read());
        if (OpProfile.enabled()) System.err.print(OpProfile.report());
    }

    private static double[] round(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = Math.round(v[i] * 10) / 10.0;
        return r;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
    }
}
