package org.jtune.models.lora;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.TinyModelFolders;
import org.jtune.models.arch.Architectures;
import org.jtune.models.io.SafetensorsReader;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An adapter is checked against its config and its base: the recorded base fingerprint (another base
 * refused unless allowed), a rank that differs from r, modules outside target_modules, tensors for
 * layers the model lacks, NaN/Inf; and it is saved as a whole folder.
 */
class AdapterChecksTest {
    private static final String Q0 = "base_model.model.model.layers.0.self_attn.q_proj";

    @Test
    void anAdapterRecordsItsBaseAndRefusesAnother(@TempDir Path tmp) throws Exception {
        Path a = TinyModelFolders.write(tmp.resolve("base-a"), 1), b = TinyModelFolders.write(tmp.resolve("base-b"), 2);
        Path adapter = trainedAdapter(a, tmp.resolve("adapter"));
        try (SafetensorsReader r = SafetensorsReader.open(adapter.resolve(PeftFormat.WEIGHTS_FILE))) {
            assertTrue(r.metadata().get(PeftFormat.BASE_FINGERPRINT_KEY).matches("[0-9a-f]{64}"), r.metadata().toString());
        }
        try (CausalLM onA = Architectures.load(a)) {
            PeftFormat.load(adapter, onA); // its own base
        }
        Files.copy(a, tmp.resolve("copy-of-a"));
        Files.createDirectories(tmp.resolve("copy-of-a"));
        for (String f : List.of("config.json", "model.safetensors")) Files.copy(a.resolve(f), tmp.resolve("copy-of-a").resolve(f),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (CausalLM copy = Architectures.load(tmp.resolve("copy-of-a"))) {
            PeftFormat.load(adapter, copy); // a copy is the same base
        }
        try (CausalLM onB = Architectures.load(b)) {
            JtuneException e = assertThrows(JtuneException.class, () -> PeftFormat.load(adapter, onB));
            assertTrue(e.getMessage().contains("was trained on another base model") && e.getMessage().contains("--allow-base-mismatch")
                    && e.getMessage().contains(b.toString()), e.getMessage());
            PeftFormat.load(adapter, onB, Adapters.DEFAULT, true); // allowed on purpose
        }
    }

    @Test
    void theConfigAndTheTensorsMustAgree(@TempDir Path tmp) throws Exception {
        Path base = TinyModelFolders.write(tmp.resolve("base"), 1);
        Path adapter = trainedAdapter(base, tmp.resolve("adapter"));
        String config = Files.readString(adapter.resolve(PeftFormat.CONFIG_FILE));
        try (CausalLM m = Architectures.load(base)) {
            Files.writeString(adapter.resolve(PeftFormat.CONFIG_FILE), config.replace("\"r\" : 2", "\"r\" : 4"));
            JtuneException e = assertThrows(JtuneException.class, () -> PeftFormat.load(adapter, m, "r"));
            assertTrue(e.getMessage().contains("has rank 2 but adapter_config.json says r = 4"), e.getMessage());

            Files.writeString(adapter.resolve(PeftFormat.CONFIG_FILE), config.replace("\"q_proj\", \"v_proj\"", "\"v_proj\""));
            e = assertThrows(JtuneException.class, () -> PeftFormat.load(adapter, m, "targets"));
            assertTrue(e.getMessage().contains("is not among target_modules [v_proj]"), e.getMessage());
        }
        Files.writeString(adapter.resolve(PeftFormat.CONFIG_FILE), config);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(adapter.resolve(PeftFormat.WEIGHTS_FILE))) {
            for (String n : r.names()) tensors.put(n, r.get(n).copy());
            Map<String, String> meta = r.metadata();
            tensors.put("base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight", Tensor.zeros(2, 32));
            tensors.put("base_model.model.model.layers.7.self_attn.q_proj.lora_B.weight", Tensor.zeros(32, 2));
            SafetensorsWriter.defaults().withMetadata(meta).writeFile(adapter.resolve(PeftFormat.WEIGHTS_FILE), tensors);
        }
        try (CausalLM m = Architectures.load(base)) {
            JtuneException e = assertThrows(JtuneException.class, () -> PeftFormat.load(adapter, m));
            assertTrue(e.getMessage().contains("layers.7") && e.getMessage().contains("does not belong to a projection of this model"), e.getMessage());
        }
        tensors.remove("base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight");
        tensors.remove("base_model.model.model.layers.7.self_attn.q_proj.lora_B.weight");
        tensors.get(Q0 + ".lora_B.weight").set(Float.NaN, 3, 1);
        SafetensorsWriter.defaults().withNonFiniteAllowed().writeFile(adapter.resolve(PeftFormat.WEIGHTS_FILE), tensors);
        try (CausalLM m = Architectures.load(base)) {
            JtuneException e = assertThrows(JtuneException.class, () -> PeftFormat.load(adapter, m, Adapters.DEFAULT, true));
            assertTrue(e.getMessage().contains(Q0 + ".lora_B.weight holds NaN at [3, 1]"), e.getMessage());
        }
    }

    @Test
    void aSaveReplacesTheWholeFolderAndRefusesAForeignOne(@TempDir Path tmp) throws Exception {
        Path base = TinyModelFolders.write(tmp.resolve("base"), 1);
        Path adapter = trainedAdapter(base, tmp.resolve("adapter"));
        Files.writeString(adapter.resolve("stale.txt"), "from before");
        trainedAdapter(base, adapter);
        assertFalse(Files.exists(adapter.resolve("stale.txt")), "the folder is replaced whole");
        Files.createDirectories(tmp.resolve("docs"));
        Files.writeString(tmp.resolve("docs/notes.txt"), "mine");
        assertThrows(JtuneException.class, () -> trainedAdapter(base, tmp.resolve("docs")));
        assertEquals("mine", Files.readString(tmp.resolve("docs/notes.txt")));
    }

    /** A rank-2 adapter on q_proj and v_proj with non-zero B, saved from a model loaded from {@code base}. */
    static Path trainedAdapter(Path base, Path out) throws Exception {
        try (CausalLM m = Architectures.load(base)) {
            LoraConfig c = new LoraConfig(2, 4f, 0f, List.of("q_proj", "v_proj"), false, List.of());
            Map<String, Variable> params = LoraAdapters.attach(m, Adapters.DEFAULT, c, new Rng(3), false);
            Rng rng = new Rng(4);
            for (var e : params.entrySet()) Ops.copyInto(Tensor.randn(rng, 0.1f, e.getValue().value().shape()), e.getValue().value());
            PeftFormat.save(out, m, Adapters.DEFAULT, base.toString());
        }
        return out;
    }
}
