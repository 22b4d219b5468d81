package org.jtune.models.lora;

import java.util.List;
import java.util.Set;

/**
 * Which projections get a LoRA adapter and how it is scaled, with PEFT's meanings.
 *
 * @param rank                  r
 * @param alpha                 lora_alpha; scale = alpha / r, or alpha / sqrt(r) with rsLoRA
 * @param dropout               lora_dropout on the adapter's input during training
 * @param targetModules         module names (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)
 * @param useRslora             rank-stabilised scaling (Kalajdzievski 2023)
 * @param trainableTokenIndices embed_tokens rows trained alongside the adapter (PEFT trainable_token_indices)
 */
public record LoraConfig(int rank, float alpha, float dropout, List<String> targetModules, boolean useRslora,
                         List<Integer> trainableTokenIndices) {
    public static final List<String> ALL_LINEAR = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    public LoraConfig {
        if (rank <= 0) throw new IllegalArgumentException("lora_r must be positive, got " + rank);
        if (!(alpha > 0)) throw new IllegalArgumentException("lora_alpha must be positive, got " + alpha);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + dropout);
        targetModules = List.copyOf(targetModules);
        if (targetModules.isEmpty()) throw new IllegalArgumentException("lora_target_modules is empty");
        for (String m : targetModules) {
            if (!Set.copyOf(ALL_LINEAR).contains(m)) {
                throw new IllegalArgumentException("lora_target_modules: unknown module " + m + " (known: " + String.join(", ", ALL_LINEAR) + ")");
            }
        }
        trainableTokenIndices = List.copyOf(trainableTokenIndices);
    }

    public float scale() {
        return useRslora ? (float) (alpha / Math.sqrt(rank)) : alpha / rank;
    }

    /** Whether the projection whose weight is named {@code weightName} gets an adapter. */
    public boolean targets(String weightName) {
        for (String m : targetModules) if (weightName.endsWith("." + m + ".weight")) return true;
        return false;
    }
}
