package org.jtune.models.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.jtune.JtuneException;
import org.jtune.models.io.SafetensorsReader;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * config.json parsing on the real configs in ../shared (stories260K, TinyLlama, Mistral accepted;
 * Phi-3 and GPT-2 refused by architecture), defaults, every validation rule, RoPE scaling variants,
 * and toJson/load round trips that keep unmodelled keys.
 */
class LlamaConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** A small valid Llama config as an editable JSON object. */
    private static ObjectNode base() throws Exception {
        return (ObjectNode) JSON.readTree("""
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256,
                 "intermediate_size": 688, "num_hidden_layers": 2, "num_attention_heads": 8,
                 "num_key_value_heads": 2, "vocab_size": 1000, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
                 "initializer_range": 0.02, "use_cache": true}""");
    }

    private static LlamaConfig parse(Consumer<ObjectNode> edit) throws Exception {
        ObjectNode n = base();
        edit.accept(n);
        return LlamaConfig.parse(n.toString(), "test/config.json");
    }

    private static String rejected(Consumer<ObjectNode> edit) throws Exception {
        ObjectNode n = base();
        edit.accept(n);
        JtuneException e = assertThrows(JtuneException.class, () -> LlamaConfig.parse(n.toString(), "test/config.json"));
        assertTrue(e.getMessage().startsWith("test/config.json: "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void stories260k() throws Exception {
        LlamaConfig c = LlamaConfig.load(SharedData.require("models/stories260K"));
        assertEquals(LlamaConfig.LLAMA, c.architecture());
        assertEquals("llama", c.modelType());
        assertEquals(64, c.hiddenSize());
        assertEquals(172, c.intermediateSize());
        assertEquals(5, c.numHiddenLayers());
        assertEquals(8, c.numAttentionHeads());
        assertEquals(4, c.numKeyValueHeads());
        assertEquals(8, c.headDim());
        assertEquals(2, c.queriesPerKeyValueHead());
        assertEquals(32, c.keyValueDim());
        assertEquals(10000.0, c.ropeTheta());
        assertNull(c.ropeScaling());
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(512, c.maxPositionEmbeddings());
        assertEquals(512, c.vocabSize());
        assertEquals(List.of(1), c.bosTokenIds());
        assertEquals(List.of(2), c.eosTokenIds());
        assertEquals("float32", c.torchDtype());
        assertNull(c.slidingWindow());
        assertEquals(0.02, c.extra().get("initializer_range"));
        assertEquals(1, c.extra().get("pretraining_tp"));
    }

    @Test
    void tiedEmbeddingsConfigMatchesACheckpointWithoutLmHead() throws Exception {
        Path folder = SharedData.require("models/stories260K");
        LlamaConfig c = LlamaConfig.load(folder);
        assertTrue(c.tieWordEmbeddings());
        try (SafetensorsReader r = SafetensorsReader.open(folder)) {
            assertFalse(r.contains("lm_head.weight"), "tied checkpoint carries no lm_head");
            assertEquals(List.of(c.vocabSize(), c.hiddenSize()),
                    java.util.Arrays.stream(r.get("model.embed_tokens.weight").shape()).boxed().toList());
            assertEquals(List.of(c.keyValueDim(), c.hiddenSize()),
                    java.util.Arrays.stream(r.get("model.layers.0.self_attn.k_proj.weight").shape()).boxed().toList());
        }
        LlamaConfig untied = parse(n -> n.put("tie_word_embeddings", false));
        assertFalse(untied.tieWordEmbeddings());
        assertFalse(parse(n -> {}).tieWordEmbeddings(), "Hugging Face default is untied");
    }

    @Test
    void tinyLlamaAndMistral() throws Exception {
        LlamaConfig t = LlamaConfig.load(SharedData.require("hf/tinyllama-1.1b-chat-v1.0/config.json"));
        assertEquals(2048, t.hiddenSize());
        assertEquals(5632, t.intermediateSize());
        assertEquals(22, t.numHiddenLayers());
        assertEquals(32, t.numAttentionHeads());
        assertEquals(4, t.numKeyValueHeads());
        assertEquals(64, t.headDim());
        assertEquals(32000, t.vocabSize());
        assertEquals("bfloat16", t.torchDtype());
        assertFalse(t.tieWordEmbeddings());
        assertFalse(t.hasWindowKey());

        LlamaConfig m = LlamaConfig.load(SharedData.require("hf/mistral-7b-instruct-v0.3/config.json"));
        assertTrue(m.hasWindowKey());
        assertEquals("mistral", m.modelType());
        assertEquals(4096, m.hiddenSize());
        assertEquals(14336, m.intermediateSize());
        assertEquals(8, m.numKeyValueHeads());
        assertEquals(128, m.headDim());
        assertEquals(1_000_000.0, m.ropeTheta());
        assertEquals(32768, m.vocabSize());
        assertEquals(32768, m.maxPositionEmbeddings());
        assertNull(m.slidingWindow());
        assertEquals("4.42.0.dev0", m.extra().get("transformers_version"));
    }

    @Test
    void otherArchitecturesAreRefusedByName() throws Exception {
        Path phiConfig = SharedData.require("hf/phi-3-mini-128k-instruct/config.json");
        Path gpt2Config = SharedData.require("hf/gpt2/config.json");
        JtuneException phi = assertThrows(JtuneException.class, () -> LlamaConfig.load(phiConfig));
        assertTrue(phi.getMessage().contains("field \"architectures\": Phi3ForCausalLM is not supported (supported: "
                + "LlamaForCausalLM, MistralForCausalLM, MixtralForCausalLM, SmolLM3ForCausalLM, GraniteForCausalLM)"), phi.getMessage());
        assertTrue(phi.getMessage().contains("phi-3-mini-128k-instruct/config.json"), phi.getMessage());
        JtuneException gpt2 = assertThrows(JtuneException.class, () -> LlamaConfig.load(gpt2Config));
        assertTrue(gpt2.getMessage().contains("GPT2LMHeadModel is not supported"), gpt2.getMessage());
    }

    @Test
    void defaultsFollowHuggingFace() throws Exception {
        LlamaConfig c = parse(n -> {
            n.remove("num_key_value_heads");
            n.remove("rope_theta");
            n.remove("rms_norm_eps");
            n.remove("model_type");
        });
        assertEquals(8, c.numKeyValueHeads());
        assertEquals(32, c.headDim());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(2048, c.maxPositionEmbeddings());
        assertEquals("llama", c.modelType());
        assertNull(c.torchDtype());
        LlamaConfig fromType = parse(n -> {
            n.remove("architectures");
            n.put("model_type", "mistral");
        });
        assertEquals(LlamaConfig.MISTRAL, fromType.architecture());
        assertEquals(131072, fromType.maxPositionEmbeddings());
        assertEquals("bfloat16", parse(n -> n.put("dtype", "bfloat16")).torchDtype());
    }

    @Test
    void tokenIdsAsNumberListOrNull() throws Exception {
        LlamaConfig c = parse(n -> {
            n.put("bos_token_id", 128000);
            n.putArray("eos_token_id").add(128001).add(128008).add(128009);
        });
        assertEquals(List.of(128000), c.bosTokenIds());
        assertEquals(List.of(128001, 128008, 128009), c.eosTokenIds());
        assertEquals(List.of(), parse(n -> n.putNull("eos_token_id")).eosTokenIds());
        assertTrue(rejected(n -> n.put("eos_token_id", "x")).contains("\"eos_token_id\""));
        assertTrue(rejected(n -> n.putArray("bos_token_id").add(-1)).contains("\"bos_token_id\""));
    }

    @Test
    void ropeScalingVariants() throws Exception {
        LlamaConfig l3 = parse(n -> n.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0)
                .put("low_freq_factor", 1.0).put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192));
        assertEquals(new RopeScaling.Llama3(8.0, 1.0, 4.0, 8192), l3.ropeScaling());
        LlamaConfig lin = parse(n -> n.putObject("rope_scaling").put("type", "linear").put("factor", 2.0));
        assertEquals(new RopeScaling.Linear(2.0), lin.ropeScaling());
        assertNull(parse(n -> n.putObject("rope_scaling").put("rope_type", "default")).ropeScaling());
        for (String type : List.of("yarn", "dynamic", "longrope")) {
            String msg = rejected(n -> n.putObject("rope_scaling").put("type", type).put("factor", 2.0));
            assertTrue(msg.contains("\"rope_scaling\": type \"" + type + "\" is not supported (supported: llama3, linear)"), msg);
        }
        assertTrue(rejected(n -> n.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0))
                .contains("missing required field \"rope_scaling.low_freq_factor\""));
        assertTrue(rejected(n -> n.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0)
                .put("low_freq_factor", 4.0).put("high_freq_factor", 1.0).put("original_max_position_embeddings", 8192))
                .contains("high_freq_factor"));
        assertTrue(rejected(n -> n.putObject("rope_scaling").put("factor", 2.0)).contains("neither rope_type nor type"));
        assertTrue(rejected(n -> n.put("rope_scaling", "linear")).contains("\"rope_scaling\""));
    }

    @Test
    void validationNamesTheField() throws Exception {
        assertEquals("test/config.json: missing required field \"hidden_size\"", rejected(n -> n.remove("hidden_size")));
        assertEquals("test/config.json: missing required field \"vocab_size\"", rejected(n -> n.remove("vocab_size")));
        assertTrue(rejected(n -> n.put("intermediate_size", -5)).contains("intermediate_size must be positive"));
        assertTrue(rejected(n -> n.put("num_hidden_layers", 0)).contains("num_hidden_layers must be positive"));
        assertTrue(rejected(n -> n.put("num_key_value_heads", 3))
                .contains("num_attention_heads (8) must be a multiple of num_key_value_heads (3)"));
        assertTrue(rejected(n -> n.put("hidden_size", 260)).contains("hidden_size (260) is not divisible by num_attention_heads (8)"));
        assertTrue(rejected(n -> n.put("head_dim", 33)).contains("head_dim (33) must be even"));
        assertTrue(rejected(n -> n.put("hidden_size", "256")).contains("field \"hidden_size\": must be an integer, found \"256\""));
        assertTrue(rejected(n -> n.put("hidden_size", 256.5)).contains("\"hidden_size\": must be an integer"));
        assertTrue(rejected(n -> n.put("hidden_size", 3_000_000_000L)).contains("\"hidden_size\": must be an integer"));
        assertTrue(rejected(n -> n.put("rope_theta", -1.0)).contains("rope_theta must be a positive number"));
        assertTrue(rejected(n -> n.put("rms_norm_eps", "tiny")).contains("\"rms_norm_eps\": must be a number"));
        assertTrue(rejected(n -> n.put("tie_word_embeddings", "yes")).contains("\"tie_word_embeddings\": must be true or false"));
        assertTrue(rejected(n -> n.put("hidden_act", "gelu")).contains("\"hidden_act\": \"gelu\" is not supported"));
        assertTrue(rejected(n -> n.put("attention_bias", true)).contains("\"attention_bias\": true is not supported"));
        assertTrue(rejected(n -> n.put("mlp_bias", true)).contains("\"mlp_bias\": true is not supported"));
        assertTrue(rejected(n -> n.put("torch_dtype", "float64")).contains("torch_dtype 'float64'"));
        assertTrue(rejected(n -> n.putArray("architectures")).contains("\"architectures\": must be a non-empty list"));
        assertTrue(rejected(n -> n.putArray("architectures").add("LlamaForCausalLM").add("MistralForCausalLM"))
                .contains("several architectures"));
        assertTrue(rejected(n -> {
            n.remove("architectures");
            n.put("model_type", "gpt2");
        }).contains("\"architectures\": missing, and model_type \"gpt2\" is not llama, mistral, mixtral, smollm3 or granite"));
        assertTrue(rejected(n -> {
            n.put("architectures", "MistralForCausalLM");
        }).contains("\"architectures\""));
        JtuneException dup = assertThrows(JtuneException.class,
                () -> LlamaConfig.parse("{\"hidden_size\": 1, \"hidden_size\": 2}", "d.json"));
        assertTrue(dup.getMessage().contains("Duplicate"), dup.getMessage());
        JtuneException deep = assertThrows(JtuneException.class,
                () -> LlamaConfig.parse("[".repeat(10_000) + "]".repeat(10_000), "deep.json"));
        assertTrue(deep.getMessage().startsWith("deep.json: malformed JSON"), deep.getMessage());
        assertTrue(assertThrows(JtuneException.class, () -> LlamaConfig.parse("[]", "a.json")).getMessage()
                .contains("not a JSON object"));
    }

    @Test
    void explicitHeadDimNeedNotDivideHidden() throws Exception {
        // Mistral-Nemo style: head_dim given, hidden ≠ heads × head_dim
        LlamaConfig c = parse(n -> {
            n.put("hidden_size", 320);
            n.put("head_dim", 64);
        });
        assertEquals(64, c.headDim());
        assertEquals(512, c.queryDim());
    }

    @Test
    void slidingWindowIsMistralOnly() throws Exception {
        LlamaConfig m = parse(n -> {
            n.putArray("architectures").add("MistralForCausalLM");
            n.put("sliding_window", 4096);
        });
        assertEquals(4096, m.slidingWindow());
        assertTrue(rejected(n -> {
            n.putArray("architectures").add("MistralForCausalLM");
            n.put("sliding_window", 0);
        }).contains("sliding_window must be positive"));
        LlamaConfig llama = parse(n -> n.put("sliding_window", 4096));
        assertNull(llama.slidingWindow(), "Llama ignores sliding_window, as transformers does");
        assertEquals(4096, llama.extra().get("sliding_window"));
    }

    @Test
    void toJsonRoundTripsEverySharedConfigAndKeepsUnknownKeys() throws Exception {
        for (String name : List.of("models/stories260K/config.json", "hf/tinyllama-1.1b-chat-v1.0/config.json",
                "hf/mistral-7b-instruct-v0.3/config.json")) {
            Path file = SharedData.require(name);
            LlamaConfig c = LlamaConfig.load(file);
            String json = c.toJson();
            assertEquals(c, LlamaConfig.parse(json, "roundtrip"), name);
            JsonNode written = JSON.readTree(json);
            JsonNode original = JSON.readTree(file.toFile());
            for (var e : original.properties()) {
                JsonNode w = written.get(e.getKey());
                assertTrue(w != null, name + ": key " + e.getKey() + " dropped");
                if (e.getValue().isNumber()) assertEquals(e.getValue().asDouble(), w.asDouble(), name + ": " + e.getKey());
                else assertEquals(e.getValue(), w, name + ": " + e.getKey());
            }
        }
        LlamaConfig scaled = parse(n -> n.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0)
                .put("low_freq_factor", 1.0).put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192));
        Path out = dir.resolve("export/config.json");
        scaled.write(out);
        assertEquals(scaled, LlamaConfig.load(out.getParent()));
        LlamaConfig linear = parse(n -> n.putObject("rope_scaling").put("type", "linear").put("factor", 4.0));
        assertEquals(linear, LlamaConfig.parse(linear.toJson(), "linear"));
    }

    @Test
    void builderDerivesHeadsAndKeepsValidation() {
        LlamaConfig c = LlamaConfig.builder().hiddenSize(64).intermediateSize(172).numHiddenLayers(5)
                .numAttentionHeads(8).numKeyValueHeads(4).vocabSize(512).tieWordEmbeddings(true).build();
        assertEquals(8, c.headDim());
        assertEquals("llama", c.modelType());
        assertEquals(c, c.toBuilder().build());
        assertThrows(IllegalArgumentException.class, () -> c.toBuilder().architecture("GPT2LMHeadModel").build());
    }
}
