package org.jtune.models.llama;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.models.config.LlamaConfig;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * Freshly initialised weights of a Llama config under their Hugging Face names, as transformers
 * initialises LlamaForCausalLM: every matrix N(0, std²) (std = initializer_range, 0.02), RMSNorm
 * weights 1; no lm_head when the embeddings are tied. For new models (the demo), tests and benchmarks.
 */
public final class RandomWeights {
    private RandomWeights() {}

    public static Map<String, Tensor> of(LlamaConfig c, Rng rng, float std) {
        int d = c.hiddenSize(), f = c.intermediateSize(), hd = c.headDim();
        int q = c.numAttentionHeads() * hd, kv = c.numKeyValueHeads() * hd, v = c.vocabSize();
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("model.embed_tokens.weight", Tensor.randn(rng, std, v, d));
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            w.put(p + "input_layernorm.weight", Tensor.ones(d));
            w.put(p + "self_attn.q_proj.weight", Tensor.randn(rng, std, q, d));  // (heads·headDim, dim)
            w.put(p + "self_attn.k_proj.weight", Tensor.randn(rng, std, kv, d)); // (kvHeads·headDim, dim)
            w.put(p + "self_attn.v_proj.weight", Tensor.randn(rng, std, kv, d));
            w.put(p + "self_attn.o_proj.weight", Tensor.randn(rng, std, d, q));  // (dim, heads·headDim)
            w.put(p + "post_attention_layernorm.weight", Tensor.ones(d));
            w.put(p + "mlp.gate_proj.weight", Tensor.randn(rng, std, f, d));     // (hidden, dim)
            w.put(p + "mlp.up_proj.weight", Tensor.randn(rng, std, f, d));
            w.put(p + "mlp.down_proj.weight", Tensor.randn(rng, std, d, f));     // (dim, hidden)
        }
        w.put("model.norm.weight", Tensor.ones(d));
        if (!c.tieWordEmbeddings()) w.put("lm_head.weight", Tensor.randn(rng, std, v, d));
        return w;
    }
}
