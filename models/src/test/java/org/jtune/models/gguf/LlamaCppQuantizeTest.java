package org.jtune.models.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.quant.GgmlType;
import org.jtune.quant.gguf.GgufFile;
import org.jtune.quant.gguf.GgufReader;
import org.jtune.quant.gguf.GgufTensorInfo;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The other direction: GGUF files made by llama.cpp's own quantizer ({@code llama_model_quantize} in the
 * libllama.so node-llama-cpp ships, called through FFM — node-llama-cpp has no quantize command) from
 * jtune's F32 export of stories260K, read with GgufReader. Every tensor llama.cpp stored in the same type as
 * jtune's own export of that type has the very same bytes (both use ggml's reference quantizers), and
 * llama.cpp chose the same per-tensor types (fallbacks included).
 */
class LlamaCppQuantizeTest {
    @TempDir
    Path tmp;

    @Test
    void llamaCppQuantizedFilesReadBackAndMatchOurBytes() throws Throwable {
        Path model = SharedData.require("models/stories260K");
        Path f32 = tmp.resolve("f32.gguf");
        HfToGguf.export(model, GgmlType.F32, f32);
        List<String> report = new ArrayList<>();
        try (LlamaCppQuantizer llama = new LlamaCppQuantizer()) {
            for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0}) {
                Path theirs = tmp.resolve("llamacpp-" + type + ".gguf");
                assertEquals(0, llama.quantize(f32, theirs, HfToGguf.fileType(type)), "llama_model_quantize " + type);
                Path ours = tmp.resolve("jtune-" + type + ".gguf");
                HfToGguf.export(model, type, ours);
                report.add(type + ": " + sameFiles(theirs, ours, type) + " tensors byte-identical");
            }
        }
        assertTrue(report.size() == 2);
        System.out.println("[llama_model_quantize vs jtune] " + String.join("; ", report));
    }

    /**
     * Q4_K_M on a random Llama whose rows are whole 256-blocks (hidden 256, 8 layers, untied output):
     * llama.cpp's mixture (Q6_K for output and for attn_v/ffn_down of the use_more_bits layers, Q4_K
     * elsewhere) and its Q4_K/Q6_K bytes are jtune's Q4_K export, tensor for tensor.
     */
    @Test
    void q4kmMixtureAndKQuantBytesMatchLlamaCpp() throws Throwable {
        Path stories = SharedData.require("models/stories260K");
        Path dir = tmp.resolve("random-llama");
        java.nio.file.Files.createDirectories(dir);
        for (String f : new String[] {"tokenizer.json", "tokenizer_config.json"}) java.nio.file.Files.copy(stories.resolve(f), dir.resolve(f));
        int hidden = 256, ff = 512, layers = 8, heads = 4, kvHeads = 2, vocab = 512;
        org.jtune.models.config.LlamaConfig.builder().architecture(org.jtune.models.config.LlamaConfig.LLAMA).modelType("llama")
                .hiddenSize(hidden).intermediateSize(ff).numHiddenLayers(layers).numAttentionHeads(heads).numKeyValueHeads(kvHeads)
                .headDim(hidden / heads).vocabSize(vocab).maxPositionEmbeddings(256).tieWordEmbeddings(false).build().write(dir.resolve("config.json"));
        org.jtune.tensor.Rng rng = new org.jtune.tensor.Rng(7);
        java.util.Map<String, org.jtune.tensor.Tensor> w = new java.util.LinkedHashMap<>();
        w.put("model.embed_tokens.weight", org.jtune.tensor.Tensor.randn(rng, 0.02f, vocab, hidden));
        w.put("lm_head.weight", org.jtune.tensor.Tensor.randn(rng, 0.02f, vocab, hidden));
        w.put("model.norm.weight", org.jtune.tensor.Tensor.full(1f, hidden));
        int kv = kvHeads * hidden / heads;
        for (int i = 0; i < layers; i++) {
            String p = "model.layers." + i + ".";
            w.put(p + "input_layernorm.weight", org.jtune.tensor.Tensor.full(1f, hidden));
            w.put(p + "post_attention_layernorm.weight", org.jtune.tensor.Tensor.full(1f, hidden));
            w.put(p + "self_attn.q_proj.weight", org.jtune.tensor.Tensor.randn(rng, 0.02f, hidden, hidden));
            w.put(p + "self_attn.k_proj.weight", org.jtune.tensor.Tensor.randn(rng, 0.02f, kv, hidden));
            w.put(p + "self_attn.v_proj.weight", org.jtune.tensor.Tensor.randn(rng, 0.02f, kv, hidden));
            w.put(p + "self_attn.o_proj.weight", org.jtune.tensor.Tensor.randn(rng, 0.02f, hidden, hidden));
            w.put(p + "mlp.gate_proj.weight", org.jtune.tensor.Tensor.randn(rng, 0.02f, ff, hidden));
            w.put(p + "mlp.up_proj.weight", org.jtune.tensor.Tensor.randn(rng, 0.02f, ff, hidden));
            w.put(p + "mlp.down_proj.weight", org.jtune.tensor.Tensor.randn(rng, 0.02f, hidden, ff));
        }
        org.jtune.models.io.SafetensorsWriter.defaults().writeModel(dir, w);
        Path f32 = tmp.resolve("random-f32.gguf"), theirs = tmp.resolve("random-q4km-llamacpp.gguf"), ours = tmp.resolve("random-q4k-jtune.gguf");
        HfToGguf.export(dir, GgmlType.F32, f32);
        try (LlamaCppQuantizer llama = new LlamaCppQuantizer()) {
            assertEquals(0, llama.quantize(f32, theirs, HfToGguf.fileType(GgmlType.Q4_K)), "llama_model_quantize Q4_K_M");
        }
        HfToGguf.export(dir, GgmlType.Q4_K, ours);
        int n = sameFiles(theirs, ours, GgmlType.Q4_K);
        try (GgufFile f = GgufReader.open(ours)) {
            assertEquals(GgmlType.Q6_K, f.tensor("blk.0.attn_v.weight").type());
            assertEquals(GgmlType.Q4_K, f.tensor("blk.2.attn_v.weight").type());
            assertEquals(GgmlType.Q6_K, f.tensor("output.weight").type());
        }
        System.out.println("[llama_model_quantize Q4_K_M vs jtune Q4_K] " + n + " tensors byte-identical");
    }

    /** Asserts that every tensor has the same type, dims and bytes in both files; returns how many there are. */
    static int sameFiles(Path theirs, Path ours, GgmlType type) throws Exception {
        int same = 0;
        try (GgufFile a = GgufReader.open(theirs); GgufFile b = GgufReader.open(ours)) {
            assertEquals(HfToGguf.fileType(type), a.metadata().getLong("general.file_type"));
            assertEquals(b.tensors().size(), a.tensors().size());
            for (GgufTensorInfo t : a.tensors()) {
                GgufTensorInfo o = b.tensor(t.name());
                assertEquals(o.type(), t.type(), type + " " + t.name() + ": llama.cpp chose " + t.type() + ", jtune " + o.type());
                assertArrayEquals(o.dims(), t.dims(), t.name());
                assertArrayEquals(b.data(o).toArray(ValueLayout.JAVA_BYTE), a.data(t).toArray(ValueLayout.JAVA_BYTE),
                        type + " " + t.name() + " (" + t.type() + ") bytes");
                same++;
            }
        }
        return same;
    }
}
