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
import org.jtune.models.kv.KvBlockPool;
import org.jtune.models.kv.KvCache;
import org.jtune.models.kv.PagedKvCache;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Where one serving step goes on the TinyLlama-1.1B width, in process (no HTTP, no scheduler): the model's
 * batched step ({@link CausalLM#step}) over a prefill of S sequences × P prompt tokens, a prefill of one
 * sequence, and decode steps of S rows and of one row, on random F32 weights mapped from a temporary folder
 * with L layers (default 4: per layer and for the head the products are those of the 22-layer model, in a
 * quarter of the memory). Prints each kind's median wall time and the CPU time of all the JVM's threads
 * (the other sessions' load inflates wall time far more), the tokens/s ratio of S requests served together
 * over one at a time that these steps imply, the engine's draws at the serve benchmark's sampling, and each
 * projection of a layer on its own (Ops.linear on the model's mapped weights) with its GFLOP/s. With
 * {@code -Djtune.profile=true} the per-op profile of the timed steps follows each kind (StepBatch's attention under
 * "attention"); with
 * {@code -Djtune.engineStep.ab=packing} prefill steps alternate with the GEMM's transposed weight packing on
 * and off ({@code ab=fourHeads}: prefill attention four query heads at a time or one); with {@code -Djtune.engineStep.ab=exactSegments -Djtune.engineStep.only=decode} decode steps of S rows and of
 * one row alternate with the GEMV's exact-class segment loads on and off ({@code ab=singleStream}: the one-row GEMV
 * reading its weight rows one at a time or four at a time); {@code -Djtune.engineStep.quantize=q4_0} (or any
 * `serve --quantize` type) quantizes the projections on load, as `jtune serve --quantize` does;
 * {@code -Djtune.engineStep.dtype=BF16} writes the weights in BF16 (default F32);
 * {@code -Djtune.engineStep.kvBlock=16} keeps the decode steps' sequences in KV blocks of one pool, as `serve
 * --kv-budget-bytes` does; {@code -Djtune.engineStep.kvType=bf16} (or f16) keeps every KV cache in that type, as
 * `--kv-type` does.
 *
 * <p>{@code java --add-modules jdk.incubator.vector -cp bench/target/jtune-bench.jar:bench/target/lib/*
 * org.jtune.bench.EngineStepProfile [layers] [sequences] [promptTokens] [repeats]}
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
                case "exactSegments" -> new AbSwitch(org.jtune.tensor.cpu.CpuBackend::setExactSegmentGemv);
                case "singleStream" -> new AbSwitch(org.jtune.tensor.cpu.CpuBackend::setSingleStreamGemv);
                case "fourHeads" -> new AbSwitch(org.jtune.tensor.cpu.CpuBackend::setFourHeadAttention);
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
            RandomLlamaFolder.write(dir, config, DType.valueOf(System.getProperty("jtune.engineStep.dtype", "F32").toUpperCase(java.util.Locale.ROOT)));
            String quantize = System.getProperty("jtune.engineStep.quantize");
            try (CausalLM model = quantize == null ? Architectures.load(dir) : Architectures.load(dir, quantize)) {
                org.jtune.models.weights.ServingLayout.packProjections(model.weights());   // as jtune serve loads it (-Djtune.rowGroups=false: not)
                profile(model, config, layers, seqs, prompt, repeats);
            }
        } finally {
            RandomLlamaFolder.delete(dir);
        }
    }

    private static void profile(CausalLM model, LlamaConfig c, int layers, int seqs, int prompt, int repeats) {
        model.setKvCacheType(org.jtune.models.kv.KvCacheType.orAuto(KV_TYPE, model.config(), null));
        AbSwitch ab = AbSwitch.named(AB);
        if (ab != null && ONLY.equals("decode")) {
            decodeAb(model, ab, seqs, prompt, repeats);
            return;
        }
        if (ab != null) { // prefill steps with the switch on and off, alternating step by step
            double[][][] t = new double[2][2][repeats];
            for (int r = -1; r < repeats; r++) {
                for (int side = 0; side < 2; side++) {
                    ab.set(side == 0);
                    double[] wc = prefill(model, seqs, prompt);
                    if (r >= 0) {
                        t[side][0][r] = wc[0];
                        t[side][1][r] = wc[1];
                    }
                }
                ab.set(true);
            }
            for (int side = 0; side < 2; side++) report("prefill " + seqs + "x" + prompt + " " + AB + (side == 0 ? "=on " : "=off"), t[side]);
            return;
        }
        double[] pre = {Double.NaN, Double.NaN}, pre1 = pre, dec = pre, dec1 = pre;
        if (!ONLY.equals("decode")) {
            pre = kind("prefill " + seqs + "x" + prompt, repeats, () -> prefill(model, seqs, prompt));
            if (ONLY.equals("prefill")) return;
            pre1 = kind("prefill 1x" + prompt, repeats, () -> prefill(model, 1, prompt));
        }
        dec = decode(model, seqs, prompt, repeats);
        dec1 = decode(model, 1, prompt, repeats);
        // one request generates G tokens: the prefill gives the first, G - 1 decode steps the rest
        int g = 16;
        double one = pre1[0] + (g - 1) * dec1[0], all = pre[0] + (g - 1) * dec[0];
        double oneCpu = pre1[1] + (g - 1) * dec1[1], allCpu = pre[1] + (g - 1) * dec[1];
        System.err.printf("%d requests of %d prompt + %d generated tokens, from these steps: one at a time %.0f ms each, all at once %.0f ms: "
                + "%.2f x the tokens/s (thread CPU: %.2f x)%n", seqs, prompt, g, one, all, seqs * one / all, seqs * oneCpu / allCpu);
        sampling(model, seqs, prompt, repeats);
        if (ONLY.equals("steps") || ONLY.equals("decode")) return;
        isolated(model, seqs, prompt, repeats);
    }

    /** Median [wall ms, thread CPU ms] over {@code repeats} timed runs after one warm-up; with the per-op profile when on. */
    private static double[] kind(String name, int repeats, java.util.function.Supplier<double[]> step) {
        step.get();
        if (OpProfile.enabled()) OpProfile.reset();
        double[][] t = new double[2][repeats];
        long[] gc0 = gc();
        for (int r = 0; r < repeats; r++) {
            double[] wc = step.get();
            t[0][r] = wc[0];
            t[1][r] = wc[1];
        }
        long[] gc1 = gc();
        report(name, t);
        System.err.printf("  garbage collection per step: %.1f collections, %.1f ms%n", (gc1[0] - gc0[0]) / (double) repeats,
                (gc1[1] - gc0[1]) / (double) repeats);
        return new double[] {Timing.median(t[0]), Timing.median(t[1])};
    }

    /** {@code -Djtune.engineStep.pool=true}: each step's buffers come from a {@link org.jtune.tensor.StepBufferPool}, as the engine's. */
    private static final org.jtune.tensor.StepBufferPool POOL = Boolean.getBoolean("jtune.engineStep.pool") ? new org.jtune.tensor.StepBufferPool() : null;

    /** The model's step and its logits read back (as the engine does), in the step pool when there is one. */
    private static float[] step(CausalLM model, List<SequenceChunk> chunks) {
        return POOL == null ? model.step(chunks).toFloatArray() : POOL.step(() -> model.step(chunks).toFloatArray());
    }

    /** One prefill step of {@code seqs} fresh sequences of {@code prompt} tokens: [wall ms, thread CPU ms]. */
    private static double[] prefill(CausalLM model, int seqs, int prompt) {
        List<SequenceChunk> chunks = new ArrayList<>();
        for (int s = 0; s < seqs; s++) chunks.add(new SequenceChunk(prompt(s, prompt), model.newKvCache(prompt + 64), null));
        long t0 = System.nanoTime(), c0 = cpuNanos();
        step(model, chunks);
        return new double[] {(System.nanoTime() - t0) * 1e-6, (cpuNanos() - c0) * 1e-6};
    }

    /** Decode steps of {@code batch} rows after a prefill of {@code prompt} tokens each: median [wall ms, thread CPU ms]. */
    private static double[] decode(CausalLM model, int batch, int prompt, int repeats) {
        return kind("decode " + batch + " rows", repeats, decoder(model, batch, prompt, repeats + 8));
    }

    /**
     * Decode steps of {@code seqs} rows and of one row with the switch on and off, alternating step by step (the four
     * kinds one after the other, {@code repeats} rounds after one warm-up round): medians, and the ratio of the two
     * step kinds under each setting.
     */
    private static void decodeAb(CausalLM model, AbSwitch ab, int seqs, int prompt, int repeats) {
        int steps = 2 * (repeats + 1) + 8;
        java.util.function.Supplier<double[]> many = decoder(model, seqs, prompt, steps), one = decoder(model, 1, prompt, steps);
        double[][][] t = new double[4][2][repeats];
        for (int r = -1; r < repeats; r++) {
            for (int side = 0; side < 2; side++) {
                ab.set(side == 0);
                for (int kind = 0; kind < 2; kind++) {
                    double[] wc = (kind == 0 ? many : one).get();
                    if (r >= 0) {
                        t[2 * side + kind][0][r] = wc[0];
                        t[2 * side + kind][1][r] = wc[1];
                    }
                }
            }
            ab.set(true);
        }
        for (int side = 0; side < 2; side++) {
            String on = AB + (side == 0 ? "=on " : "=off");
            report("decode " + seqs + " rows " + on, t[2 * side]);
            report("decode 1 row " + on, t[2 * side + 1]);
            System.err.printf("  %s: %d-row step / 1-row step = %.2f wall, %.2f CPU%n", on, seqs,
                    Timing.median(t[2 * side][0]) / Timing.median(t[2 * side + 1][0]),
                    Timing.median(t[2 * side][1]) / Timing.median(t[2 * side + 1][1]));
        }
    }

    /**
     * {@code -Djtune.engineStep.kvBlock=N}: decode steps keep their sequences in blocks of N positions of one pool
     * ({@link PagedKvCache}, as `serve --kv-budget-bytes` does) instead of a growing buffer per sequence.
     */
    private static final int KV_BLOCK = Integer.getInteger("jtune.engineStep.kvBlock", 0);

    /** {@code -Djtune.engineStep.kvType=bf16} (or f16, auto): the steps' KV caches and pool in that type (`--kv-type`); default f32. */
    private static final DType KV_TYPE = org.jtune.models.kv.KvCacheType.parse(System.getProperty("jtune.engineStep.kvType", "f32"));

    /** One decode step of {@code batch} rows per call, after a prefill of {@code prompt} tokens each, for up to {@code steps} calls. */
    private static java.util.function.Supplier<double[]> decoder(CausalLM model, int batch, int prompt, int steps) {
        List<KvCache> caches = new ArrayList<>();
        List<SequenceChunk> first = new ArrayList<>();
        var c = model.config();
        KvBlockPool pool = KV_BLOCK > 0 ? new KvBlockPool(c.numHiddenLayers(), c.numKeyValueHeads(), c.headDim(), KV_BLOCK,
                batch * ((prompt + steps) / KV_BLOCK + 2), model.kvCacheType()) : null;
        for (int s = 0; s < batch; s++) {
            KvCache kv = pool == null ? model.newKvCache(prompt + steps) : new PagedKvCache(pool, prompt + steps);
            if (kv instanceof PagedKvCache p) p.reserve(prompt);
            caches.add(kv);
            first.add(new SequenceChunk(prompt(s, prompt), kv, null));
        }
        model.step(first);
        for (int s = 0; s < batch; s++) caches.get(s).advance(prompt(s, prompt));
        int[] step = {0};
        return () -> {
            List<SequenceChunk> chunks = new ArrayList<>();
            for (int s = 0; s < batch; s++) if (caches.get(s) instanceof PagedKvCache p) p.reserve(1);
            for (int s = 0; s < batch; s++) chunks.add(new SequenceChunk(new int[] {100 + s + step[0]}, caches.get(s), null));
            long t0 = System.nanoTime(), c0 = cpuNanos();
            step(model, chunks);
            double[] wc = {(System.nanoTime() - t0) * 1e-6, (cpuNanos() - c0) * 1e-6};
            for (int s = 0; s < batch; s++) caches.get(s).advance(new int[] {100 + s + step[0]});
            step[0]++;
            return wc;
        };
    }

    /**
     * The engine's draws for one decode step of {@code seqs} rows at the serve benchmark's sampling (temperature 0.8,
     * top-p 0.95) on the logits a prefill step of this model gives, one row after the other on the calling thread (the
     * engine spreads the rows over the pool).
     */
    private static void sampling(CausalLM model, int seqs, int prompt, int repeats) {
        List<SequenceChunk> chunks = new ArrayList<>();
        for (int s = 0; s < seqs; s++) chunks.add(new SequenceChunk(prompt(s, prompt), model.newKvCache(prompt + 8), null));
        float[] logits = model.step(chunks).toFloatArray();
        int vocab = logits.length / seqs;
        org.jtune.models.generate.SamplingConfig config = org.jtune.models.generate.SamplingConfig.greedy(16).withTemperature(0.8f).withTopP(0.95f);
        org.jtune.models.generate.Sampler sampler = new org.jtune.models.generate.Sampler(config.withSeed(1));
        int[] history = prompt(0, prompt);
        double[] ms = new double[60]; // the first half warms the JIT up
        for (int r = 0; r < ms.length; r++) {
            long t0 = System.nanoTime();
            for (int s = 0; s < seqs; s++) sampler.next(Arrays.copyOfRange(logits, s * vocab, (s + 1) * vocab), history, history.length);
            ms[r] = (System.nanoTime() - t0) * 1e-6;
        }
        System.err.printf("sampling %d rows of %d logits (T 0.8, top-p 0.95), one thread: median %.2f ms %s%n", seqs, vocab,
                Timing.median(Arrays.copyOfRange(ms, ms.length / 2, ms.length)), Arrays.toString(round(Arrays.copyOfRange(ms, ms.length - 8, ms.length))));
    }

    /** Each projection of layer 0 on its own, on the model's weights, at the rows the steps use. */
    private static void isolated(CausalLM model, int seqs, int prompt, int repeats) {
        String p = "model.layers.0.";
        String[] names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
        for (int m : new int[] {seqs * prompt, seqs, 1}) {
            double layerMs = 0, layerFlop = 0;
            for (String n : names) {
                Tensor w = model.weights().get(p + n + ".weight").value().value();
                double[] ms = linear(m, w, repeats);
                double med = Timing.median(ms), flop = 2.0 * m * w.size(0) * w.size(1);
                layerMs += med;
                layerFlop += flop;
                System.err.printf("  linear m=%-4d %-17s (%5d x %5d): %8.2f ms  %6.1f GFLOP/s  %5.1f GB/s of weight%n",
                        m, n, w.size(0), w.size(1), med, flop / med / 1e6, (double) w.dtype().byteSize() * w.numel() / med / 1e6);
            }
            Tensor head = model.weights().get("lm_head.weight").value().value();
            double hm = Timing.median(linear(Math.min(m, seqs), head, Math.max(2, repeats / 2)));
            System.err.printf("  m=%d: one layer's projections %.1f ms (%.1f GFLOP/s); lm_head at %d rows %.1f ms; 22 layers + head %.0f ms%n",
                    m, layerMs, layerFlop / layerMs / 1e6, Math.min(m, seqs), hm, 22 * layerMs + hm);
            if (m <= seqs) allInOrder(model, m, names, repeats);
        }
    }

    /**
     * Every layer's projections and the head, one after another in the model's order, at m rows: what the step's
     * products cost when each weight is read once per pass, as in a decode step (a projection timed on its own is
     * read again and again, and a 16 MB one then partly comes from the last-level cache).
     */
    private static void allInOrder(CausalLM model, int m, String[] names, int repeats) {
        List<Tensor> ws = new ArrayList<>();
        for (int l = 0; l < model.config().numHiddenLayers(); l++) {
            for (String n : names) ws.add(model.weights().get("model.layers." + l + "." + n + ".weight").value().value());
        }
        ws.add(model.weights().get("lm_head.weight").value().value());
        Tensor[] xs = new Tensor[ws.size()];
        double flop = 0, bytes = 0;
        for (int i = 0; i < xs.length; i++) {
            xs[i] = Tensor.randn(new org.jtune.tensor.Rng(i), 1f, m, ws.get(i).size(1));
            flop += 2.0 * m * ws.get(i).size(0) * ws.get(i).size(1);
            bytes += (double) ws.get(i).dtype().byteSize() * ws.get(i).numel();
        }
        double[] ms = new double[repeats + 1];
        for (int r = 0; r < ms.length; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < xs.length; i++) Ops.linear(xs[i], ws.get(i));
            ms[r] = (System.nanoTime() - t0) * 1e-6;
        }
        double med = Timing.median(Arrays.copyOfRange(ms, 1, ms.length));
        System.err.printf("  m=%d: all %d layers' projections and the head in order, once each: %.1f ms (%.1f GFLOP/s, %.1f GB/s of weight) %s%n",
                m, model.config().numHiddenLayers(), med, flop / med / 1e6, bytes / med / 1e6, Arrays.toString(round(Arrays.copyOfRange(ms, 1, ms.length))));
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

    /**
     * CPU time of all live threads of this JVM (the step's caller and the pool's workers), in nanoseconds: the other
     * sessions' load inflates it far less than wall time, and unlike the thread CPU time (10 ms ticks) it resolves
     * a decode step.
     */
    static long cpuNanos() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long id : mx.getAllThreadIds()) {
            long t = mx.getThreadCpuTime(id);
            if (t > 0) sum += t;
        }
        return sum;
    }

    /** Collections and milliseconds of collection so far, over all collectors. */
    private static long[] gc() {
        long n = 0, ms = 0;
        for (var b : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, b.getCollectionCount());
            ms += Math.max(0, b.getCollectionTime());
        }
        return new long[] {n, ms};
    }

    private static int[] prompt(int s, int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = 300 + (s * 131 + i * 17) % 20000;
        return ids;
    }

    private static void report(String kind, double[][] wallCpu) {
        System.err.printf("%s: median %.1f ms %s, thread CPU %.0f ms %s (load %s)%n", kind, Timing.median(wallCpu[0]), Arrays.toString(round(wallCpu[0])),
                Timing.median(wallCpu[1]), Arrays.toString(round(wallCpu[1])), LoadAverage.read());
        if (OpProfile.enabled()) System.err.print(OpProfile.report());
    }

    private static double[] round(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = Math.round(v[i] * 10) / 10.0;
        return r;
    }

}
