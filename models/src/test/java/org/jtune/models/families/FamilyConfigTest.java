package org.jtune.models.families;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.phi3.Phi3Config;
import org.jtune.models.qwen2.Qwen2Config;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/**
 * config.json of the added families: the registry picks the family from "architectures" or
 * "model_type", Qwen2's per-layer windows follow transformers' Qwen2Config, Qwen3's defaults and
 * optional biases follow Qwen3Config, Phi-3's real
 * config.json (Phi-3-mini-128k-instruct) parses with its LongRoPE factors, every config writes back
 * to an equal one, and bad values are errors that name the field.
 */
class FamilyConfigTest {
    private static final String QWEN2 = """
            {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 60, "intermediate_size": 94,
             "num_hidden_layers": 4, "num_attention_heads": 6, "num_key_value_heads": 3, "vocab_size": 227,
             "use_sliding_window": %s, "sliding_window": 9, "max_window_layers": 2, "rope_theta": 1000000.0,
             "tie_word_embeddings": true, "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151645}
            """;

    @Test
    void qwen2WindowsAreOnlyWhereTransformersPutsThem() throws Exception {
        Qwen2Config off = (Qwen2Config) Architectures.parseConfig(QWEN2.formatted("false"), "off.json");
        for (int l = 0; l < 4; l++) assertEquals(0, off.layerWindow(l), "use_sliding_window false: full attention in layer " + l);
        assertNull(off.slidingWindow());
        Qwen2Config on = (Qwen2Config) Architectures.parseConfig(QWEN2.formatted("true"), "on.json");
        assertArrayEquals(new int[] {0, 0, 9, 9}, new int[] {on.layerWindow(0), on.layerWindow(1), on.layerWindow(2), on.layerWindow(3)},
                "layers >= max_window_layers slide");
        assertNull(on.slidingWindow(), "not every layer slides");
        Qwen2Config listed = (Qwen2Config) Architectures.parseConfig(QWEN2.formatted("true").replace("\"max_window_layers\": 2",
                "\"layer_types\": [\"sliding_attention\", \"full_attention\", \"sliding_attention\", \"sliding_attention\"]"), "listed.json");
        assertEquals(9, listed.layerWindow(0));
        assertEquals(0, listed.layerWindow(1));
        assertEquals(on, Architectures.parseConfig(on.toJson(), "again.json"), "written back, read again");
        assertEquals(0.0, on.extra().get("attention_dropout"), "unmodelled keys are kept");
        ModelConfig byType = Architectures.parseConfig(QWEN2.formatted("false").replace("\"architectures\": [\"Qwen2ForCausalLM\"],", ""), "t.json");
        assertEquals("Qwen2ForCausalLM", byType.architecture(), "model_type picks the family when architectures is absent");
    }

    @Test
    void qwen3ConfigFollowsQwen3Config() throws Exception {
        String qwen3 = """
                {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 64, "intermediate_size": 96,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100 %s}
                """;
        Qwen2Config c = (Qwen2Config) Architectures.parseConfig(qwen3.formatted(""), "q3.json");
        assertEquals(Qwen2Config.QWEN3, c.architecture());
        assertEquals(128, c.headDim(), "Qwen3Config's head_dim default, not hidden/heads");
        assertTrue(c.qkNorm());
        assertFalse(c.qkvBias(), "attention_bias defaults to false");
        assertFalse(c.outputBias());
        assertEquals(c, Architectures.parseConfig(c.toJson(), "again.json"), "written back, read again");
        Qwen2Config biased = (Qwen2Config) Architectures.parseConfig(qwen3.formatted(", \"attention_bias\": true, \"head_dim\": 16"), "b.json");
        assertTrue(biased.qkvBias() && biased.outputBias());
        assertEquals(biased, Architectures.parseConfig(biased.toJson(), "again.json"));
        try (var m = Architectures.random(biased, new org.jtune.tensor.Rng(1), 0.02f)) {
            var names = m.weights().named().keySet();
            for (String n : List.of("q_proj.bias", "k_proj.bias", "v_proj.bias", "o_proj.bias", "q_norm.weight", "k_norm.weight")) {
                assertTrue(names.contains("model.layers.1.self_attn." + n), n + " in " + names);
            }
            assertArrayEquals(new int[] {16}, m.weights().get("model.layers.0.self_attn.q_norm.weight").shape());
        }
        try (var m = Architectures.random(c, new org.jtune.tensor.Rng(1), 0.02f)) {
            assertFalse(m.weights().named().keySet().stream().anyMatch(n -> n.endsWith(".bias")), "no biases without attention_bias");
        }
        ModelConfig byType = Architectures.parseConfig(qwen3.formatted("").replace("\"architectures\": [\"Qwen3ForCausalLM\"],", ""), "t.json");
        assertEquals(Qwen2Config.QWEN3, byType.architecture(), "model_type qwen3 picks the family");
    }

    @Test
    void qwen3MoeConfigFollowsQwen3MoeConfig() throws Exception {
        // Qwen3-30B-A3B's published shape
        String a3b = """
                {"architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "hidden_size": 2048, "intermediate_size": 6144,
                 "moe_intermediate_size": 768, "num_hidden_layers": 48, "num_attention_heads": 32, "num_key_value_heads": 4,
                 "head_dim": 128, "num_experts": 128, "num_experts_per_tok": 8, "norm_topk_prob": true, "decoder_sparse_step": 1,
                 "mlp_only_layers": [], "output_router_logits": false, "router_aux_loss_coef": 0.001, "vocab_size": 151936,
                 "rope_theta": 1000000.0, "max_position_embeddings": 40960, "tie_word_embeddings": false, "use_sliding_window": false,
                 "sliding_window": null, "max_window_layers": 48, "bos_token_id": 151643, "eos_token_id": 151645,
                 "torch_dtype": "bfloat16" %s}
                """;
        Qwen2Config c = (Qwen2Config) Architectures.parseConfig(a3b.formatted(""), "a3b.json");
        assertEquals(Qwen2Config.QWEN3_MOE, c.architecture());
        assertTrue(c.qkNorm() && !c.qkvBias());
        var moe = c.moe();
        assertEquals(new org.jtune.models.config.MoeConfig(128, 8, 768, true, 1, List.of()), moe);
        for (int l = 0; l < 48; l++) assertTrue(moe.sparse(l), "every layer sparse: " + l);
        assertEquals(c, Architectures.parseConfig(c.toJson(), "again.json"), "written back, read again");
        assertEquals(0.001, c.extra().get("router_aux_loss_coef"), "unmodelled keys are kept");

        String small = """
                {"model_type": "qwen3_moe", "hidden_size": 48, "intermediate_size": 64, "num_hidden_layers": 4,
                 "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100, "num_experts": 5 %s}
                """;
        Qwen2Config d = (Qwen2Config) Architectures.parseConfig(
                small.formatted(", \"num_experts_per_tok\": 2, \"decoder_sparse_step\": 2, \"mlp_only_layers\": [3]"), "s.json");
        assertEquals(Qwen2Config.QWEN3_MOE, d.architecture(), "model_type qwen3_moe picks the family");
        assertEquals(12, d.headDim(), "Qwen3MoeConfig's head_dim default is hidden/heads, not Qwen3's 128");
        assertFalse(d.moe().normalizeTopK(), "norm_topk_prob defaults to false");
        assertArrayEquals(new boolean[] {false, true, false, false},
                new boolean[] {d.moe().sparse(0), d.moe().sparse(1), d.moe().sparse(2), d.moe().sparse(3)},
                "sparse where (l + 1) % decoder_sparse_step == 0, except mlp_only_layers");
        try (var m = Architectures.random(d, new org.jtune.tensor.Rng(1), 0.02f)) {
            var names = m.weights().named().keySet();
            assertTrue(names.contains("model.layers.0.mlp.gate_proj.weight") && names.contains("model.layers.3.mlp.down_proj.weight"));
            assertArrayEquals(new int[] {5, 48}, m.weights().get("model.layers.1.mlp.gate.weight").shape(), "the router");
            assertArrayEquals(new int[] {768, 48}, m.weights().get("model.layers.1.mlp.experts.4.up_proj.weight").shape(),
                    "moe_intermediate_size defaults to 768");
            assertFalse(names.contains("model.layers.1.mlp.gate_proj.weight"));
        }
        assertMessage(small.formatted(""), "num_experts_per_tok must be in [1, 5], got 8");
        assertMessage(small.formatted(", \"num_experts_per_tok\": 2, \"mlp_only_layers\": 3"), "\"mlp_only_layers\": must be a list of integers");
    }

    @Test
    void mixtralConfigFollowsMixtralConfig() throws Exception {
        // Mixtral-8x7B's published shape
        String mixtral = """
                {"architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336,
                 "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "num_local_experts": 8,
                 "num_experts_per_tok": 2, "router_aux_loss_coef": 0.02, "output_router_logits": false, "vocab_size": 32000,
                 "max_position_embeddings": 32768, "rms_norm_eps": 1e-05, "sliding_window": null, "tie_word_embeddings": false,
                 "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16" %s}
                """;
        var c = (org.jtune.models.config.LlamaConfig) Architectures.parseConfig(mixtral.formatted(""), "mixtral.json");
        assertEquals(org.jtune.models.config.LlamaConfig.MIXTRAL, c.architecture());
        assertEquals(new org.jtune.models.config.MoeConfig(8, 2, 14336, true, 1, List.of()), c.moe(), "intermediate_size is each expert's");
        assertEquals(1e6, c.ropeTheta(), "MixtralConfig's rope_theta default");
        assertNull(c.slidingWindow());
        assertEquals(c, Architectures.parseConfig(c.toJson(), "again.json"), "written back, read again");
        var windowed = (org.jtune.models.config.LlamaConfig) Architectures.parseConfig(
                mixtral.formatted(", \"rope_theta\": 10000.0").replace("\"sliding_window\": null", "\"sliding_window\": 4096")
                        .replace("\"architectures\": [\"MixtralForCausalLM\"], ", ""), "w.json");
        assertEquals(org.jtune.models.config.LlamaConfig.MIXTRAL, windowed.architecture(), "model_type mixtral picks the family");
        assertEquals(4096, windowed.slidingWindow());
        assertEquals(windowed, Architectures.parseConfig(windowed.toJson(), "again.json"));
        assertMessage(mixtral.formatted(", \"num_local_experts\": 1").replace("\"num_local_experts\": 8,", ""),
                "num_experts_per_tok must be in [1, 1], got 2");
    }

    @Test
    void graniteConfigFollowsGraniteConfig() throws Exception {
        // granite-3.3-2b-instruct's published shape
        String granite = """
                {"architectures": ["GraniteForCausalLM"], "model_type": "granite", "hidden_size": 2048, "intermediate_size": 8192,
                 "num_hidden_layers": 40, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 49159,
                 "embedding_multiplier": 12.0, "residual_multiplier": 0.22, "attention_multiplier": 0.015625, "logits_scaling": 8.0,
                 "rope_theta": 10000000.0, "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "tie_word_embeddings": true,
                 "attention_bias": false, "mlp_bias": false, "attention_dropout": 0.1, "bos_token_id": 0, "eos_token_id": 0 %s}
                """;
        var c = (org.jtune.models.config.LlamaConfig) Architectures.parseConfig(granite.formatted(""), "granite.json");
        assertEquals(org.jtune.models.config.LlamaConfig.GRANITE, c.architecture());
        assertEquals(new org.jtune.models.config.GraniteScales(12.0, 0.22, 0.015625, 8.0), c.granite());
        assertEquals(c, Architectures.parseConfig(c.toJson(), "again.json"), "written back, read again");
        var defaults = (org.jtune.models.config.LlamaConfig) Architectures.parseConfig(granite.formatted("")
                .replace("\"embedding_multiplier\": 12.0, \"residual_multiplier\": 0.22, \"attention_multiplier\": 0.015625, \"logits_scaling\": 8.0,", "")
                .replace("\"architectures\": [\"GraniteForCausalLM\"], ", ""), "d.json");
        assertEquals(new org.jtune.models.config.GraniteScales(1, 1, 1, 1), defaults.granite(), "GraniteConfig's defaults, picked by model_type");
        assertMessage(granite.formatted(", \"logits_scaling\": 0").replace("\"logits_scaling\": 8.0,", ""), "logits_scaling must be a positive number");
    }

    @Test
    void gemma3ConfigFollowsGemma3TextConfig() throws Exception {
        String json = """
                {"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "hidden_size": 1152, "intermediate_size": 6912,
                 "num_hidden_layers": 26, "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 256, "vocab_size": 262144,
                 "sliding_window": 512, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "query_pre_attn_scalar": 256,
                 "final_logit_softcapping": null, "attn_logit_softcapping": null, "use_cache": true %s}
                """;
        org.jtune.models.gemma3.Gemma3Config c = (org.jtune.models.gemma3.Gemma3Config) Architectures.parseConfig(json.formatted(""), "g.json");
        for (int l = 0; l < 26; l++) assertEquals((l + 1) % 6 == 0 ? 0 : 512, c.layerWindow(l), "every sixth layer is global: layer " + l);
        assertTrue(c.tieWordEmbeddings(), "tied by default");
        assertNull(c.slidingWindow(), "not every layer slides");
        assertEquals(c, Architectures.parseConfig(c.toJson(), "again.json"), "written back, read again");
        assertEquals(true, c.extra().get("use_cache"), "unmodelled keys are kept");
        assertMessage(json.formatted(", \"hidden_activation\": \"gelu\""), "\"hidden_activation\": \"gelu\" is not supported");
        assertMessage(json.formatted("").replace("\"attn_logit_softcapping\": null", "\"attn_logit_softcapping\": 50.0"),
                "soft-capped attention logits (Gemma 2) are not supported");
        assertMessage(json.formatted(", \"layer_types\": [\"full_attention\"]"), "layer_types has 1 entries for 26 layers");
    }

    @Test
    void smolLm3LayersWithoutRope() throws Exception {
        String json = """
                {"architectures": ["SmolLM3ForCausalLM"], "model_type": "smollm3", "hidden_size": 2048, "intermediate_size": 11008,
                 "num_hidden_layers": 8, "num_attention_heads": 16, "num_key_value_heads": 4, "vocab_size": 128256,
                 "rope_theta": 5000000.0, "tie_word_embeddings": true, "use_sliding_window": false, "sliding_window": null %s}
                """;
        org.jtune.models.config.LlamaConfig c = (org.jtune.models.config.LlamaConfig) Architectures.parseConfig(json.formatted(""), "s.json");
        assertEquals(List.of(1, 1, 1, 0, 1, 1, 1, 0), c.noRopeLayers(), "every fourth layer without RoPE by default");
        assertFalse(c.rotates(3));
        assertEquals(c, Architectures.parseConfig(c.toJson(), "again.json"), "written back, read again");
        var listed = (org.jtune.models.config.LlamaConfig) Architectures.parseConfig(
                json.formatted(", \"no_rope_layers\": [1, 0, 1, 1, 1, 1, 1, 1]"), "l.json");
        assertFalse(listed.rotates(1));
        assertTrue(listed.rotates(3));
        assertMessage(json.formatted("").replace("\"use_sliding_window\": false", "\"use_sliding_window\": true"),
                "\"use_sliding_window\": true is not supported for SmolLM3");
        assertMessage(json.formatted(", \"no_rope_layers\": [1, 0]"), "no_rope_layers has 2 entries for 8 layers");
    }

    @Test
    void realPhi3ConfigParses() throws Exception {
        Path file = SharedData.require("hf/phi-3-mini-128k-instruct").resolve("config.json");
        Phi3Config c = (Phi3Config) Architectures.readConfig(file);
        assertEquals(96, c.headDim());
        assertEquals(96, c.rotaryDim());
        assertEquals(4096, c.originalMaxPositionEmbeddings());
        assertEquals(48, c.longRope().shortFactor().size());
        assertEquals(1.0700000524520874, c.longRope().longFactor().getFirst());
        assertEquals(262144, c.slidingWindow());
        assertEquals(List.of(32000), c.eosTokenIds());
        assertEquals(c, Architectures.parseConfig(c.toJson(), "again.json"), "written back, read again");
        assertEquals(0.0, c.extra().get("resid_pdrop"));
    }

    @Test
    void badValuesNameTheField() {
        String phi3 = """
                {"architectures": ["Phi3ForCausalLM"], "hidden_size": 84, "intermediate_size": 100, "num_hidden_layers": 2,
                 "num_attention_heads": 6, "vocab_size": 211, %s}
                """;
        assertMessage(phi3.formatted("\"rope_scaling\": {\"type\": \"longrope\", \"short_factor\": [1, 2], \"long_factor\": [1, 2]}"),
                "rope_scaling.short_factor has 2 entries");
        assertMessage(phi3.formatted("\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 2}"), "\"rope_scaling\": type \"yarn\" is not supported");
        assertMessage(phi3.formatted("\"partial_rotary_factor\": 0.1"), "rotary channels");
        assertMessage(phi3.formatted("\"attention_bias\": true"), "attention_bias");
        assertMessage(QWEN2.formatted("true").replace("\"hidden_size\": 60,", ""), "missing required field \"hidden_size\"");
        assertMessage(QWEN2.formatted("true").replace("\"max_window_layers\": 2", "\"layer_types\": [\"full_attention\"]"),
                "layer_types has 1 entries for 4 layers");
        assertMessage(QWEN2.formatted("\"yes\""), "\"use_sliding_window\": must be true or false");
        assertMessage(QWEN2.formatted("true").replace("\"tie_word_embeddings\"", "\"attention_bias\": true, \"tie_word_embeddings\""),
                "\"attention_bias\": is a Qwen3 key");
    }

    private static void assertMessage(String json, String part) {
        JtuneException e = assertThrows(JtuneException.class, () -> Architectures.parseConfig(json, "bad/config.json"));
        assertTrue(e.getMessage().startsWith("bad/config.json: ") && e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void writesAtomically(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Qwen2Config c = (Qwen2Config) Architectures.parseConfig(QWEN2.formatted("true"), "c.json");
        c.write(tmp.resolve("config.json"));
        assertEquals(c, Architectures.readConfig(tmp));
        assertEquals(List.of(tmp.resolve("config.json")), Files.list(tmp).toList());
    }
}
