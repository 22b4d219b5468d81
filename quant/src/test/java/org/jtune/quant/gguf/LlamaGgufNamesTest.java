package org.jtune.quant.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Llama name table both ways, the rotary row permutation worked by hand, and the hyper-parameter keys. */
class LlamaGgufNamesTest {
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
        };
        for (String[] p : pairs) {
            assertEquals(p[1], LlamaGgufNames.toGguf(p[0]).orElseThrow(), p[0]);
            assertEquals(p[0], LlamaGgufNames.toHuggingFace(p[1]).orElseThrow(), p[1]);
        }
        assertTrue(LlamaGgufNames.toGguf("model.layers.0.self_attn.rotary_emb.inv_freq").isEmpty());
        assertTrue(LlamaGgufNames.toHuggingFace("rope_freqs.weight").isEmpty());
        assertEquals(LlamaGgufNames.Rotary.QUERY, LlamaGgufNames.rotary("blk.2.attn_q.weight"));
        assertEquals(LlamaGgufNames.Rotary.KEY, LlamaGgufNames.rotary("model.layers.2.self_attn.k_proj.weight"));
        assertEquals(LlamaGgufNames.Rotary.NONE, LlamaGgufNames.rotary("blk.2.attn_v.weight"));
    }

    @Test
    void rotaryPermutationByHand() {
        // Two heads of 4 rows: HF rows [h0: a0 a1 | b0 b1] (halves) → GGUF [a0 b0 a1 b1] (pairs).
        assertArrayEquals(new int[] {0, 2, 1, 3, 4, 6, 5, 7}, LlamaGgufNames.ggufRowSources(8, 2));
        // One head of 8: HF 0..7 = x0 x1 x2 x3 | y0 y1 y2 y3 → x0 y0 x1 y1 x2 y2 x3 y3.
        assertArrayEquals(new int[] {0, 4, 1, 5, 2, 6, 3, 7}, LlamaGgufNames.ggufRowSources(8, 1));
        int[] f = LlamaGgufNames.ggufRowSources(64, 8), b = LlamaGgufNames.huggingFaceRowSources(64, 8);
        float[] m = new float[64 * 3];
        for (int i = 0; i < m.length; i++) m[i] = i;
        assertArrayEquals(m, LlamaGgufNames.permuteRows(LlamaGgufNames.permuteRows(m, 64, 3, f), 64, 3, b));
    }

    @Test
    void hyperparametersRoundTrip() throws Exception {
        var h = new LlamaGgufNames.Hyperparameters(2048, 2048, 22, 5632, 32, 4, 10000f, 1e-5f, 64, 32000, 64);
        Map<String, GgufValue> m = h.toMetadata();
        assertEquals(GgufValue.u32(32), m.get("llama.attention.head_count"));
        assertEquals(GgufValue.f32(1e-5f), m.get("llama.attention.layer_norm_rms_epsilon"));
        assertTrue(!m.containsKey("llama.attention.key_length"), "head dim = embedding / heads needs no key_length");
        assertEquals(h, LlamaGgufNames.Hyperparameters.fromMetadata(new GgufMetadata("test", m)));
        var odd = new LlamaGgufNames.Hyperparameters(512, 64, 5, 172, 8, 4, 10000f, 1e-5f, 16, 512, 16);
        assertEquals(GgufValue.u32(16), odd.toMetadata().get("llama.attention.key_length"));
    }
}
