package org.jtune.models.nf4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.io.SafetensorsReader;
import org.jtune.models.weights.WeightSource;
import org.jtune.quant.nf4.Nf4Tensor;
import org.jtune.tensor.Tensor;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bitsandbytes-layout NF4 checkpoint made at test time from stories260K (written from the published
 * layout: packed codes, absmax, quant_map, nested_absmax, nested_quant_map, the packed quant state, and
 * config.json's quantization_config) loads, and generates the same greedy ids as a model built from its
 * dequantized F32 weights. Bad companions are refused naming the tensor.
 */
class BnbNf4CheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void aSavedNf4CheckpointGeneratesAsItsDequantizedForm() throws Exception {
        Path base = SharedData.require("models/stories260K");
        for (boolean dq : new boolean[] {true, false}) {
            Path out = tmp.resolve(dq ? "nf4-dq" : "nf4");
            Set<String> quantized = Nf4Checkpoints.write(base, out, dq);
            assertEquals(35, quantized.size());                          // 5 layers × 7 projections
            try (SafetensorsReader r = SafetensorsReader.open(out)) {
                String w = "model.layers.0.mlp.down_proj.weight";           // 64×172: blocks run across rows
                assertEquals(org.jtune.tensor.DType.U8, r.get(w).dtype());
                assertArrayEquals(new int[] {64 * 172 / 2, 1}, r.get(w).shape());
                assertTrue(r.contains(w + ".quant_map"));
                assertEquals(dq, r.contains(w + ".nested_absmax"));
                assertEquals(dq, r.contains(w + ".nested_quant_map"));
                assertTrue(r.contains(w + BnbNf4Checkpoint.STATE_SUFFIX));
                assertEquals(dq ? org.jtune.tensor.DType.U8 : org.jtune.tensor.DType.F32, r.get(w + ".absmax").dtype());
                assertFalse(r.contains("model.embed_tokens.weight.absmax"), "embeddings stay full precision");
                String state = new String(r.get(w + BnbNf4Checkpoint.STATE_SUFFIX).storage().segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                assertTrue(state.startsWith("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [64, 172]"), state);
            }
            assertTrue(Files.readString(out.resolve("config.json")).contains("\"bnb_4bit_quant_type\" : \"nf4\""));

            Map<String, Tensor> f32 = new LinkedHashMap<>();
            try (SafetensorsReader r = SafetensorsReader.open(out)) {
                WeightSource deq = Nf4Checkpoints.dequantized(WeightSource.of(r));
                for (String n : deq.names()) f32.put(n, Tensor.of(deq.get(n).toFloatArray(), deq.get(n).shape()));
                Nf4Tensor q = BnbNf4Checkpoint.read(WeightSource.of(r), "model.layers.2.self_attn.q_proj.weight");
                float[] o;
                try (CausalLM m = Architectures.load(base)) {
                    o = m.weights().named().get("model.layers.2.self_attn.q_proj.weight").value().toFloatArray();
                }
                float[] d = q.dequantizeAll();
                double err = 0, ref = 0;
                for (int i = 0; i < o.length; i++) {
                    err += (o[i] - d[i]) * (double) (o[i] - d[i]);
                    ref += o[i] * (double) o[i];
                }
                assertTrue(Math.sqrt(err / ref) < 0.12, "NF4 relative RMS error " + Math.sqrt(err / ref));
            }
            CausalLM reference = Architectures.of(Architectures.readConfig(base), f32);
            try (CausalLM nf4 = Architectures.load(out); reference) {
                assertEquals(org.jtune.tensor.DType.BLOCK, nf4.weights().named().get("model.layers.4.mlp.down_proj.weight").value().dtype(),
                        "the 4-bit weights stay 4-bit in memory");
                assertEquals(org.jtune.tensor.DType.F32, nf4.weights().named().get("model.embed_tokens.weight").value().dtype());
                for (int[] prompt : List.of(new int[] {1, 403, 407, 261}, new int[] {1, 22, 80, 300, 17})) {
                    SamplingConfig cfg = SamplingConfig.greedy(40);
                    int[] want = Generator.generate(reference, List.of(prompt), cfg, null, null).getFirst().outputIds();
                    int[] got = Generator.generate(nf4, List.of(prompt), cfg, null, null).getFirst().outputIds();
                    assertArrayEquals(want, got, "greedy ids" + (dq ? " (double quantization)" : ""));
                }
            }
        }
    }

    @Test
    void missingOrWrongCompanionsAreNamed() throws Exception {
        Path base = SharedData.require("models/stories260K");
        Path out = tmp.resolve("nf4");
        Nf4Checkpoints.write(base, out, true);
        Map<String, Tensor> all = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            for (String n : r.names()) all.put(n, Tensor.of(new float[0], 0));
            String w = "model.layers.1.self_attn.k_proj.weight";
            Map<String, Tensor> broken = new LinkedHashMap<>();
            for (String n : r.names()) if (!n.equals(w + ".nested_absmax")) broken.put(n, r.get(n));
            JtuneException e = assertThrows(JtuneException.class, () -> BnbNf4Checkpoint.read(WeightSource.of(broken, "broken.safetensors"), w));
            assertTrue(e.getMessage().contains(w + ".nested_absmax"), e.getMessage());
            broken.put(w + ".nested_absmax", r.get(w + ".nested_absmax"));
            broken.put(w + ".quant_map", Tensor.of(new float[16], 16));
            e = assertThrows(JtuneException.class, () -> BnbNf4Checkpoint.read(WeightSource.of(broken, "broken.safetensors"), w));
            assertTrue(e.getMessage().contains(w + ".quant_map"), e.getMessage());
        }
    }

    @Test
    void quantizeOnLoadKeepsEmbeddingsAndAnUntiedHead() {
        var c = org.jtune.models.config.LlamaConfig.builder().architecture(org.jtune.models.config.LlamaConfig.LLAMA).modelType("llama")
                .hiddenSize(64).intermediateSize(130).numHiddenLayers(1).numAttentionHeads(4).numKeyValueHeads(2).headDim(16)
                .ropeTheta(10000).rmsNormEps(1e-5).tieWordEmbeddings(false).maxPositionEmbeddings(64).vocabSize(100)
                .bosTokenIds(List.of(1)).eosTokenIds(List.of(2)).torchDtype("float32").build();
        try (CausalLM m = Architectures.random(c, new org.jtune.tensor.Rng(2), 0.02f)) {
            List<String> done = Nf4Checkpoints.quantize(m.weights(), true);
            assertEquals(7, done.size(), done.toString());
            Map<String, org.jtune.autograd.Variable> w = m.weights().named();
            assertEquals(org.jtune.tensor.DType.BLOCK, w.get("model.layers.0.mlp.down_proj.weight").value().dtype()); // 64×130
            assertEquals(org.jtune.tensor.DType.F32, w.get("lm_head.weight").value().dtype());
            assertEquals(org.jtune.tensor.DType.F32, w.get("model.embed_tokens.weight").value().dtype());
        }
    }
}
