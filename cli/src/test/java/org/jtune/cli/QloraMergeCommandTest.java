package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraAdapters;
import org.jtune.models.lora.LoraConfig;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.nf4.Nf4Checkpoints;
import org.jtune.models.nf4.QloraBase;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A QLoRA adapter (LoRA pairs with non-zero B on stories260K's NF4 base, recorded as such) merges into the
 * dequantized NF4 base: the merged F32 folder answers as NF4 base + adapter (merge_report.json: max |logit
 * diff| at F32 rounding, every greedy token the same), and generate --quantize nf4 --adapter runs the adapter
 * on the base it was trained on, giving the merged model's tokens.
 */
class QloraMergeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void aQloraAdapterMergesIntoTheDequantizedNf4Base() throws Exception {
        Path base = SharedData.require("models/stories260K");
        Path adapter = dir.resolve("adapter");
        try (CausalLM m = Architectures.load(base)) {
            Nf4Checkpoints.quantize(m.weights(), true);
            var params = LoraAdapters.attach(m, Adapters.DEFAULT, new LoraConfig(8, 16f, 0f, List.of("all-linear"), false, List.of()), new Rng(3), false);
            Rng rng = new Rng(4);
            for (var e : params.entrySet()) {                        // PEFT initialises B to 0: give it values, as training would
                if (!e.getKey().contains("lora_B")) continue;
                Variable p = e.getValue();
                Ops.copyInto(Tensor.randn(rng, 0.05f, p.shape()), p.value());
            }
            PeftFormat.save(adapter, m, Adapters.DEFAULT, base.toString(), staged -> QloraBase.record(staged, true));
        }
        Path merged = dir.resolve("merged");
        CliRun r = CliRun.of("merge", "--model", base.toString(), "--adapter", adapter.toString(), "--out", merged.toString());
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.err().contains("dequantized NF4 base"), r.err());
        JsonNode report = JSON.readTree(merged.resolve("merge_report.json").toFile());
        assertTrue(report.get("max_abs_logit_diff").asDouble() < 1e-3, report.toString());
        assertEquals(1.0, report.get("token_agreement").asDouble(), report.toString());
        try (CausalLM m = Architectures.load(merged)) {
            assertEquals(DType.F32, m.weights().named().get("model.layers.0.self_attn.q_proj.weight").value().dtype());
        }
        String prompt = "Once upon a time";
        CliRun a = CliRun.of("generate", "--model", merged.toString(), "--prompt", prompt, "--max-new-tokens", "12", "--json");
        CliRun b = CliRun.of("generate", "--model", base.toString(), "--adapter", adapter.toString(), "--quantize", "nf4",
                "--prompt", prompt, "--max-new-tokens", "12", "--json");
        assertEquals(0, a.exit(), a.toString());
        assertEquals(0, b.exit(), b.toString());
        assertEquals(JSON.readTree(a.out()).get("output_ids"), JSON.readTree(b.out()).get("output_ids"));
    }
}
