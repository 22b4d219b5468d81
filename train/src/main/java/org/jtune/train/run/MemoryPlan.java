package org.jtune.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.config.MoeConfig;
import org.jtune.models.lora.LoraLinear;
import org.jtune.models.weights.Weight;
import org.jtune.tensor.DType;
import org.jtune.tensor.HeapGrowthLimit;
import org.jtune.tensor.Tensor;

/**
 * What one training step will hold in memory, counted before the first step from the loaded model and the
 * step's shape, so that a run that cannot fit is refused with the fix instead of dying (or swapping) an hour
 * in. Parts, in bytes (N = micro-batch × sequence tokens, F32 activations):
 * <pre>
 *   weights      every weight as it is held: F32/BF16 (mapped from the checkpoint, or on the heap), NF4/Q blocks
 *                as their bytes
 *   trainable    each trainable value: its gradient and the optimizer's state per value (AdamW 2, SGD with
 *                momentum 1); LoRA's A and B themselves too (full fine-tuning's values are the weights, counted
 *                as held: the F32 copies it trains on are made before the plan)
 *   layer        values one decoder layer keeps for its backward, per token: RMSNorm's output x (d), q and
 *                k after RoPE (q + kv), v (kv), the attention output (q) and its logsumexp (heads), the
 *                residual r and its norm x2 (2·d), gate, up and silu(gate)·up (3·f), the layer's output (d),
 *                and r values per LoRA-adapted projection (x·A), and the output width of a DoRA one (x·Wᵀ + delta,
 *                which its magnitude's gradient reads); and what the family's layer keeps beyond (per-head q/k norms' inputs,
 *                Gemma 3's extra norms and unfused GELU gate: {@code ModelConfig.extraSavedValuesPerToken})
 *   backward     the gradients in flight while one layer is differentiated, per token: f + 2·d (a node's saved
 *                values are released once its rule has run, so the gate and up gradients replace the freed
 *                silu(gate)·up; the residual stream's gradient and one more of width d)
 *   activations  max(forward end, backward) where forward end = inputs + 3·N·d + C·vocab (the final norm's
 *                input and output, the hidden states' gradient the chunked loss keeps, and the logits of one chunk
 *                of C rows, which the fused cross-entropy turns into their own gradient: {@link FineTune#tokenLoss};
 *                C = N with -Djtune.chunkedLoss=false, and then no kept gradient) and
 *                backward = inputs + layer + backward; inputs = L·N·d (each layer's input) with per-layer
 *                checkpointing, L·layer without
 *   runtime      the JVM itself (code, metadata, the 64 MiB young generation the launcher sets, thread stacks,
 *                the tokenizer and data): a measured constant, {@link #RUNTIME_BYTES}
 * </pre>
 * Heap-resident parts (trainable state, activations, weights held on the heap) are counted as the
 * {@link HeapGrowthLimit} the trainer runs under lets the heap grow: to its ratio × the live data (garbage between
 * full collections), and never below its floor. The forward-end count is checked against the heap a forward pass
 * retains ({@code MemoryPlanTest}); the backward count and the runtime constant against measured peaks of whole
 * steps (bench/RESULTS.md: `bench train`, `bench qlora`, on the stories15M, TinyLlama-1.1B and Mistral-7B shapes).
 * Llama-family layers (Llama, Mistral, Qwen2, Qwen3, Phi-3, Gemma 3: the same saved values and each family's extra ones,
 * Phi-3's fused projections included; a mixture of experts with f the k routed experts' width and the adapters of an expert
 * counted for the share k / E of the tokens it sees)
 * are what the per-layer count describes. Host memory only: a run on a device keeps its activations there.
 */
public record MemoryPlan(long weightBytes, long heapWeightBytes, long trainableBytes, long forwardEndBytes, long backwardBytes,
                         long runtimeBytes, double heapRatio, Workload workload) {
    /**
     * The JVM's own resident set under the launcher's flags (-XX:+UseParallelGC -Xmn64m) once a training step's
     * code is compiled, with the run's tokenizer and data: 250 MB sits between the peaks of a stories260K run and the
     * bench steps less their counted parts (2026-12-04, bench/RESULTS.md).
     */
    public static final long RUNTIME_BYTES = 250_000_000L;

    /**
     * The step's shape: {@code tokens} per micro-batch, per-layer checkpointing, the number of trainable values
     * and the optimizer's state values per trainable value, whether the base weights themselves train.
     */
    public record Workload(long tokens, boolean checkpointing, long trainableValues, int optimizerStates, boolean fullFineTune) {}

    /** The plan of {@code w} on {@code model} as loaded now (quantized weights as quantized; adapters attached). */
    public static MemoryPlan of(CausalLM model, Workload w) {
        var c = model.config();
        long d = c.hiddenSize(), layers = c.numHiddenLayers(), q = (long) c.numAttentionHeads() * c.headDim(),
                kv = (long) c.numKeyValueHeads() * c.headDim(), vocab = c.vocabSize();
        long projectionValues = 0, loraValuesPerToken = 0, weightBytes = 0, heapWeightBytes = 0;
        MoeConfig moe = c.moe();
        for (LoraLinear p : model.weights().projections()) {
            projectionValues += (long) p.inFeatures() * p.outFeatures();
            long perToken = 0;
            for (var pair : p.adapters().values()) perToken += pair.rank() + (pair.magnitude() != null ? p.outFeatures() : 0);
            // an expert's adapter sees the k of E tokens' rows routed to it
            loraValuesPerToken += moe != null && MoeConfig.expertWeight(p.name()) ? perToken * moe.expertsPerToken() / moe.numExperts() : perToken;
        }
        for (Weight wt : model.weights().all()) {
            Tensor t = wt.value().value();
            weightBytes += heldBytes(t);
            if (t.storage().isHost() && t.storage().segment().heapBase().isPresent()) heapWeightBytes += heldBytes(t);
        }
        // f from the projections' sizes: per layer d·(q + 2·kv) + q·d + 3·d·f (fused or not); a mixture's from its config
        long f = moe != null ? moe.meanTokenWidth(c.intermediateSize(), (int) layers)
                : Math.max(0, (projectionValues / Math.max(1, layers) - d * (2 * q + 2 * kv)) / (3 * d));
        long n = w.tokens;
        long layer = n * (4 * d + 2 * q + 2 * kv + c.numAttentionHeads() + 3 * f + c.extraSavedValuesPerToken(f))
                + n * loraValuesPerToken / Math.max(1, layers);
        long backward = n * (f + 2 * d);
        long inputs = w.checkpointing ? layers * n * d : layers * layer;
        long logitRows = FineTune.heldLogitRows(n, (int) vocab);
        long forwardEnd = inputs + 2 * n * d + (logitRows < n ? n * d : 0) + logitRows * vocab;
        long trainable = 4 * w.trainableValues * (1 + w.optimizerStates);
        if (!w.fullFineTune) trainable += 4 * w.trainableValues; // LoRA's own values (full fine-tuning's are the weights)
        return new MemoryPlan(weightBytes, heapWeightBytes, trainable, 4 * forwardEnd, 4 * (inputs + layer + backward), RUNTIME_BYTES,
                HeapGrowthLimit.TRAINING_RATIO, w);
    }

    /** Bytes a tensor's values occupy: block formats by their encoded size. */
    static long heldBytes(Tensor t) {
        return t.dtype() == DType.BLOCK ? t.storage().byteSize() : t.numel() * t.dtype().byteSize();
    }

    /** Activations at the larger of the two peaks (the end of the forward pass, or inside the backward). */
    public long activationBytes() {
        return Math.max(forwardEndBytes, backwardBytes);
    }

    /** The parts that live on the Java heap, with the garbage the heap growth limit allows beside them. */
    public long heapBytes() {
        return Math.max((long) ((heapWeightBytes + trainableBytes + activationBytes()) * heapRatio), HeapGrowthLimit.TRAINING_FLOOR);
    }

    /** The estimated peak resident set of a training step: weights mapped from their files are resident once read. */
    public long peakBytes() {
        return weightBytes - heapWeightBytes + heapBytes() + runtimeBytes;
    }

    /** Several lines, for the run log. */
    public String describe() {
        return String.format("memory plan (one step, %d tokens per micro-batch, gradient checkpointing %s): weights %s, trainable values with "
                        + "gradients and optimizer state %s, activations %s (×%.2f heap headroom), runtime %s: peak ≈ %s",
                workload.tokens, workload.checkpointing ? "on" : "off", gb(weightBytes), gb(trainableBytes), gb(activationBytes()), heapRatio,
                gb(runtimeBytes), gb(peakBytes()));
    }

    /**
     * Why the step will not fit in {@code availableBytes} of memory (or in a heap of {@code maxHeapBytes}), with the
     * recipe changes that would make it fit; empty when it fits.
     */
    public Optional<String> refusal(long availableBytes, long maxHeapBytes) {
        boolean memory = peakBytes() > availableBytes, heap = heapBytes() > maxHeapBytes;
        if (!memory && !heap) return Optional.empty();
        List<String> fixes = new ArrayList<>();
        if (!workload.checkpointing) fixes.add("gradient_checkpointing: true");
        if (workload.tokens > 1) fixes.add("a smaller micro_batch_size or sequence_len (activations grow with the tokens per micro-batch)");
        if (workload.fullFineTune) fixes.add("adapter: lora (or qlora), which trains a small fraction of the values");
        else if (weightBytes > activationBytes()) fixes.add("adapter: qlora with load_in_4bit: true (the base weights in 4 bits)");
        String where = memory ? "the " + gb(availableBytes) + " of memory this machine has available"
                : "the JVM's maximum heap of " + gb(maxHeapBytes) + " (JTUNE_JAVA_OPTS=-Xmx… raises it)";
        return Optional.of("this training step needs about " + gb(peakBytes()) + " (" + describe() + "), more than " + where
                + (fixes.isEmpty() ? "" : "; to fit: " + String.join("; ", fixes)));
    }

    /**
     * Refuses (a {@link JtuneException} with the fixes) when the plan does not fit in the memory available to this
     * process — what the system could give it (MemAvailable) plus what it holds already — or in the JVM's maximum
     * heap. {@code -Djtune.memoryPlan.refuse=false} turns the refusal into a warning.
     */
    public static void checkFits(MemoryPlan plan, FineTune.Listener listener) throws JtuneException {
        long available = availableBytes();
        if (available <= 0) return; // not known on this system
        Optional<String> why = plan.refusal(available, Runtime.getRuntime().maxMemory());
        if (why.isEmpty()) return;
        if ("false".equals(System.getProperty("jtune.memoryPlan.refuse"))) {
            listener.info("WARNING " + why.get());
            return;
        }
        throw new JtuneException(why.get() + " (-Djtune.memoryPlan.refuse=false in JTUNE_JAVA_OPTS runs it anyway)");
    }

    /** MemAvailable plus this process's resident set (Linux), else the machine's physical memory; 0 when unknown. */
    static long availableBytes() {
        try {
            long avail = procField(Path.of("/proc/meminfo"), "MemAvailable:"), rss = procField(Path.of("/proc/self/status"), "VmRSS:");
            if (avail > 0) return avail + Math.max(0, rss);
        } catch (IOException | RuntimeException e) {
            // fall through to the management bean
        }
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getTotalMemorySize() : 0;
    }

    /** A "Key:   123 kB" line's value in bytes, or -1. */
    private static long procField(Path file, String key) throws IOException {
        if (!Files.isReadable(file)) return -1;
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith(key)) return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]) * 1024;
        }
        return -1;
    }

    static String gb(long bytes) {
        return bytes >= 1e9 ? String.format("%.2f GB", bytes / 1e9) : String.format("%.0f MB", bytes / 1e6);
    }
}
