package org.jtune.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.tensor.DType;
import org.jtune.tensor.HeapGrowthLimit;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * A Llama-shaped Hugging Face folder with random weights for benchmarks: config.json, model.safetensors
 * (in F32 or BF16) and a minimal tokenizer.json of our own ({@link CharacterTokenizerJson}). Layers
 * share their random values (the file still holds every layer separately), so writing a 1.1B model
 * needs little memory. The shapes the benchmarks use are named here.
 */
final class RandomLlamaFolder {
    private RandomLlamaFolder() {}

    /** llama2.c's stories15M (dim 288, 6 layers, 6 heads, hidden 768, vocab 32000; untied head). */
    static LlamaConfig stories15M() {
        return shape(288, 6, 6, 6, 768, 32000);
    }

    /** TinyLlama-1.1B (dim 2048, 22 layers, 32 heads, 4 KV heads, hidden 5632, vocab 32000). */
    static LlamaConfig tinyLlama() {
        return shape(2048, 22, 32, 4, 5632, 32000);
    }

    static LlamaConfig shape(int dim, int layers, int heads, int kvHeads, int hidden, int vocab) {
        return LlamaConfig.builder().architecture(LlamaConfig.LLAMA).modelType("llama").hiddenSize(dim).intermediateSize(hidden)
                .numHiddenLayers(layers).numAttentionHeads(heads).numKeyValueHeads(kvHeads).headDim(dim / heads).ropeTheta(10000)
                .rmsNormEps(1e-5).tieWordEmbeddings(false).maxPositionEmbeddings(2048).vocabSize(vocab)
                .bosTokenIds(List.of(1)).eosTokenIds(List.of(2)).torchDtype("float32").build();
    }

    /**
     * Keeps the heap of a benchmark that writes and exports models near its live data while the result is open
     * ({@link HeapGrowthLimit}, ratio 1.5 over at least 1 GiB): writing random weights and exporting GGUF files leaves
     * large garbage that ParallelGC puts straight into the old generation and grows instead of collecting, up to
     * `jtune bench`'s 80 % of the machine. `bench decode`'s process reached 18.5 GB resident beside the engine it
     * measured and was killed by the OOM killer (2026-12-05).
     */
    static HeapGrowthLimit boundHeap() {
        return HeapGrowthLimit.install(1.5, 1L << 30);
    }

    /** Writes config.json, tokenizer.json and model.safetensors in {@code dtype}; returns the weight bytes a decoded token reads. */
    static long write(Path dir, LlamaConfig c, DType dtype) throws Exception {
        LlamaConfig config = c.toBuilder().torchDtype(dtype == DType.BF16 ? "bfloat16" : "float32").build();
        config.write(dir.resolve("config.json"));
        CharacterTokenizerJson.write(dir, c.vocabSize());
        Rng rng = new Rng(1);
        int d = c.hiddenSize(), q = c.numAttentionHeads() * c.headDim(), kv = c.numKeyValueHeads() * c.headDim(), h = c.intermediateSize();
        Tensor wq = Tensor.randn(rng, 0.02f, q, d), wk = Tensor.randn(rng, 0.02f, kv, d), wv = Tensor.randn(rng, 0.02f, kv, d);
        Tensor wo = Tensor.randn(rng, 0.02f, d, q), gate = Tensor.randn(rng, 0.02f, h, d), up = Tensor.randn(rng, 0.02f, h, d);
        Tensor down = Tensor.randn(rng, 0.02f, d, h), norm = Tensor.ones(d);
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("model.embed_tokens.weight", Tensor.randn(rng, 0.02f, c.vocabSize(), d));
        w.put("lm_head.weight", Tensor.randn(rng, 0.02f, c.vocabSize(), d));
        w.put("model.norm.weight", norm);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            w.put(p + "input_layernorm.weight", norm);
            w.put(p + "post_attention_layernorm.weight", norm);
            w.put(p + "self_attn.q_proj.weight", wq);
            w.put(p + "self_attn.k_proj.weight", wk);
            w.put(p + "self_attn.v_proj.weight", wv);
            w.put(p + "self_attn.o_proj.weight", wo);
            w.put(p + "mlp.gate_proj.weight", gate);
            w.put(p + "mlp.up_proj.weight", up);
            w.put(p + "mlp.down_proj.weight", down);
        }
        SafetensorsWriter.defaults().withFloatDType(dtype).writeModel(dir, w);
        long perLayer = (long) q * d * 2 + (long) kv * d * 2 + (long) h * d * 3;
        return dtype.byteSize() * (perLayer * c.numHiddenLayers() + (long) c.vocabSize() * d + d);
    }

    /**
     * The shape of another family for `bench decode`: Qwen3-0.6B (hidden 1024, 28 layers, 16 heads, 8 KV heads of 128, MLP
     * 3072, vocab 151936, tied) or Gemma-3-1B (hidden 1152, 26 layers, 4 heads, 1 KV head of 256, MLP 6912, vocab 262144,
     * sliding window 512 on five layers of six, tied) or Qwen3-30B-A3B (hidden 2048, 32 heads, 4 KV heads of 128, 128 experts of
     * width 768, 8 per token, vocab 151936, untied) cut to {@code -Djtune.bench.decode.layers} of its 48 layers (default 4:
     * the whole model's random weights would not fit this machine); {@code quick}: a small one of the same family.
     */
    static ModelConfig familyShape(String family, boolean quick) throws Exception {
        String json = switch (family) {
            case "qwen3" -> quick
                    ? "{\"architectures\": [\"Qwen3ForCausalLM\"], \"hidden_size\": 256, \"intermediate_size\": 768, \"num_hidden_layers\": 2, "
                            + "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"head_dim\": 64, \"vocab_size\": 1000, \"tie_word_embeddings\": true}"
                    : "{\"architectures\": [\"Qwen3ForCausalLM\"], \"hidden_size\": 1024, \"intermediate_size\": 3072, \"num_hidden_layers\": 28, "
                            + "\"num_attention_heads\": 16, \"num_key_value_heads\": 8, \"head_dim\": 128, \"vocab_size\": 151936, "
                            + "\"rope_theta\": 1000000.0, \"max_position_embeddings\": 40960, \"tie_word_embeddings\": true}";
            case "gemma3" -> quick
                    ? "{\"architectures\": [\"Gemma3ForCausalLM\"], \"hidden_size\": 256, \"intermediate_size\": 768, \"num_hidden_layers\": 6, "
                            + "\"num_attention_heads\": 4, \"num_key_value_heads\": 1, \"head_dim\": 64, \"query_pre_attn_scalar\": 64, "
                            + "\"vocab_size\": 1000, \"sliding_window\": 64, \"max_position_embeddings\": 2048}"
                    : "{\"architectures\": [\"Gemma3ForCausalLM\"], \"hidden_size\": 1152, \"intermediate_size\": 6912, \"num_hidden_layers\": 26, "
                            + "\"num_attention_heads\": 4, \"num_key_value_heads\": 1, \"head_dim\": 256, \"query_pre_attn_scalar\": 256, "
                            + "\"vocab_size\": 262144, \"sliding_window\": 512, \"max_position_embeddings\": 32768}";
            case "qwen3moe" -> quick
                    ? "{\"architectures\": [\"Qwen3MoeForCausalLM\"], \"hidden_size\": 256, \"intermediate_size\": 768, \"moe_intermediate_size\": 128, "
                            + "\"num_experts\": 8, \"num_experts_per_tok\": 2, \"norm_topk_prob\": true, \"num_hidden_layers\": 2, "
                            + "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"head_dim\": 64, \"vocab_size\": 1000}"
                    : "{\"architectures\": [\"Qwen3MoeForCausalLM\"], \"hidden_size\": 2048, \"intermediate_size\": 6144, \"moe_intermediate_size\": 768, "
                            + "\"num_experts\": 128, \"num_experts_per_tok\": 8, \"norm_topk_prob\": true, \"num_hidden_layers\": "
                            + Integer.getInteger("jtune.bench.decode.layers", 4) + ", \"num_attention_heads\": 32, \"num_key_value_heads\": 4, "
                            + "\"head_dim\": 128, \"vocab_size\": 151936, \"rope_theta\": 1000000.0, \"max_position_embeddings\": 40960, "
                            + "\"tie_word_embeddings\": false}";
            default -> throw new IllegalArgumentException("jtune.bench.decode.family: " + family + " is not llama, qwen3, qwen3moe or gemma3");
        };
        return org.jtune.models.arch.Architectures.parseConfig(json, "bench shape " + family);
    }

    /**
     * Writes config.json, tokenizer.json and model.safetensors ({@code dtype}) of any family, random weights (std 0.02) through
     * its own name table; each tensor is drawn whole, so this needs the model's size in F32 on the heap.
     */
    static void writeFamily(Path dir, ModelConfig c, DType dtype) throws Exception {
        c.write(dir.resolve("config.json"));
        CharacterTokenizerJson.write(dir, c.vocabSize());
        SafetensorsWriter.defaults().withFloatDType(dtype).writeModel(dir, org.jtune.models.arch.Architectures.randomWeights(c, new Rng(1), 0.02f));
    }

    /** Deletes a folder and everything in it (benchmark temporaries). */
    static void delete(Path dir) throws Exception {
        if (dir == null || !Files.exists(dir)) return;
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
