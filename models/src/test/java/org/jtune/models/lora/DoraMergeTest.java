package org.jtune.models.lora;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.io.SafetensorsReader;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A PEFT DoRA adapter (use_dora, lora_magnitude_vector per target module, as PEFT saves it) merged as PEFT merges it:
 * every merged row points where the row of W + scale·B·A points and has exactly its magnitude's length; an adapter
 * whose magnitudes are W's own row norms and whose B is zero (DoRA's initialisation) leaves the weights unchanged; the
 * unmerged use is refused, pointing to jtune merge; a DoRA config without its magnitudes is refused.
 */
class DoraMergeTest {
    private static final List<String> TARGETS = List.of("q_proj", "v_proj");

    /** A DoRA adapter folder for stories260K: random A and B (zero B with {@code init}), magnitudes random or W's row norms. */
    private static Path doraAdapter(Path out, Path base, boolean init, boolean withMagnitudes) throws Exception {
        LoraConfig config = new LoraConfig(4, 8f, 0f, TARGETS, false, List.of());
        try (CausalLM model = Architectures.load(base)) {
            Map<String, Variable> params = LoraAdapters.attach(model, Adapters.DEFAULT, config, new Rng(5), true);
            Rng rng = new Rng(6);
            if (!init) for (var e : params.entrySet()) if (e.getKey().endsWith("lora_B.weight")) Ops.copyInto(Tensor.randn(rng, 0.05f, e.getValue().shape()), e.getValue().value());
            PeftFormat.save(out, model, Adapters.DEFAULT, base.toString());
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Path file = out.resolve(PeftFormat.WEIGHTS_FILE);
            Map<String, String> metadata;
            try (SafetensorsReader r = SafetensorsReader.open(file)) {
                for (String n : r.names()) tensors.put(n, r.get(n).copy());
                metadata = r.metadata();
            }
            if (withMagnitudes) {
                for (LoraLinear lin : model.weights().projections()) {
                    if (lin.adapter(Adapters.DEFAULT) == null) continue;
                    float[] w = lin.weight().value().toFloatArray();
                    int rows = lin.outFeatures(), cols = lin.inFeatures();
                    float[] m = new float[rows];
                    for (int i = 0; i < rows; i++) {
                        double sq = 0;
                        for (int k = 0; k < cols; k++) sq += (double) w[i * cols + k] * w[i * cols + k];
                        m[i] = init ? (float) Math.sqrt(sq) : 0.5f + rng.nextFloat();
                    }
                    tensors.put(PeftFormat.moduleKey(lin.name()) + ".lora_magnitude_vector", Tensor.of(m, rows));
                }
            }
            SafetensorsWriter.defaults().withMetadata(metadata).writeFile(file, tensors);
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) json.readTree(out.resolve(PeftFormat.CONFIG_FILE).toFile());
        cfg.put("use_dora", true);
        Files.writeString(out.resolve(PeftFormat.CONFIG_FILE), json.writeValueAsString(cfg));
        return out;
    }

    @Test
    void mergedRowsPointAlongWPlusBaAndHaveTheirMagnitude(@TempDir Path tmp) throws Exception {
        Path base = SharedData.require("models/stories260K");
        Path adapter = doraAdapter(tmp.resolve("dora"), base, false, true);
        try (CausalLM model = Architectures.load(base); CausalLM plain = Architectures.load(base)) {
            Map<String, Tensor> magnitudes = PeftFormat.loadForMerge(adapter, model, Adapters.DEFAULT, false);
            assertEquals(2 * 5, magnitudes.size(), "q_proj and v_proj of 5 layers");
            PeftFormat.loadForMerge(adapter, plain, Adapters.DEFAULT, false);
            LoraMerge.mergeInto(plain, Adapters.DEFAULT); // W + scale·B·A, no rescaling
            LoraMerge.mergeInto(model, Adapters.DEFAULT, magnitudes);
            for (var e : magnitudes.entrySet()) {
                float[] dora = model.weights().get(e.getKey()).value().value().toFloatArray();
                float[] lora = plain.weights().get(e.getKey()).value().value().toFloatArray();
                float[] m = e.getValue().toFloatArray();
                int cols = dora.length / m.length;
                for (int i = 0; i < m.length; i++) {
                    double dot = 0, nd = 0, nl = 0;
                    for (int k = 0; k < cols; k++) {
                        dot += (double) dora[i * cols + k] * lora[i * cols + k];
                        nd += (double) dora[i * cols + k] * dora[i * cols + k];
                        nl += (double) lora[i * cols + k] * lora[i * cols + k];
                    }
                    assertEquals(m[i], Math.sqrt(nd), 1e-5 * m[i], e.getKey() + " row " + i + ": the magnitude's length");
                    assertEquals(1, dot / Math.sqrt(nd * nl), 1e-6, e.getKey() + " row " + i + ": the direction of W + scale·B·A");
                }
            }
        }
    }

    @Test
    void doraAtItsInitialisationMergesToTheBaseAndUnmergedUseIsRefused(@TempDir Path tmp) throws Exception {
        Path base = SharedData.require("models/stories260K");
        Path adapter = doraAdapter(tmp.resolve("init"), base, true, true);
        try (CausalLM model = Architectures.load(base); CausalLM original = Architectures.load(base)) {
            LoraMerge.mergeInto(model, Adapters.DEFAULT, PeftFormat.loadForMerge(adapter, model, Adapters.DEFAULT, false));
            for (LoraLinear lin : original.weights().projections()) {
                float[] want = lin.weight().value().toFloatArray(), got = model.weights().get(lin.name()).value().value().toFloatArray();
                for (int k = 0; k < want.length; k++) assertEquals(want[k], got[k], 1e-6f * (1 + Math.abs(want[k])), lin.name());
            }
            JtuneException e = assertThrows(JtuneException.class, () -> PeftFormat.load(adapter, original));
            assertTrue(e.getMessage().contains("use_dora") && e.getMessage().contains("jtune merge"), e.getMessage());
        }
        Path noMagnitudes = doraAdapter(tmp.resolve("bare"), base, false, false);
        try (CausalLM model = Architectures.load(base)) {
            JtuneException e = assertThrows(JtuneException.class, () -> PeftFormat.loadForMerge(noMagnitudes, model, Adapters.DEFAULT, false));
            assertTrue(e.getMessage().contains("lora_magnitude_vector is missing"), e.getMessage());
        }
    }
}
