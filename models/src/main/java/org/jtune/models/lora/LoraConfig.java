package org.jtune.models.lora;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which projections get a LoRA adapter and how it is scaled, with PEFT's meanings.
 *
 * @param rank                  r
 * @param alpha                 lora_alpha; scale = alpha / r, or alpha / sqrt(r) with rsLoRA
 * @param dropout               lora_dropout on the adapter's input during training
 * @param targetModules         module names of the model's projections (Llama: q_proj, k_proj, v_proj, o_proj, gate_proj,
 *                              up_proj, down_proj; Phi-3: qkv_proj, o_proj, gate_up_proj, down_proj), or {@link #ALL_LINEAR};
 *                              which names exist is the model's to say ({@link #resolve})
 * @param useRslora             rank-stabilised scaling (Kalajdzievski 2023)
 * @param trainableTokenIndices embed_tokens rows trained alongside the adapter (PEFT trainable_token_indices)
 * @param useDora               DoRA (Liu et al. 2024, PEFT use_dora): a trained magnitude per output row
 */
public record LoraConfig(int rank, float alpha, float dropout, List<String> targetModules, boolean useRslora,
                         List<Integer> trainableTokenIndices, boolean useDora) {
    /** PEFT's shorthand for every projection of the model (never the output head). */
    public static final String ALL_LINEAR_NAME = "all-linear";
    /** Targets every projection of whatever model the adapter goes on. */
    public static final List<String> ALL_LINEAR = List.of(ALL_LINEAR_NAME);

    public LoraConfig {
        if (rank <= 0) throw new IllegalArgumentException("lora_r must be positive, got " + rank);
        if (!(alpha > 0)) throw new IllegalArgumentException("lora_alpha must be positive, got " + alpha);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + dropout);
        targetModules = List.copyOf(targetModules);
        if (targetModules.isEmpty()) throw new IllegalArgumentException("lora_target_modules is empty");
        for (String m : targetModules) {
            if (m.equals(ALL_LINEAR_NAME) && targetModules.size() > 1) {
                throw new IllegalArgumentException("lora_target_modules: " + ALL_LINEAR_NAME + " stands alone, not in a list with " + targetModules);
            }
            if (!m.matches("[A-Za-z0-9_-]+")) throw new IllegalArgumentException("lora_target_modules: \"" + m + "\" is not a module name");
        }
        trainableTokenIndices = List.copyOf(trainableTokenIndices);
    }

    /** A plain LoRA config (no DoRA). */
    public LoraConfig(int rank, float alpha, float dropout, List<String> targetModules, boolean useRslora, List<Integer> trainableTokenIndices) {
        this(rank, alpha, dropout, targetModules, useRslora, trainableTokenIndices, false);
    }

    /** The same config with DoRA on or off. */
    public LoraConfig withDora(boolean dora) {
        return new LoraConfig(rank, alpha, dropout, targetModules, useRslora, trainableTokenIndices, dora);
    }

    public float scale() {
        return useRslora ? (float) (alpha / Math.sqrt(rank)) : alpha / rank;
    }

    /** Whether the projection whose weight is named {@code weightName} gets an adapter. */
    public boolean targets(String weightName) {
        if (targetModules.equals(ALL_LINEAR)) return true;
        for (String m : targetModules) if (weightName.endsWith("." + m + ".weight")) return true;
        return false;
    }

    /** The module name of a projection weight: model.layers.0.self_attn.qkv_proj.weight → qkv_proj. */
    public static String moduleName(String weightName) {
        String s = weightName.endsWith(".weight") ? weightName.substring(0, weightName.length() - ".weight".length()) : weightName;
        return s.substring(s.lastIndexOf('.') + 1);
    }

    /**
     * This config for a model whose LoRA-targetable projections have the given weight names:
     * all-linear becomes the model's module names (as PEFT writes them into adapter_config.json), and a
     * module the model does not have is an error that lists the ones it has.
     */
    public LoraConfig resolve(List<String> projectionWeights, String architecture) {
        Set<String> known = new LinkedHashSet<>();
        for (String w : projectionWeights) known.add(moduleName(w));
        if (targetModules.equals(ALL_LINEAR)) {
            return new LoraConfig(rank, alpha, dropout, List.copyOf(known), useRslora, trainableTokenIndices, useDora);
        }
        for (String m : targetModules) {
            if (!known.contains(m)) {
                throw new IllegalArgumentException("lora_target_modules: " + architecture + " has no module " + m + " (its projections: "
                        + String.join(", ", known) + ", or " + ALL_LINEAR_NAME + ")");
            }
        }
        return this;
    }
}
