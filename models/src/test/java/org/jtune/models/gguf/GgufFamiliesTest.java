package org.jtune.models.gguf;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.autograd.NoGrad;
import org.jtune.models.CausalLM;
import org.jtune.models.HiddenStates;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.qwen2.Qwen2Config;
import org.jtune.quant.GgmlType;
import org.jtune.quant.gguf.GgufFile;
import org.jtune.quant.gguf.GgufReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints of each family and RoPE scaling in GGUF: tiny random checkpoints with odd sizes — Qwen2 (architecture qwen2:
 * q/k/v biases, a tied head), Qwen3 (qwen3: per-head q/k norms, head_dim 12 over 5 heads of a 44-wide model, its own head),
 * Llama with Llama 3's RoPE scaling (rope_freqs; three frequencies in the band between) and with linear scaling, Gemma 3
 * (gemma3: five sliding layers and a global one with linear scaling, norms stored as 1 + weight) — are
 * exported, and so are Qwen3-MoE (qwen3moe) and Mixtral (llama with experts), their experts stacked per layer; jtune reads
 * the file back to the same logits as the safetensors folder (names, rotary rows, the config and scaling from the metadata),
 * llama.cpp (node-llama-cpp, KV cache in F32) computes the prompt's logits within 1e-4 of jtune's on the F32 file (2e-2
 * for Gemma 3, whose GELU ggml takes from an F16 table), and decodes greedily the ids
 * jtune decodes from the same file — all 48 in F32, at least 8 in Q8_0 (llama.cpp rounds activations to 8 bits there), up to
 * where llama.cpp stops at an end-of-generation token or the two part at a near tie of jtune's logits. What llama.cpp's graphs would compute differently
 * (a sliding window, Qwen3's attention biases, Phi-3) is refused naming it. The llama.cpp part skips without the peer.
 */
class GgufFamiliesTest {
    private static final int N = 48;
    private static final int[] PROMPT = {258, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100};

    @TempDir
    Path tmp;

    static Map<String, Object> qwen2() {
        return Map.ofEntries(Map.entry("architectures", List.of("Qwen2ForCausalLM")), Map.entry("model_type", "qwen2"),
                Map.entry("hidden_size", 36), Map.entry("intermediate_size", 50), Map.entry("num_hidden_layers", 3),
                Map.entry("num_attention_heads", 6), Map.entry("num_key_value_heads", 2), Map.entry("vocab_size", 259),
                Map.entry("max_position_embeddings", 512), Map.entry("rope_theta", 1000000.0), Map.entry("rms_norm_eps", 1e-6),
                Map.entry("tie_word_embeddings", true), Map.entry("eos_token_id", 258), Map.entry("torch_dtype", "float32"));
    }

    static Map<String, Object> qwen3() {
        return Map.ofEntries(Map.entry("architectures", List.of("Qwen3ForCausalLM")), Map.entry("model_type", "qwen3"),
                Map.entry("hidden_size", 44), Map.entry("intermediate_size", 70), Map.entry("num_hidden_layers", 3),
                Map.entry("num_attention_heads", 5), Map.entry("num_key_value_heads", 1), Map.entry("head_dim", 12),
                Map.entry("vocab_size", 259), Map.entry("max_position_embeddings", 512), Map.entry("rope_theta", 1000000.0),
                Map.entry("rms_norm_eps", 1e-6), Map.entry("tie_word_embeddings", false), Map.entry("eos_token_id", 258),
                Map.entry("torch_dtype", "float32"));
    }

    static Map<String, Object> llama(Map<String, Object> ropeScaling) {
        return Map.ofEntries(Map.entry("architectures", List.of("LlamaForCausalLM")), Map.entry("model_type", "llama"),
                Map.entry("hidden_size", 64), Map.entry("intermediate_size", 90), Map.entry("num_hidden_layers", 2),
                Map.entry("num_attention_heads", 2), Map.entry("num_key_value_heads", 1), Map.entry("vocab_size", 259),
                Map.entry("max_position_embeddings", 2048), Map.entry("rope_theta", 10000.0), Map.entry("rms_norm_eps", 1e-5),
                Map.entry("rope_scaling", ropeScaling), Map.entry("tie_word_embeddings", false), Map.entry("eos_token_id", 258),
                Map.entry("torch_dtype", "float32"));
    }

    @Test
    void llama3RopeScalingTravelsAsRopeFreqs() throws Exception {
        // head_dim 32, theta 10^4: wavelengths 2π·10^(i/4); original 512 with low/high 1 and 8 leaves i = 5, 6, 7 in the band
        Map<String, Object> scaled = llama(Map.of("rope_type", "llama3", "factor", 8.0, "low_freq_factor", 1.0, "high_freq_factor", 8.0,
                "original_max_position_embeddings", 512));
        check("llama", scaled);
        try (GgufFile f = GgufReader.open(tmp.resolve("llama-F32.gguf"))) {
            float[] d = f.dequantize(f.tensor("rope_freqs.weight"));
            assertEquals(16, d.length);
            assertEquals(1f, d[0]);
            assertEquals(8f, d[15]);
            assertTrue(d[6] > 1 && d[6] < 8, "a divisor of the band between: " + d[6]);
        }
        assertRopeScalingMatters(scaled);
    }

    @Test
    void linearRopeScalingTravelsAsKeys() throws Exception {
        Map<String, Object> scaled = llama(Map.of("type", "linear", "factor", 4.0));
        check("llama", scaled);
        try (GgufFile f = GgufReader.open(tmp.resolve("llama-F32.gguf"))) {
            assertEquals("linear", f.metadata().getString("llama.rope.scaling.type"));
            assertEquals(4.0, f.metadata().getDouble("llama.rope.scaling.factor"));
            assertFalse(f.hasTensor("rope_freqs.weight"));
        }
        assertRopeScalingMatters(scaled);
    }

    /** The same weights without rope_scaling give other logits: the checks above would see a scaling lost on the way. */
    private void assertRopeScalingMatters(Map<String, Object> scaled) throws Exception {
        Map<String, Object> plain = new java.util.HashMap<>(scaled);
        plain.remove("rope_scaling");
        Path dir = tmp.resolve("plain");
        TinyCheckpoint.write(dir, plain);
        try (CausalLM a = Architectures.load(tmp.resolve("llama")); CausalLM b = Architectures.load(dir)) {
            float[] x = HiddenStates.logits(a, PROMPT), y = HiddenStates.logits(b, PROMPT);
            double d = 0;
            for (int i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
            assertTrue(d > 0.05, "without the scaling the logits move by only " + d);
        }
    }

    @Test
    void gemma3RoundTripsAndLlamaCppAgrees() throws Exception {
        // six layers: five sliding (window 5, local base 10^4), the sixth global with linear scaling; norms stored as 1 + w
        check("gemma3", Map.ofEntries(Map.entry("architectures", List.of("Gemma3ForCausalLM")), Map.entry("model_type", "gemma3_text"),
                Map.entry("hidden_size", 40), Map.entry("intermediate_size", 72), Map.entry("num_hidden_layers", 6),
                Map.entry("num_attention_heads", 4), Map.entry("num_key_value_heads", 2), Map.entry("head_dim", 16),
                Map.entry("query_pre_attn_scalar", 16), Map.entry("sliding_window", 5), Map.entry("vocab_size", 259),
                Map.entry("rope_scaling", Map.of("rope_type", "linear", "factor", 2.0)), Map.entry("max_position_embeddings", 512),
                Map.entry("eos_token_id", 258), Map.entry("bos_token_id", 256), Map.entry("torch_dtype", "float32")),
                2e-2); // ggml's CPU GELU reads a table of F16 values (GGML_GELU_FP16): ~1e-3 per activation
    }

    @Test
    void qwen3MoeRoundTripsAndLlamaCppAgrees() throws Exception {
        // 4 experts, 2 per token, stacked per layer in GGUF; the router stays F32
        check("qwen3moe", Map.ofEntries(Map.entry("architectures", List.of("Qwen3MoeForCausalLM")), Map.entry("model_type", "qwen3_moe"),
                Map.entry("hidden_size", 44), Map.entry("intermediate_size", 70), Map.entry("moe_intermediate_size", 32),
                Map.entry("num_experts", 4), Map.entry("num_experts_per_tok", 2), Map.entry("norm_topk_prob", true),
                Map.entry("num_hidden_layers", 3), Map.entry("num_attention_heads", 5), Map.entry("num_key_value_heads", 1),
                Map.entry("head_dim", 12), Map.entry("vocab_size", 259), Map.entry("max_position_embeddings", 512),
                Map.entry("rope_theta", 1000000.0), Map.entry("rms_norm_eps", 1e-6), Map.entry("tie_word_embeddings", false),
                Map.entry("eos_token_id", 258), Map.entry("torch_dtype", "float32")));
        try (GgufFile f = GgufReader.open(tmp.resolve("qwen3moe-Q8_0.gguf"))) {
            assertArrayEquals(new long[] {32, 44, 4}, f.tensor("blk.2.ffn_down_exps.weight").dims(), "ne = [in, out, experts]");
            assertEquals(GgmlType.F32, f.tensor("blk.0.ffn_gate_inp.weight").type(), "the router is not quantized");
            assertEquals(GgmlType.Q8_0, f.tensor("blk.0.ffn_down_exps.weight").type());
            assertEquals(32, f.metadata().getLong("qwen3moe.expert_feed_forward_length"));
            assertEquals(2, f.metadata().getLong("qwen3moe.expert_used_count"));
        }
    }

    @Test
    void aStackThatDisagreesWithTheExpertCountIsRefusedByName() throws Exception {
        Path dir = tmp.resolve("moe");
        TinyCheckpoint.write(dir, Map.ofEntries(Map.entry("architectures", List.of("Qwen3MoeForCausalLM")), Map.entry("hidden_size", 32),
                Map.entry("intermediate_size", 64), Map.entry("moe_intermediate_size", 32), Map.entry("num_experts", 4),
                Map.entry("num_experts_per_tok", 2), Map.entry("norm_topk_prob", true), Map.entry("num_hidden_layers", 1),
                Map.entry("num_attention_heads", 2), Map.entry("head_dim", 16), Map.entry("vocab_size", 259), Map.entry("torch_dtype", "float32")));
        Path good = tmp.resolve("good.gguf"), bad = tmp.resolve("bad.gguf");
        HfToGguf.export(dir, GgmlType.F32, good);
        try (GgufFile f = GgufReader.open(good)) {
            Map<String, org.jtune.quant.gguf.GgufValue> meta = new java.util.LinkedHashMap<>(f.metadata().asMap());
            meta.put("qwen3moe.expert_count", org.jtune.quant.gguf.GgufValue.u32(5));   // the stacks hold 4
            var w = new org.jtune.quant.gguf.GgufWriter().putAll(meta);
            for (var t : f.tensors()) w.addTensor(t.name(), t.type(), t.dims(), f.data(t));
            w.write(bad);
        }
        JtuneException e = assertThrows(JtuneException.class, () -> Architectures.load(bad).close());
        assertTrue(e.getMessage().contains("bad.gguf") && e.getMessage().matches(".*tensor blk\\.0\\.ffn_\\w+_exps\\.weight is not a stack of the metadata's 5 experts.*"),
                e.getMessage());
    }

    @Test
    void mixtralRoundTripsAndLlamaCppAgrees() throws Exception {
        // the llama layout with experts: expert_count and expert_used_count, the experts' width as feed_forward_length
        check("llama", Map.ofEntries(Map.entry("architectures", List.of("MixtralForCausalLM")), Map.entry("model_type", "mixtral"),
                Map.entry("hidden_size", 64), Map.entry("intermediate_size", 96), Map.entry("num_local_experts", 4),
                Map.entry("num_experts_per_tok", 2), Map.entry("num_hidden_layers", 2), Map.entry("num_attention_heads", 2),
                Map.entry("num_key_value_heads", 1), Map.entry("vocab_size", 259), Map.entry("max_position_embeddings", 2048),
                Map.entry("rms_norm_eps", 1e-5), Map.entry("tie_word_embeddings", false), Map.entry("eos_token_id", 258),
                Map.entry("torch_dtype", "float32")));
        try (GgufFile f = GgufReader.open(tmp.resolve("llama-F32.gguf")); CausalLM m = Architectures.load(tmp.resolve("llama-F32.gguf"))) {
            assertEquals(4, f.metadata().getLong("llama.expert_count"));
            assertEquals(96, f.metadata().getLong("llama.feed_forward_length"));
            assertEquals(org.jtune.models.config.LlamaConfig.MIXTRAL, m.config().architecture(), "a llama file with experts is Mixtral");
        }
    }

    @Test
    void graniteRoundTripsAndLlamaCppAgrees() throws Exception {
        // llama's layout (rotary rows permuted) with the four multipliers as granite.* keys
        Map<String, Object> granite = new java.util.HashMap<>(llama(Map.of("type", "linear", "factor", 2.0)));
        granite.remove("rope_scaling");
        granite.putAll(Map.of("architectures", List.of("GraniteForCausalLM"), "model_type", "granite", "embedding_multiplier", 12.0,
                "residual_multiplier", 0.22, "attention_multiplier", 0.0625, "logits_scaling", 8.0));
        check("granite", granite);
        try (GgufFile f = GgufReader.open(tmp.resolve("granite-F32.gguf"))) {
            assertEquals(0.22, f.metadata().getDouble("granite.residual_scale"), 1e-7);
            assertEquals(8.0, f.metadata().getDouble("granite.logit_scale"));
        }
    }

    @Test
    void qwen2RoundTripsAndLlamaCppAgrees() throws Exception {
        check("qwen2", qwen2());
    }

    @Test
    void qwen3RoundTripsAndLlamaCppAgrees() throws Exception {
        check("qwen3", qwen3());
    }

    private void check(String arch, Map<String, Object> config) throws Exception {
        check(arch, config, 1e-4);
    }

    /** {@code f32LogitTolerance}: how far llama.cpp's logits of the prompt may be from jtune's on the F32 file. */
    private void check(String arch, Map<String, Object> config, double f32LogitTolerance) throws Exception {
        Path dir = tmp.resolve(arch);
        TinyCheckpoint.write(dir, config);
        Path f32 = tmp.resolve(arch + "-F32.gguf"), q8 = tmp.resolve(arch + "-Q8_0.gguf");
        HfToGguf.export(dir, GgmlType.F32, f32);
        HfToGguf.export(dir, GgmlType.Q8_0, q8);
        try (CausalLM folder = Architectures.load(dir); CausalLM gguf = Architectures.load(f32); GgufFile file = GgufReader.open(f32)) {
            assertEquals(arch, file.metadata().getString("general.architecture"));
            if (folder.config() instanceof Qwen2Config) {
                assertEquals(folder.config(), withoutExtras(gguf.config(), folder.config()), "the config read back from the metadata");
            }
            float[] a = HiddenStates.logits(folder, PROMPT), b = HiddenStates.logits(gguf, PROMPT);
            assertArrayEquals(a, b, 1e-5f, "logits of the GGUF file against the folder's");
            assertArrayEquals(greedy(folder), greedy(gguf), "jtune on the GGUF file decodes as on the folder");
        }
        Path peer = LlamaCppPeer.require();
        List<String> report = new ArrayList<>();
        for (Path file : List.of(f32, q8)) {
            List<JsonNode> answers = LlamaCppPeer.ask(peer, file, List.of(Map.of("op", "generate", "ids", PROMPT, "n", N),
                    Map.of("op", "logits", "ids", PROMPT)));
            int[] theirs = LlamaCppPeer.ids(answers.get(0));
            try (CausalLM model = Architectures.load(file)) {
                double worst = maxLogitDifference(HiddenStates.logits(model, PROMPT), answers.get(1), model.config().vocabSize());
                if (file == f32) assertTrue(worst < f32LogitTolerance, "llama.cpp's F32 logits of the prompt differ from jtune's by " + worst);
                report.add(file.getFileName() + " " + agreement(model, greedy(model), theirs, file == f32 ? N : 8) + "/" + theirs.length
                        + String.format(" (prompt logits within %.1e)", worst));
            }
        }
        System.out.println("[" + arch + " GGUF: llama.cpp greedy against jtune's on the same file] " + String.join("; ", report));
    }

    /** The largest |jtune − llama.cpp| over every logit of every prompt position. */
    private static double maxLogitDifference(float[] ours, JsonNode theirs, int vocab) {
        assertTrue(theirs.has("logits"), "llama.cpp: " + theirs);
        double worst = 0;
        int row = 0;
        for (JsonNode r : theirs.get("logits")) {
            assertEquals(vocab, r.size(), "llama.cpp's logits per position");
            for (int v = 0; v < vocab; v++) worst = Math.max(worst, Math.abs(ours[row * vocab + v] - r.get(v).asDouble()));
            row++;
        }
        assertEquals(ours.length / vocab, row, "positions");
        return worst;
    }

    /**
     * How many greedy ids of llama.cpp ({@code theirs}) equal jtune's ({@code ours}, from {@code model}): all of them, or at
     * least {@code needed}, unless the two part at a near tie — jtune's logits for the two choices within 0.01, where float
     * rounding in another order decides (a random model's margins are small). llama.cpp stops at a token it takes for an end
     * of generation (&lt;|endoftext|&gt;, &lt;|im_end|&gt;); jtune was told not to.
     */
    private static int agreement(CausalLM model, int[] ours, int[] theirs, int needed) {
        int same = 0;
        while (same < Math.min(ours.length, theirs.length) && ours[same] == theirs[same]) same++;
        String both = "\n jtune     " + Arrays.toString(ours) + "\n llama.cpp " + Arrays.toString(theirs);
        assertTrue(theirs.length >= 16, "llama.cpp stopped early" + both);
        if (same < Math.min(needed, theirs.length)) {
            int[] seq = Arrays.copyOf(PROMPT, PROMPT.length + same);
            System.arraycopy(ours, 0, seq, PROMPT.length, same);
            float[] logits = HiddenStates.logits(model, seq);
            int row = (seq.length - 1) * model.config().vocabSize();
            double gap = logits[row + ours[same]] - logits[row + theirs[same]];
            assertTrue(gap < 0.01, same + " identical tokens, then not at a near tie (jtune's logit gap " + gap + ")" + both);
        }
        return same;
    }

    /**
     * The GGUF config holds only what GGUF carries, its epsilon as a float32: compare it with the folder's after copying the
     * folder's unmodelled extras, and its epsilon once rounded alike.
     */
    private static ModelConfig withoutExtras(ModelConfig gguf, ModelConfig folder) {
        Qwen2Config g = (Qwen2Config) gguf, f = (Qwen2Config) folder;
        assertEquals((float) f.rmsNormEps(), (float) g.rmsNormEps(), "rms_norm_eps as GGUF's float32");
        return new Qwen2Config(g.architecture(), f.modelType(), g.hiddenSize(), g.intermediateSize(), g.numHiddenLayers(), g.numAttentionHeads(),
                g.numKeyValueHeads(), g.headDim(), g.ropeTheta(), g.ropeScaling(), f.rmsNormEps(), g.tieWordEmbeddings(), g.useSlidingWindow(),
                f.slidingWindowSize(), f.maxWindowLayers(), g.layerTypes(), g.maxPositionEmbeddings(), g.vocabSize(), f.bosTokenIds(),
                g.eosTokenIds(), f.torchDtype(), g.attentionBias(), g.moe(), f.extra());
    }

    @Test
    void whatLlamaCppWouldComputeDifferentlyIsRefused() throws Exception {
        Map<String, Object> sliding = new java.util.HashMap<>(qwen2());
        sliding.put("use_sliding_window", true);
        sliding.put("sliding_window", 8);
        sliding.put("max_window_layers", 1);
        refused(sliding, "layer 1 attends within a sliding window of 8 tokens");
        Map<String, Object> biased = new java.util.HashMap<>(qwen3());
        biased.put("attention_bias", true);
        refused(biased, "attention_bias is true");
        Map<String, Object> phi3 = new java.util.HashMap<>(qwen2());
        phi3.put("architectures", List.of("Phi3ForCausalLM"));
        phi3.put("model_type", "phi3");
        refused(phi3, "Phi3ForCausalLM has no GGUF layout in jtune");
        Map<String, Object> dense = new java.util.HashMap<>(qwen3());
        dense.putAll(Map.of("architectures", List.of("Qwen3MoeForCausalLM"), "model_type", "qwen3_moe", "moe_intermediate_size", 32,
                "num_experts", 4, "num_experts_per_tok", 2, "norm_topk_prob", true, "mlp_only_layers", List.of(1)));
        refused(dense, "layer 1 has a dense MLP");
        dense.put("mlp_only_layers", List.of());
        dense.put("norm_topk_prob", false);
        refused(dense, "norm_topk_prob is false");
        Map<String, Object> gemma = Map.ofEntries(Map.entry("architectures", List.of("Gemma3ForCausalLM")), Map.entry("hidden_size", 40),
                Map.entry("intermediate_size", 72), Map.entry("num_hidden_layers", 2), Map.entry("num_attention_heads", 4),
                Map.entry("head_dim", 16), Map.entry("query_pre_attn_scalar", 12), Map.entry("vocab_size", 259));
        refused(gemma, "query_pre_attn_scalar 12.0 is not head_dim (16)");
    }

    private void refused(Map<String, Object> config, String part) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "refused");
        TinyCheckpoint.write(dir, config);
        JtuneException e = assertThrows(JtuneException.class, () -> HfToGguf.export(dir, GgmlType.F32, tmp.resolve("no.gguf")));
        assertTrue(e.getMessage().contains("cannot export to GGUF: " + part), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("no.gguf")));
    }

    private static int[] greedy(CausalLM model) throws Exception {
        SamplingConfig cfg = SamplingConfig.greedy(N).withStopIds(List.of());
        try (var g = NoGrad.enter()) {
            return Generator.generate(model, List.of(PROMPT), cfg, null, null).getFirst().outputIds();
        }
    }
}
