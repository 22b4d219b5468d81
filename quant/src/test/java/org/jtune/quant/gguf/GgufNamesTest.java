package org.jtune.quant.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The name table both ways, the rotary row permutation worked by hand (llama only), and the hyper-parameter keys per architecture. */
class GgufNamesTest {
    @Test
    void namesBothWays() {
        String[][] pairs = {
            {"model.embed_tokens.weight", "token_embd.weight"},
            {"model.norm.weight", "output_norm.weight"},
            {"lm_head.weight", "output.weight"},
            {"model.layers.3.self_attn.q_proj.weight", "blk.3.attn_q.weight"},
            {"model.layers.3.self_attn.k_proj.weight", "blk.3.attn_k.weight"},
            {"model.layers.3.self_attn.v_proj.weight", "blk.3.attn_v.weight"},
            {"model.layers.3.self_attn.o_proj.weight", "blk.3.attn_output.weight"},
            {"model.layers.12.mlp.gate_proj.weight", "blk.12.ffn_gate.weight"},
            {"model.layers.12.mlp.up_proj.weight", "blk.12.ffn_up.weight"},
            {"model.layers.12.mlp.down_proj.weight", "blk.12.ffn_down.weight"},
            {"model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight"},
            {"model.layers.0.post_attention_layernorm.weight", "blk.0.ffn_norm.weight"},
            {"model.layers.0.self_attn.q_proj.bias", "blk.0.attn_q.bias"},
            {"model.layers.5.self_attn.q_norm.weight", "blk.5.attn_q_norm.weight"},
            {"model.layers.5.self_attn.k_norm.weight", "blk.5.attn_k_norm.weight"},
        };
        for (String[] p : pairs) {
            assertEquals(p[1], GgufNames.toGguf(p[0]).orElseThrow(), p[0]);
            assertEquals(p[0], GgufNames.toHuggingFace(p[1]).orElseThrow(), p[1]);
        }
        assertTrue(GgufNames.toGguf("model.layers.0.self_attn.rotary_emb.inv_freq").isEmpty());
        assertTrue(GgufNames.toHuggingFace("rope_freqs.weight").isEmpty());
        assertEquals(GgufNames.Rotary.QUERY, GgufNames.rotary("blk.2.attn_q.weight"));
        assertEquals(GgufNames.Rotary.KEY, GgufNames.rotary("model.layers.2.self_attn.k_proj.weight"));
        assertEquals(GgufNames.Rotary.NONE, GgufNames.rotary("blk.2.attn_v.weight"));
        assertEquals(GgufNames.Rotary.QUERY, GgufNames.rotary(GgufNames.LLAMA, "blk.2.attn_q.weight"));
        assertEquals(GgufNames.Rotary.NONE, GgufNames.rotary(GgufNames.QWEN2, "blk.2.attn_q.weight"), "qwen2 rotates halves: rows stay");
        assertEquals(GgufNames.Rotary.NONE, GgufNames.rotary(GgufNames.QWEN3, "blk.2.attn_k.weight"));
        String[][] gemma3 = {
            {"model.layers.4.input_layernorm.weight", "blk.4.attn_norm.weight"},
            {"model.layers.4.post_attention_layernorm.weight", "blk.4.post_attention_norm.weight"},
            {"model.layers.4.pre_feedforward_layernorm.weight", "blk.4.ffn_norm.weight"},
            {"model.layers.4.post_feedforward_layernorm.weight", "blk.4.post_ffw_norm.weight"},
            {"model.layers.4.self_attn.q_norm.weight", "blk.4.attn_q_norm.weight"},
            {"model.layers.4.mlp.down_proj.weight", "blk.4.ffn_down.weight"},
        };
        for (String[] p : gemma3) {
            assertEquals(p[1], GgufNames.toGguf(GgufNames.GEMMA3, p[0]).orElseThrow(), p[0]);
            assertEquals(p[0], GgufNames.toHuggingFace(GgufNames.GEMMA3, p[1]).orElseThrow(), p[1]);
        }
        assertEquals("blk.4.ffn_norm.weight", GgufNames.toGguf(GgufNames.LLAMA, "model.layers.4.post_attention_layernorm.weight").orElseThrow());
        assertEquals(1f, GgufNames.normShift(GgufNames.GEMMA3, "model.layers.4.self_attn.k_norm.weight"));
        assertEquals(0f, GgufNames.normShift(GgufNames.LLAMA, "model.norm.weight"));
    }

    @Test
    void expertsAreSlicesOfStackedTensors() {
        // Mixtral in the llama layout: w1 gate, w3 up, w2 down
        assertEquals(new GgufNames.ExpertSlice("blk.3.ffn_gate_exps.weight", 5),
                GgufNames.expertSlice("llama", "model.layers.3.block_sparse_moe.experts.5.w1.weight").orElseThrow());
        assertEquals(new GgufNames.ExpertSlice("blk.0.ffn_up_exps.weight", 7),
                GgufNames.expertSlice("llama", "model.layers.0.block_sparse_moe.experts.7.w3.weight").orElseThrow());
        assertEquals("model.layers.0.block_sparse_moe.experts.7.w2.weight", GgufNames.expertName("llama", "blk.0.ffn_down_exps.weight", 7).orElseThrow());
        assertEquals(new GgufNames.ExpertSlice("blk.47.ffn_down_exps.weight", 127),
                GgufNames.expertSlice("qwen3moe", "model.layers.47.mlp.experts.127.down_proj.weight").orElseThrow());
        assertEquals("model.layers.1.mlp.experts.0.up_proj.weight", GgufNames.expertName("qwen3moe", "blk.1.ffn_up_exps.weight", 0).orElseThrow());
        assertTrue(GgufNames.expertSlice("qwen3", "model.layers.1.mlp.experts.0.up_proj.weight").isEmpty(), "dense Qwen3 has no experts");
        assertTrue(GgufNames.expertSlice("llama", "model.layers.1.mlp.up_proj.weight").isEmpty());
        // the router: one GGUF name, each architecture's own Hugging Face name
        assertEquals("blk.2.ffn_gate_inp.weight", GgufNames.toGguf("qwen3moe", "model.layers.2.mlp.gate.weight").orElseThrow());
        assertEquals("blk.2.ffn_gate_inp.weight", GgufNames.toGguf("llama", "model.layers.2.block_sparse_moe.gate.weight").orElseThrow());
        assertEquals("model.layers.2.mlp.gate.weight", GgufNames.toHuggingFace("qwen3moe", "blk.2.ffn_gate_inp.weight").orElseThrow());
        assertEquals("model.layers.2.block_sparse_moe.gate.weight", GgufNames.toHuggingFace("llama", "blk.2.ffn_gate_inp.weight").orElseThrow());
        assertEquals("blk.4.attn_k_norm.weight", GgufNames.toGguf("qwen3moe", "model.layers.4.self_attn.k_norm.weight").orElseThrow());
        assertFalse(GgufNames.permutesRotaryRows("qwen3moe"), "qwen3moe rotates halves (NEOX)");
    }

    @Test
    void rotaryPermutationByHand() {
        // Two heads of 4 rows: HF rows [h0: a0 a1 | b0 b1] (halves) → GGUF [a0 b0 a1 b1] (pairs).
        assertArrayEquals(new int[] {0, 2, 1, 3, 4, 6, 5, 7}, GgufNames.ggufRowSources(8, 2));
        // One head of 8: HF 0..7 = x0 x1 x2 x3 | y0 y1 y2 y3 → x0 y0 x1 y1 x2 y2 x3 y3.
        assertArrayEquals(new int[] {0, 4, 1, 5, 2, 6, 3, 7}, GgufNames.ggufRowSources(8, 1));
        int[] f = GgufNames.ggufRowSources(64, 8), b = GgufNames.huggingFaceRowSources(64, 8);
        float[] m = new float[64 * 3];
        for (int i = 0; i < m.length; i++) m[i] = i;
        assertArrayEquals(m, GgufNames.permuteRows(GgufNames.permuteRows(m, 64, 3, f), 64, 3, b));
    }

    @Test
    void hyperparametersRoundTrip() throws Exception {
        var h = GgufNames.Hyperparameters.llama(2048, 2048, 22, 5632, 32, 4, 10000f, 1e-5f, 64, 32000, 64);
        Map<String, GgufValue> m = h.toMetadata();
        assertEquals(GgufValue.u32(32), m.get("llama.attention.head_count"));
        assertEquals(GgufValue.f32(1e-5f), m.get("llama.attention.layer_norm_rms_epsilon"));
        assertTrue(!m.containsKey("llama.attention.key_length"), "head dim = embedding / heads needs no key_length");
        assertEquals(h, GgufNames.Hyperparameters.fromMetadata(new GgufMetadata("test", m)));
        var odd = GgufNames.Hyperparameters.llama(512, 64, 5, 172, 8, 4, 10000f, 1e-5f, 16, 512, 16);
        assertEquals(GgufValue.u32(16), odd.toMetadata().get("llama.attention.key_length"));
        var qwen3 = new GgufNames.Hyperparameters(GgufNames.QWEN3, 40960, 1024, 28, 3072, 16, 8, 1e6f, 1e-6f, 128, 151936, 128);
        Map<String, GgufValue> q = qwen3.toMetadata();
        assertEquals(GgufValue.string("qwen3"), q.get("general.architecture"));
        assertEquals(GgufValue.u32(128), q.get("qwen3.attention.key_length"), "head_dim 128 over 16 heads is not 1024/16");
        assertTrue(q.keySet().stream().allMatch(k -> k.startsWith("qwen3.") || k.startsWith("general.")), q.keySet().toString());
        assertEquals(qwen3, GgufNames.Hyperparameters.fromMetadata(new GgufMetadata("test", q)));
        var e = org.junit.jupiter.api.Assertions.assertThrows(GgufException.class, () -> GgufNames.Hyperparameters.fromMetadata(
                new GgufMetadata("test", Map.of("general.architecture", GgufValue.string("gemma2")))));
        assertTrue(e.getMessage().contains("\"gemma2\", not one of llama, qwen2, qwen3, qwen3moe, gemma3, granite"), e.getMessage());
    }
}
