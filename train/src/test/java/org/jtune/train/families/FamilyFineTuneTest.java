package org.jtune.train.families;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jtune.autograd.NoGrad;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.io.ModelExport;
import org.jtune.models.io.SafetensorsReader;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraMerge;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.tokenizer.ByteLevelAlphabet;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.jtune.train.recipe.RecipeReader;
import org.jtune.train.run.FineTune;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA and full fine-tuning of each added family through the real recipe path (FineTune), on tiny
 * random Qwen2, Qwen3 (head_dim 8 over 6 heads: q is 48 wide, the model 36), Qwen3-MoE (4 experts, 2 per token; each
 * expert's projections and the router adapted, as PEFT's all-linear does), Mixtral (3 experts named w1/w3/w2, a sliding window),
 * Granite (its four multipliers), Gemma 3 (a sliding and a full layer) and
 * Phi-3 checkpoints with a byte-level tokenizer and a ChatML template: the loss
 * falls, the adapter uses PEFT's keys for the family's own modules (Phi-3's fused qkv_proj and
 * gate_up_proj; Qwen2's biases are not adapted), it reloads to the same function, merging it and
 * reloading the exported folder gives the same logits, and a fully fine-tuned model reloads.
 */
class FamilyFineTuneTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> SPECIAL = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");
    /** Qwen2-Instruct's ChatML template (default system message when the conversation has none). */
    static final String CHATML = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
            + "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
            + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    @Test
    void qwen2TrainsMergesAndReloads(@TempDir Path tmp) throws Exception {
        Map<String, Object> config = Map.ofEntries(Map.entry("architectures", List.of("Qwen2ForCausalLM")), Map.entry("model_type", "qwen2"),
                Map.entry("hidden_size", 36), Map.entry("intermediate_size", 50), Map.entry("num_hidden_layers", 2),
                Map.entry("num_attention_heads", 6), Map.entry("num_key_value_heads", 2), Map.entry("vocab_size", 259),
                Map.entry("max_position_embeddings", 512), Map.entry("rope_theta", 1000000.0), Map.entry("tie_word_embeddings", true),
                Map.entry("bos_token_id", 256), Map.entry("eos_token_id", 258), Map.entry("torch_dtype", "float32"));
        run(tmp, config, List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
                "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight", new int[] {4, 36});
    }

    @Test
    void qwen3TrainsMergesAndReloads(@TempDir Path tmp) throws Exception {
        Map<String, Object> config = Map.ofEntries(Map.entry("architectures", List.of("Qwen3ForCausalLM")), Map.entry("model_type", "qwen3"),
                Map.entry("hidden_size", 36), Map.entry("intermediate_size", 50), Map.entry("num_hidden_layers", 2),
                Map.entry("num_attention_heads", 6), Map.entry("num_key_value_heads", 2), Map.entry("head_dim", 8),
                Map.entry("vocab_size", 259), Map.entry("max_position_embeddings", 512), Map.entry("rope_theta", 1000000.0),
                Map.entry("tie_word_embeddings", true), Map.entry("bos_token_id", 256), Map.entry("eos_token_id", 258),
                Map.entry("torch_dtype", "float32"));
        run(tmp, config, List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
                "base_model.model.model.layers.1.self_attn.o_proj.lora_A.weight", new int[] {4, 48});
    }

    @Test
    void qwen3MoeTrainsMergesAndReloads(@TempDir Path tmp) throws Exception {
        Map<String, Object> config = Map.ofEntries(Map.entry("architectures", List.of("Qwen3MoeForCausalLM")), Map.entry("model_type", "qwen3_moe"),
                Map.entry("hidden_size", 36), Map.entry("intermediate_size", 50), Map.entry("moe_intermediate_size", 20),
                Map.entry("num_experts", 4), Map.entry("num_experts_per_tok", 2), Map.entry("norm_topk_prob", true),
                Map.entry("num_hidden_layers", 2), Map.entry("num_attention_heads", 6), Map.entry("num_key_value_heads", 2),
                Map.entry("head_dim", 8), Map.entry("vocab_size", 259), Map.entry("max_position_embeddings", 512),
                Map.entry("rope_theta", 1000000.0), Map.entry("tie_word_embeddings", true), Map.entry("bos_token_id", 256),
                Map.entry("eos_token_id", 258), Map.entry("torch_dtype", "float32"));
        // per layer q, k, v, o, the router (module "gate", which PEFT's all-linear adapts too) and each of the 4 experts' gate,
        // up and down, A and B each
        run(tmp, config, List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate", "gate_proj", "up_proj", "down_proj"),
                "base_model.model.model.layers.1.mlp.experts.3.down_proj.lora_A.weight", new int[] {4, 20}, 2 * (4 + 1 + 4 * 3) * 2);
    }

    @Test
    void mixtralTrainsMergesAndReloads(@TempDir Path tmp) throws Exception {
        Map<String, Object> config = Map.ofEntries(Map.entry("architectures", List.of("MixtralForCausalLM")), Map.entry("model_type", "mixtral"),
                Map.entry("hidden_size", 36), Map.entry("intermediate_size", 22), Map.entry("num_local_experts", 3),
                Map.entry("num_experts_per_tok", 2), Map.entry("num_hidden_layers", 2), Map.entry("num_attention_heads", 6),
                Map.entry("num_key_value_heads", 2), Map.entry("sliding_window", 32), Map.entry("vocab_size", 259),
                Map.entry("max_position_embeddings", 512), Map.entry("bos_token_id", 256), Map.entry("eos_token_id", 258),
                Map.entry("torch_dtype", "float32"));
        // Mixtral's experts name their projections w1 (gate), w3 (up) and w2 (down); its router is block_sparse_moe.gate
        run(tmp, config, List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate", "w1", "w3", "w2"),
                "base_model.model.model.layers.0.block_sparse_moe.gate.lora_B.weight", new int[] {3, 4}, 2 * (4 + 1 + 3 * 3) * 2);
        // all-linear adapts the 3-row router at rank 4 as PEFT would; asked for by name, that rank is refused
        Path recipe = recipe(tmp, tmp.resolve("base"), tmp.resolve("train.jsonl"), "lora");
        Files.writeString(recipe, Files.readString(recipe).replace("all-linear", "[gate, w1]"));
        var e = assertThrows(org.jtune.JtuneException.class, () -> FineTune.run(RecipeReader.read(recipe), tmp.resolve("named"), false, listener(new ArrayList<>())));
        assertTrue(e.getMessage().contains("lora_r: 4 is larger than the smaller side (3) of model.layers.0.block_sparse_moe.gate.weight"), e.getMessage());
    }

    @Test
    void graniteTrainsMergesAndReloads(@TempDir Path tmp) throws Exception {
        Map<String, Object> config = Map.ofEntries(Map.entry("architectures", List.of("GraniteForCausalLM")), Map.entry("model_type", "granite"),
                Map.entry("hidden_size", 36), Map.entry("intermediate_size", 50), Map.entry("num_hidden_layers", 2),
                Map.entry("num_attention_heads", 6), Map.entry("num_key_value_heads", 2), Map.entry("embedding_multiplier", 12.0),
                Map.entry("residual_multiplier", 0.22), Map.entry("attention_multiplier", 0.125), Map.entry("logits_scaling", 8.0),
                Map.entry("vocab_size", 259), Map.entry("max_position_embeddings", 512), Map.entry("tie_word_embeddings", true),
                Map.entry("bos_token_id", 256), Map.entry("eos_token_id", 258), Map.entry("torch_dtype", "float32"));
        run(tmp, config, List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
                "base_model.model.model.layers.1.mlp.up_proj.lora_A.weight", new int[] {4, 36});
    }

    @Test
    void gemma3TrainsMergesAndReloads(@TempDir Path tmp) throws Exception {
        Map<String, Object> config = Map.ofEntries(Map.entry("architectures", List.of("Gemma3ForCausalLM")), Map.entry("model_type", "gemma3_text"),
                Map.entry("hidden_size", 36), Map.entry("intermediate_size", 50), Map.entry("num_hidden_layers", 2),
                Map.entry("num_attention_heads", 6), Map.entry("num_key_value_heads", 2), Map.entry("head_dim", 8),
                Map.entry("query_pre_attn_scalar", 8), Map.entry("sliding_window", 16), Map.entry("sliding_window_pattern", 2),
                Map.entry("vocab_size", 259), Map.entry("max_position_embeddings", 512), Map.entry("bos_token_id", 256),
                Map.entry("eos_token_id", 258), Map.entry("torch_dtype", "float32"));
        run(tmp, config, List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
                "base_model.model.model.layers.1.mlp.down_proj.lora_A.weight", new int[] {4, 50});
    }

    @Test
    void smollm3TrainsMergesAndReloads(@TempDir Path tmp) throws Exception {
        Map<String, Object> config = Map.ofEntries(Map.entry("architectures", List.of("SmolLM3ForCausalLM")), Map.entry("model_type", "smollm3"),
                Map.entry("hidden_size", 36), Map.entry("intermediate_size", 50), Map.entry("num_hidden_layers", 2),
                Map.entry("num_attention_heads", 6), Map.entry("num_key_value_heads", 2), Map.entry("no_rope_layer_interval", 2),
                Map.entry("vocab_size", 259), Map.entry("max_position_embeddings", 512), Map.entry("tie_word_embeddings", true),
                Map.entry("bos_token_id", 256), Map.entry("eos_token_id", 258), Map.entry("torch_dtype", "float32"));
        run(tmp, config, List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
                "base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight", new int[] {12, 4});
    }

    @Test
    void phi3TrainsMergesAndReloads(@TempDir Path tmp) throws Exception {
        Map<String, Object> config = Map.ofEntries(Map.entry("architectures", List.of("Phi3ForCausalLM")), Map.entry("model_type", "phi3"),
                Map.entry("hidden_size", 36), Map.entry("intermediate_size", 50), Map.entry("num_hidden_layers", 2),
                Map.entry("num_attention_heads", 6), Map.entry("num_key_value_heads", 2), Map.entry("vocab_size", 259),
                Map.entry("max_position_embeddings", 512), Map.entry("original_max_position_embeddings", 64),
                Map.entry("rope_scaling", Map.of("type", "longrope", "short_factor", List.of(1.0, 1.2, 1.5), "long_factor", List.of(1.0, 2.0, 4.0))),
                Map.entry("bos_token_id", 256), Map.entry("eos_token_id", 258), Map.entry("torch_dtype", "float32"));
        run(tmp, config, List.of("qkv_proj", "o_proj", "gate_up_proj", "down_proj"),
                "base_model.model.model.layers.0.self_attn.qkv_proj.lora_B.weight", new int[] {(6 + 2 * 2) * 6, 4});
    }

    private static void run(Path tmp, Map<String, Object> config, List<String> modules, String key, int[] shape) throws Exception {
        run(tmp, config, modules, key, shape, 2 * modules.size() * 2);
    }

    private static void run(Path tmp, Map<String, Object> config, List<String> modules, String key, int[] shape, int tensors) throws Exception {
        Path base = tmp.resolve("base");
        writeModel(base, config);
        Path data = writeData(tmp.resolve("train.jsonl"));
        int threads = Parallel.threads();
        try {
            // LoRA on every projection ("all-linear" resolves to the family's own module names)
            List<Double> losses = new ArrayList<>();
            FineTune.Result lora = FineTune.run(RecipeReader.read(recipe(tmp, base, data, "lora")), tmp.resolve("lora"), false,
                    listener(losses));
            assertTrue(losses.getLast() < losses.getFirst() - 0.1, "LoRA loss falls: " + losses);
            Path adapter = lora.output();
            JsonNode cfg = JSON.readTree(adapter.resolve(PeftFormat.CONFIG_FILE).toFile());
            List<String> targets = new ArrayList<>();
            cfg.get("target_modules").forEach(t -> targets.add(t.asText()));
            assertEquals(modules, targets, "adapter_config.json names the family's modules, as PEFT expands all-linear");
            try (SafetensorsReader r = SafetensorsReader.open(adapter.resolve(PeftFormat.WEIGHTS_FILE))) {
                assertArrayEquals(shape, r.get(key).shape(), key);
                assertEquals(tensors, r.names().size(), "A and B for each module of each layer");
                for (String n : r.names()) assertFalse(n.contains("bias"), "biases are not adapted: " + n);
            }
            int[] probe = {256, 257, 104, 101, 108, 108, 111, 258, 10, 257, 97};
            float[] baseLogits, adapted;
            try (CausalLM model = Architectures.load(base)) {
                baseLogits = logits(model, probe);
                PeftFormat.load(adapter, model);
                adapted = logits(model, probe);
                LoraMerge.mergeInto(model, Adapters.DEFAULT);
                ModelExport.save(model, base, tmp.resolve("merged"), 1L << 30);
            }
            assertTrue(maxDiff(baseLogits, adapted) > 1e-3, "the trained adapter changes the function");
            try (CausalLM merged = Architectures.load(tmp.resolve("merged"))) {
                assertEquals(config.get("architectures"), List.of(merged.config().architecture()));
                assertTrue(maxDiff(adapted, logits(merged, probe)) <= 1e-4 * (1 + maxAbs(adapted)), "merged and reloaded = base + adapter");
            }

            // full fine-tuning: every weight (biases and norms included) trains, and the saved model reloads
            losses.clear();
            FineTune.Result full = FineTune.run(RecipeReader.read(recipe(tmp, base, data, "full")), tmp.resolve("full"), false, listener(losses));
            assertTrue(losses.getLast() < losses.getFirst() - 0.1, "full fine-tuning loss falls: " + losses);
            try (CausalLM tuned = Architectures.load(full.output())) {
                assertTrue(maxDiff(baseLogits, logits(tuned, probe)) > 1e-3, "the fine-tuned weights were saved");
            }
        } finally {
            Parallel.setThreads(threads);
        }
    }

    private static FineTune.Listener listener(List<Double> losses) {
        return new FineTune.Listener() {
            @Override
            public void step(FineTune.StepMetrics m) {
                losses.add(m.loss());
            }
        };
    }

    private static Path recipe(Path tmp, Path base, Path data, String adapter) throws Exception {
        return Files.writeString(tmp.resolve(adapter + ".yaml"), """
                base_model: %s
                datasets:
                  - path: %s
                    type: chat
                sequence_len: 128
                adapter: %s
                lora_r: 4
                lora_alpha: 8
                lora_target_modules: all-linear
                learning_rate: %s
                lr_scheduler: constant
                max_steps: 12
                micro_batch_size: 4
                logging_steps: 1
                threads: 1
                seed: 3
                output_dir: unused
                """.formatted(base, data, adapter, adapter.equals("lora") ? "0.02" : "0.003"));
    }

    private static Path writeData(Path file) throws Exception {
        String[][] pairs = {{"card lost", "cards"}, {"refund please", "refunds"}, {"card stolen", "cards"}, {"money back", "refunds"}};
        StringBuilder sb = new StringBuilder();
        for (String[] p : pairs) {
            sb.append(JSON.writeValueAsString(Map.of("messages", List.of(Map.of("role", "user", "content", p[0]),
                    Map.of("role", "assistant", "content", p[1]))))).append('\n');
        }
        return Files.writeString(file, sb.toString());
    }

    /** config.json, random weights, a byte-level BPE tokenizer without merges (256 bytes + ChatML specials) and the chat template. */
    static void writeModel(Path dir, Map<String, Object> config) throws Exception {
        Files.createDirectories(dir);
        String json = JSON.writeValueAsString(config);
        Files.writeString(dir.resolve("config.json"), json);
        ModelConfig parsed = Architectures.parseConfig(json, "config.json");
        Map<String, Tensor> w = Architectures.randomWeights(parsed, new Rng(11), 0.3f);
        SafetensorsWriter.defaults().writeModel(dir, w);
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode vocab = JSON.createObjectNode();
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(ByteLevelAlphabet.charOf(b)), b);
        for (int i = 0; i < SPECIAL.size(); i++) {
            added.addObject().put("id", 256 + i).put("content", SPECIAL.get(i)).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
            vocab.put(SPECIAL.get(i), 256 + i);
        }
        root.putObject("normalizer").put("type", "NFC");
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false).put("use_regex", true);
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false).put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout").putNull("unk_token").put("fuse_unk", false).put("byte_fallback", false);
        model.set("vocab", vocab);
        model.putArray("merges");
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
        ObjectNode tc = JSON.createObjectNode();
        tc.put("eos_token", "<|im_end|>").put("pad_token", "<|endoftext|>").putNull("bos_token").put("chat_template", CHATML)
                .put("tokenizer_class", "Qwen2Tokenizer");
        Files.writeString(dir.resolve("tokenizer_config.json"), JSON.writeValueAsString(tc));
    }

    static float[] logits(CausalLM model, int[] ids) {
        int[] pos = new int[ids.length];
        for (int i = 0; i < pos.length; i++) pos[i] = i;
        try (var g = NoGrad.enter()) {
            Variable h = model.hidden(Tensor.ofInts(ids, 1, ids.length), Tensor.ofInts(pos, 1, ids.length), ForwardPass.of(AttentionMask.causalMask()));
            return model.logits(h).value().toFloatArray();
        }
    }

    static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float x : a) m = Math.max(m, Math.abs(x));
        return m;
    }
}
