package org.jtune.models.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.io.QuantizedCheckpoint;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.quant.GgmlType;
import org.jtune.quant.gguf.GgufFile;
import org.jtune.quant.gguf.GgufReader;
import org.jtune.tensor.DType;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GGUF in and the quantized folder, on stories260K: the F32 GGUF export loaded back (tensors mapped, q/k rows
 * un-permuted, config and tokenizer from the metadata) generates the Hugging Face folder's greedy ids exactly;
 * Q8_0 and Q4_0 files load with their matrices block-quantized in place; `jtune quantize`'s folder reads back
 * with the same bytes and the same output as quantize-on-load, and exports to GGUF as the matrices it holds; a damaged quantized folder gives a named error.
 */
class GgufModelLoadTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static int[] greedy(CausalLM m, int[] prompt, int n) throws JtuneException {
        return Generator.generate(m, List.of(prompt), SamplingConfig.greedy(n), null, null).getFirst().outputIds();
    }

    @Test
    void f32GgufGeneratesWhatTheHuggingFaceFolderGenerates() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        JsonNode ref = JSON.readTree(dir.resolve("reference.json").toFile());
        Path f32 = tmp.resolve("s.gguf");
        HfToGguf.export(dir, GgmlType.F32, f32);
        Path described;
        try (GgufFile f = GgufReader.open(f32)) {
            described = GgufModels.describe(f32, f);
        }
        Tokenizer hfTok = Tokenizer.load(dir), ggufTok = Tokenizer.load(described);
        try (CausalLM hf = Architectures.load(dir); CausalLM gg = Architectures.load(described)) {
            assertEquals(hf.config().hiddenSize(), gg.config().hiddenSize());
            for (JsonNode p : ref.get("prompts")) {
                String text = p.get("prompt").asText();
                int[] prompt = hfTok.encode(text, true);
                assertArrayEquals(prompt, ggufTok.encode(text, true), "tokenizer from GGUF metadata: " + text);
                assertArrayEquals(greedy(hf, prompt, 48), greedy(gg, prompt, 48), "greedy ids on " + text);
            }
        }
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0}) {
            Path q = tmp.resolve("s-" + type + ".gguf");
            HfToGguf.export(dir, type, q);
            try (CausalLM m = Architectures.load(q)) {
                assertEquals(DType.BLOCK, m.weights().get("model.layers.0.mlp.up_proj.weight").value().dtype(), type + ": kept quantized");
                int[] out = greedy(m, new int[] {1, 403}, 8);
                assertEquals(8, out.length);
            }
        }
    }

    @Test
    void quantizedFolderReadsBackAsQuantizedOnLoad() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        Path out = tmp.resolve("q");
        int[] prompt = {1, 403, 407, 261};
        int[] onLoad;
        try (CausalLM m = Architectures.load(dir, "q4_0")) {
            onLoad = greedy(m, prompt, 24);
            QuantizedCheckpoint.save(m, dir, out, "q4_0");
        }
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"quant_method\" : \"jtune\""));
        assertEquals(org.jtune.models.io.ModelFingerprint.of(dir), org.jtune.models.io.ModelFingerprint.of(out),
                "an adapter of the source applies to its quantized copy");
        try (CausalLM m = Architectures.load(out)) {
            assertEquals(DType.BLOCK, m.weights().get("model.layers.2.self_attn.q_proj.weight").value().dtype());
            assertEquals(DType.F32, m.weights().get("model.layers.2.mlp.down_proj.weight").value().dtype(), "172 columns: kept");
            assertArrayEquals(onLoad, greedy(m, prompt, 24));
        }
        // the quantized folder exports to GGUF as the matrices it holds (not its U8 rows): F32 gives their dequantized
        // values exactly, and the file generates what the folder generates
        Path gguf = tmp.resolve("q.gguf");
        HfToGguf.export(out, GgmlType.F32, gguf);
        float[] held;
        try (org.jtune.models.io.SafetensorsReader r = org.jtune.models.io.SafetensorsReader.open(out)) {
            held = QuantizedCheckpoint.decode(r).get("model.layers.2.self_attn.v_proj.weight").toFloatArray();
        }
        try (GgufFile f = GgufReader.open(gguf)) {
            assertEquals(GgmlType.F32, f.tensor("blk.2.attn_v.weight").type());
            assertArrayEquals(held, f.data("blk.2.attn_v.weight").toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED));
        }
        try (CausalLM m = Architectures.load(gguf)) {
            assertArrayEquals(onLoad, greedy(m, prompt, 24));
        }
        JtuneException e = assertThrows(JtuneException.class, () -> Architectures.load(dir, "q3_k"));
        assertTrue(e.getMessage().contains("q3_k"), e.getMessage());
    }
}
