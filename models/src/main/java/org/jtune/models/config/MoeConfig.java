package org.jtune.models.config;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jtune.JtuneException;

/**
 * The mixture-of-experts shape of a sparse decoder (Qwen3-MoE, Mixtral): in a sparse layer a router (a linear map to one
 * logit per expert) picks each token's {@code expertsPerToken} most probable experts under softmax, and the layer's output
 * is the sum of those experts' SwiGLU MLPs, each weighted by its probability — rescaled so the chosen ones sum to 1 when
 * {@code normalizeTopK}. The other layers keep a dense MLP.
 *
 * @param numExperts             experts per sparse layer (num_experts; Mixtral's num_local_experts)
 * @param expertsPerToken        experts each token is sent to (num_experts_per_tok)
 * @param expertIntermediateSize each expert's MLP width (moe_intermediate_size; Mixtral's intermediate_size)
 * @param normalizeTopK          whether the chosen experts' probabilities are rescaled to sum to 1 (norm_topk_prob; always in Mixtral)
 * @param sparseStep             layer l is sparse when (l + 1) is a multiple of it (decoder_sparse_step)
 * @param denseLayers            layers that keep the dense MLP whatever the step (mlp_only_layers)
 */
public record MoeConfig(int numExperts, int expertsPerToken, int expertIntermediateSize, boolean normalizeTopK, int sparseStep,
                        List<Integer> denseLayers) {
    /** The Qwen3MoeConfig keys this record models. */
    public static final List<String> QWEN3_MOE_KEYS = List.of("num_experts", "num_experts_per_tok", "moe_intermediate_size",
            "norm_topk_prob", "decoder_sparse_step", "mlp_only_layers");

    public MoeConfig {
        if (numExperts <= 0) throw new IllegalArgumentException("the number of experts must be positive, got " + numExperts);
        if (expertsPerToken <= 0 || expertsPerToken > numExperts) {
            throw new IllegalArgumentException("num_experts_per_tok must be in [1, " + numExperts + "], got " + expertsPerToken);
        }
        if (expertIntermediateSize <= 0) throw new IllegalArgumentException("the experts' intermediate size must be positive, got " + expertIntermediateSize);
        if (sparseStep <= 0) throw new IllegalArgumentException("decoder_sparse_step must be positive, got " + sparseStep);
        denseLayers = List.copyOf(new TreeSet<>(denseLayers));
        for (int l : denseLayers) if (l < 0) throw new IllegalArgumentException("mlp_only_layers: layer " + l + " is negative");
    }

    /** Whether layer {@code l} routes its tokens to experts (else it has the dense MLP). */
    public boolean sparse(int l) {
        return !denseLayers.contains(l) && (l + 1) % sparseStep == 0;
    }

    /** Whether a weight of the name table belongs to one expert (every family names them "….experts.E.…"). */
    public static boolean expertWeight(String name) {
        return name.contains(".experts.");
    }

    /** How many of {@code layers} layers are sparse. */
    private long sparseLayers(int layers) {
        long n = 0;
        for (int l = 0; l < layers; l++) if (sparse(l)) n++;
        return n;
    }

    /** The MLP width one token passes through, averaged over the layers: k experts' widths in a sparse layer, the dense width elsewhere. */
    public long meanTokenWidth(int denseIntermediateSize, int layers) {
        long sparse = sparseLayers(layers);
        return (sparse * expertsPerToken * expertIntermediateSize + (layers - sparse) * denseIntermediateSize) / layers;
    }

    /**
     * Values per token a sparse layer keeps for its backward beyond a dense layer of width k·expert width, averaged over the
     * layers: the router's probabilities (experts), the chosen weights and their normalisation (3·k), and two rows of width
     * hidden for each of the k experts a token goes to: the gathered input its projections read, and the concatenated
     * answers the weighting reads (the router's logits, each expert's own output and the weighted rows are not kept).
     */
    public long meanExtraSavedValuesPerToken(int hiddenSize, int layers) {
        return sparseLayers(layers) * (numExperts + 3L * expertsPerToken + 2L * expertsPerToken * hiddenSize) / layers;
    }

    /** The keys of Qwen3MoeConfig, with transformers' defaults. */
    public static MoeConfig readQwen3Moe(ConfigFields f) throws JtuneException {
        List<Integer> dense = f.integers("mlp_only_layers");
        return checked(f, f.integer("num_experts", 128), f.integer("num_experts_per_tok", 8), f.integer("moe_intermediate_size", 768),
                f.bool("norm_topk_prob", false), f.integer("decoder_sparse_step", 1), dense == null ? List.of() : dense);
    }

    /** The keys of MixtralConfig, with transformers' defaults: every layer sparse, the chosen probabilities always rescaled. */
    public static MoeConfig readMixtral(ConfigFields f, int intermediateSize) throws JtuneException {
        return checked(f, f.integer("num_local_experts", 8), f.integer("num_experts_per_tok", 2), intermediateSize, true, 1, List.of());
    }

    /** Qwen3MoeConfig's keys for {@link #readQwen3Moe}'s inverse. */
    public void writeQwen3Moe(Map<String, Object> out) {
        out.put("num_experts", numExperts);
        out.put("num_experts_per_tok", expertsPerToken);
        out.put("moe_intermediate_size", expertIntermediateSize);
        out.put("norm_topk_prob", normalizeTopK);
        out.put("decoder_sparse_step", sparseStep);
        out.put("mlp_only_layers", denseLayers);
    }

    /** The record of the values read from {@code f}; a value it refuses is an error naming the file. */
    private static MoeConfig checked(ConfigFields f, int experts, int perToken, int width, boolean normalize, int step, List<Integer> dense)
            throws JtuneException {
        try {
            return new MoeConfig(experts, perToken, width, normalize, step, dense);
        } catch (IllegalArgumentException e) {
            throw new JtuneException(f.source() + ": " + e.getMessage(), e);
        }
    }
}
