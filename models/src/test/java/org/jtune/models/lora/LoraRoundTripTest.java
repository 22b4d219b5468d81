package org.jtune.models.lora;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.autograd.NoGrad;
import org.jtune.autograd.Variable;
import org.jtune.models.io.SafetensorsReader;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.arch.Architectures;
import org.jtune.models.io.ModelExport;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA adapters with trainable token rows on the real stories260K: the PEFT folder reloads to the
 * same function, uses PEFT's key names and config keys, and merging (then exporting and reloading)
 * gives the same logits within 1e-4 relative.
 */
class LoraRoundTripTest {
    private static final int[] IDS = {1, 403, 407, 261, 378, 432, 383, 286, 2};

    @Test
    void saveLoadMergeAndExportKeepTheFunction(@TempDir Path tmp) throws Exception {
        Path dir = SharedData.require("models/stories260K");
        LoraConfig config = new LoraConfig(4, 8f, 0f, LoraConfig.ALL_LINEAR, false, List.of(2));
        float[] adapted;
        try (CausalLM model = Architectures.load(dir)) {
            Map<String, Variable> params = LoraAdapters.attach(model, Adapters.DEFAULT, config, new Rng(5), true);
            Rng rng = new Rng(6);
            for (var e : params.entrySet()) { // make B and the token row non-trivial
                Tensor v = e.getValue().value();
                Tensor noise = Tensor.randn(rng, e.getKey().endsWith("lora_B.weight") ? 0.05f : 0.2f, v.shape());
                org.jtune.tensor.Ops.copyInto(e.getKey().endsWith("lora_B.weight") ? noise : org.jtune.tensor.Ops.add(v, noise), v);
            }
            adapted = logits(model);
            PeftFormat.save(tmp.resolve("adapter"), model, Adapters.DEFAULT, dir.toString());
        }
        JsonNode cfg = new ObjectMapper().readTree(tmp.resolve("adapter/adapter_config.json").toFile());
        assertEquals("LORA", cfg.get("peft_type").asText());
        assertEquals(4, cfg.get("r").asInt());
        assertEquals(2, cfg.get("trainable_token_indices").get("embed_tokens").get(0).asInt());
        try (SafetensorsReader r = SafetensorsReader.open(tmp.resolve("adapter/adapter_model.safetensors"))) {
            assertTrue(r.contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
            assertArrayEquals(new int[] {4, 172}, r.get("base_model.model.model.layers.4.mlp.down_proj.lora_A.weight").shape(), "A is (r, in)");
            assertArrayEquals(new int[] {64, 4}, r.get("base_model.model.model.layers.4.mlp.down_proj.lora_B.weight").shape(), "B is (out, r)");
            assertTrue(r.contains(PeftFormat.TOKEN_KEY));
            assertEquals(7 * 5 * 2 + 1, r.names().size());
        }
        try (CausalLM model = Architectures.load(dir)) {
            float[] base = logits(model);
            PeftFormat.load(tmp.resolve("adapter"), model);
            float[] reloaded = logits(model);
            assertArrayEquals(adapted, reloaded, 0f, "reloaded adapter gives the same logits");
            assertTrue(relative(adapted, base) > 1e-3, "the adapter changes the function");
            LoraMerge.mergeInto(model, Adapters.DEFAULT);
            float[] merged = logits(model);
            assertTrue(relative(adapted, merged) < 1e-4, "merged vs unmerged: " + relative(adapted, merged));
            ModelExport.save(model, dir, tmp.resolve("merged"), 200_000);
        }
        assertTrue(Files.exists(tmp.resolve("merged/model.safetensors.index.json")), "small shards force an index");
        assertTrue(Files.exists(tmp.resolve("merged/tokenizer.json")));
        try (CausalLM model = Architectures.load(tmp.resolve("merged"))) {
            assertTrue(relative(adapted, logits(model)) < 1e-4, "exported merged model");
        }
    }

    @Test
    void brokenAdapterFoldersAreClearErrors(@TempDir Path tmp) throws Exception {
        Path dir = SharedData.require("models/stories260K");
        Files.createDirectories(tmp.resolve("a"));
        Files.writeString(tmp.resolve("a/adapter_config.json"), "{\"peft_type\": \"IA3\"}");
        try (CausalLM model = Architectures.load(dir)) {
            JtuneException e = assertThrows(JtuneException.class, () -> PeftFormat.load(tmp.resolve("a"), model));
            assertTrue(e.getMessage().contains("IA3") && e.getMessage().contains("adapter_config.json"), e.getMessage());
            Files.writeString(tmp.resolve("a/adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"target_modules\": [\"q_proj\"]}");
            e = assertThrows(JtuneException.class, () -> PeftFormat.load(tmp.resolve("a"), model));
            assertTrue(e.getMessage().contains("adapter_model.safetensors"), e.getMessage());
        }
    }

    private static float[] logits(CausalLM model) {
        try (var g = NoGrad.enter()) {
            int[] pos = new int[IDS.length];
            for (int i = 0; i < pos.length; i++) pos[i] = i;
            Variable h = model.hidden(Tensor.ofInts(IDS, 1, IDS.length), Tensor.ofInts(pos, 1, IDS.length),
                    ForwardPass.of(AttentionMask.causalMask()));
            return model.logits(h).value().toFloatArray();
        }
    }

    private static double relative(float[] want, float[] got) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (want[i] - (double) got[i]) * (want[i] - (double) got[i]);
            den += (double) want[i] * want[i];
        }
        return Math.sqrt(num / den);
    }
}
