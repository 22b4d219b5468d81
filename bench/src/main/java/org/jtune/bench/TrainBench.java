package org.jtune.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * `jtune bench train`: training steps (forward, backward, AdamW) with LoRA (r = 16 on q, k, v, o) and
 * with full fine-tuning at batch 4 × 256 on a stories15M-shaped (dim 288, 6 layers) and a 110M-shaped
 * (dim 768, 12 layers, hidden 2048) Llama with random weights and vocabulary 32000: tokens/s and peak
 * resident memory, each configuration in a fresh JVM ({@link TrainStep}), beside PyTorch CPU float32
 * (bench/peers/torch_llama_step.py with --optimizer, and --lora 16 --lora-targets q,k,v,o for LoRA) with
 * the same model, batch and threads in the same run. {@code ratio} = our tokens/s ÷ PyTorch's (higher
 * is better). Each line also gives the projected hours of 3 epochs over 10k examples of 256 tokens at that
 * speed. The TinyLlama-1.1B shape (dim 2048, 22 layers, 32/4 heads, hidden 5632; LoRA r16 on all seven
 * projections, batch 4 × 512, checkpointing on both sides) runs only when named, being minutes per step on
 * 2 cores: {@code -Djtune.bench.shapes=tinyllama-1.1B}. System properties: jtune.bench.threads (default:
 * the pool's), jtune.bench.steps (3), jtune.bench.warmup (1), jtune.bench.shapes ("stories15M,110M").
 */
public final class TrainBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainBench() {}

    static TrainingShape shape(String name) {
        return switch (name) {
            case "stories15M" -> TrainingShape.stories15M();
            case "110M" -> new TrainingShape(768, 12, 12, 12, 2048, 32000, 4, 256);
            case TINY_LLAMA -> new TrainingShape(2048, 22, 32, 4, 5632, 32000, 4, 512);
            default -> throw new IllegalArgumentException("unknown training shape " + name + " (stories15M, 110M, " + TINY_LLAMA + ")");
        };
    }

    /** TinyLlama-1.1B's shape: LoRA r16 on all seven projections, batch 4 × 512, checkpointing (opt-in: minutes per step on 2 cores). */
    static final String TINY_LLAMA = "tinyllama-1.1B";

    /** How a shape is trained: the modes run, the LoRA targets (peer names: q, k, v, o, gate, up, down) and checkpointing. */
    record Plan(List<String> modes, List<String> loraTargets, boolean checkpointing) {
        List<String> hfTargets() {
            return loraTargets.stream().map(t -> t + "_proj").toList();
        }
    }

    static Plan plan(String name) {
        return name.equals(TINY_LLAMA)
                ? new Plan(List.of("lora"), List.of("q", "k", "v", "o", "gate", "up", "down"), true)
                : new Plan(List.of("lora", "full"), List.of("q", "k", "v", "o"), false);
    }

    /** Tokens of 3 epochs over 10k examples of 256 tokens: the projected wall time of such a run is this ÷ tokens/s. */
    static final double PROJECTED_RUN_TOKENS = 3.0 * 10_000 * 256;

    public static int run(boolean json) throws Exception {
        int threads = Integer.getInteger("jtune.bench.threads", org.jtune.tensor.Parallel.threads());
        int steps = Integer.getInteger("jtune.bench.steps", 3), warmup = Integer.getInteger("jtune.bench.warmup", 1);
        Path peer = TorchPeer.script();
        String python = System.getProperty("jtune.python", "/usr/bin/python3");
        boolean peerPresent = peer != null && TorchPeer.hasTorch(python);
        System.err.printf("train: batch 4 × 256, %d threads, %d warm-up + %d timed steps; PyTorch peer %s%n", threads, warmup, steps,
                peerPresent ? "present" : "absent");
        if (peerPresent) TorchPeer.warnOnSlowBlas(python);
        for (String name : System.getProperty("jtune.bench.shapes", "stories15M,110M").split(",")) {
            TrainingShape shape = shape(name.trim());
            Plan plan = plan(name.trim());
            for (String mode : plan.modes()) {
                List<String> cmd = ChildJvm.command(TrainStep.class, List.of(name.trim(), mode, "" + threads, "" + warmup, "" + steps));
                JsonNode ours = BackwardBench.runJson(cmd, "TrainStep " + name + " " + mode);
                double tokS = shape.tokens() / ours.get("step_s").asDouble();
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("bench", "train");
                r.put("shape", name.trim());
                r.put("mode", mode);
                r.put("threads", threads);
                r.put("tokens_per_s", tokS);
                r.put("step_s", ours.get("step_s").asDouble());
                r.put("checkpointing", plan.checkpointing());
                r.put("projected_3x10kx256_hours", PROJECTED_RUN_TOKENS / tokS / 3600);
                r.put("peak_rss_bytes", ours.get("peak_rss_bytes").asLong());
                r.put("plan_bytes", ours.get("plan_bytes").asLong());
                r.put("plan_over_peak", ours.get("plan_bytes").asDouble() / ours.get("peak_rss_bytes").asDouble());
                r.put("trainable_params", ours.get("trainable_params").asLong());
                // ours first, so that a peer that fails or times out does not lose it
                System.err.printf("train %s %s: %.2f s/step, %.0f tok/s, peak %.0f MiB (memory plan %.0f MiB)%n", name, mode, ours.get("step_s").asDouble(), tokS,
                        ours.get("peak_rss_bytes").asLong() / 1048576.0, ours.get("plan_bytes").asLong() / 1048576.0);
                JsonNode p = null;
                if (peerPresent) {
                    List<String> extra = new ArrayList<>(List.of("--optimizer"));
                    if (mode.equals("lora")) extra.addAll(List.of("--lora", "16", "--lora-targets", String.join(",", plan.loraTargets())));
                    try {
                        p = TorchPeer.run(python, peer, shape, threads, plan.checkpointing(), warmup, steps, extra);
                    } catch (java.io.IOException e) {
                        r.put("peer", "failed");
                        r.put("peer_error", e.getMessage());
                    }
                }
                if (p != null) {
                    r.put("peer", "pytorch");
                    r.put("peer_tokens_per_s", p.get("tokens_per_s").asDouble());
                    r.put("peer_peak_rss_bytes", p.get("peak_rss_bytes").asLong());
                    r.put("ratio", tokS / p.get("tokens_per_s").asDouble());
                    r.put("memory_ratio", ours.get("peak_rss_bytes").asDouble() / p.get("peak_rss_bytes").asDouble());
                    System.err.printf("train %s %s: PyTorch %.0f tok/s, peak %.0f MiB; ratio %.2f (higher is better)%n", name, mode,
                            (double) r.get("peer_tokens_per_s"), (long) r.get("peer_peak_rss_bytes") / 1048576.0, (double) r.get("ratio"));
                } else if (!peerPresent) {
                    r.put("peer", "absent");
                }
                if (json) System.out.println(JSON.writeValueAsString(r));
            }
        }
        return 0;
    }
}
