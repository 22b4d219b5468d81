package org.jtune.models.weights;

import static org.junit.jupiter.api.Assertions.*;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.TinyModels;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.LlamaConfig;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The name table is the one source of names: random init, save and load agree on it, and a
 * checkpoint that does not match its config is refused with the tensor named.
 */
class WeightTableTest {
    @Test
    void randomWeightsReloadToTheSameModel() throws Exception {
        LlamaConfig c = TinyModels.config(2);
        Map<String, Tensor> w = Architectures.randomWeights(c, new Rng(1), 0.02f);
        assertEquals(1 + 2 * 9 + 1 + 1, w.size(), "embed, 9 per layer, norm, lm_head");
        try (CausalLM m = Architectures.of(c, w)) {
            assertEquals(w.keySet(), m.weights().named().keySet());
            assertEquals(14, m.weights().projections().size(), "7 projections per layer; the head is not a LoRA target");
        }
    }

    @Test
    void checkpointsThatDoNotMatchTheConfigAreRefused() {
        LlamaConfig two = TinyModels.config(2), one = TinyModels.config(1);
        Map<String, Tensor> w = Architectures.randomWeights(two, new Rng(1), 0.02f);
        JtuneException e = assertThrows(JtuneException.class, () -> Architectures.of(one, w));
        assertTrue(e.getMessage().contains("model.layers.1.") && e.getMessage().contains("config.json"), e.getMessage());

        Map<String, Tensor> missing = new LinkedHashMap<>(w);
        missing.remove("model.layers.0.mlp.up_proj.weight");
        e = assertThrows(JtuneException.class, () -> Architectures.of(two, missing));
        assertTrue(e.getMessage().contains("no tensor model.layers.0.mlp.up_proj.weight"), e.getMessage());

        Map<String, Tensor> wrong = new LinkedHashMap<>(w);
        wrong.put("model.norm.weight", Tensor.ones(31));
        e = assertThrows(JtuneException.class, () -> Architectures.of(two, wrong));
        assertTrue(e.getMessage().contains("model.norm.weight has shape [31]"), e.getMessage());

        Map<String, Tensor> old = new LinkedHashMap<>(w);
        old.put("model.layers.0.self_attn.rotary_emb.inv_freq", Tensor.ones(4));
        assertDoesNotThrow(() -> Architectures.of(two, old).close(), "older checkpoints carry RoPE frequencies: ignored");
    }

    @Test
    void unknownArchitecturesNameTheSupportedOnes() {
        JtuneException e = assertThrows(JtuneException.class,
                () -> Architectures.parseConfig("{\"architectures\": [\"GPTNeoXForCausalLM\"], \"model_type\": \"gpt_neox\"}", "config.json"));
        assertTrue(e.getMessage().contains("GPTNeoXForCausalLM") && e.getMessage().contains("LlamaForCausalLM"), e.getMessage());
    }
}
