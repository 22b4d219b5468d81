package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.PromptFormat;
import org.jtune.models.gguf.HfToGguf;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraAdapters;
import org.jtune.models.lora.LoraConfig;
import org.jtune.models.lora.PeftFormat;
import org.jtune.quant.gguf.GgufFile;
import org.jtune.quant.gguf.GgufReader;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `jtune export gguf --adapter` carries the prompt format a run on model + adapter uses: stories260K (no template
 * of its own) with an adapter that records chatml and a system message exports a GGUF whose tokenizer.chat_template
 * and jtune.system_message are the adapter's; generate --chat and eval on the file render the same prompt ids and
 * answer as the folder with --adapter does; the Modelfile has the SYSTEM line. A system message the Modelfile cannot
 * carry to Ollama unchanged is refused before anything is written, and --system-message replaces it. A GGUF without a
 * template fails generate --chat with a line naming the .gguf file, not the temporary folder that describes it.
 */
class GgufExportPromptFormatTest {
    private static final String SYSTEM = "Answer with one word.";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void theAdaptersTemplateAndSystemMessageGoIntoTheGguf() throws Exception {
        Path base = SharedData.require("models/stories260K");
        Path adapter = dir.resolve("adapter");
        try (CausalLM m = Architectures.load(base)) {
            var params = LoraAdapters.attach(m, Adapters.DEFAULT, new LoraConfig(4, 8f, 0f, List.of("all-linear"), false, List.of()), new Rng(3), false);
            Rng rng = new Rng(4);
            for (var e : params.entrySet()) {                        // PEFT initialises B to 0: give it values, as training would
                if (!e.getKey().contains("lora_B")) continue;
                Variable p = e.getValue();
                Ops.copyInto(Tensor.randn(rng, 0.05f, p.shape()), p.value());
            }
            PeftFormat.save(adapter, m, Adapters.DEFAULT, base.toString(),
                    staged -> PromptFormat.write(staged, base, ChatTemplate.named("chatml"), SYSTEM));
        }
        Path gguf = dir.resolve("out/b15-f32.gguf");
        Files.createDirectories(gguf.getParent());
        CliRun export = CliRun.of("export", "gguf", "--model", base.toString(), "--adapter", adapter.toString(), "--type", "f32",
                "--out", gguf.toString());
        assertEquals(0, export.exit(), export.toString());
        try (GgufFile f = GgufReader.open(gguf)) {
            assertEquals(ChatTemplate.named("chatml").source(), f.metadata().getString("tokenizer.chat_template"));
            assertEquals(SYSTEM, f.metadata().getString(HfToGguf.SYSTEM_MESSAGE_KEY));
        }
        String modelfile = Files.readString(gguf.resolveSibling("Modelfile"));
        assertTrue(modelfile.contains("SYSTEM \"\"\"" + SYSTEM + "\"\"\"\n") && modelfile.contains("TEMPLATE"), modelfile);

        String folder = generate("--model", base.toString(), "--adapter", adapter.toString());
        assertEquals(folder, generate("--model", gguf.toString()), "the GGUF renders the prompt and answers as model + adapter");
        assertNotEquals(generate("--model", gguf.toString(), "--system", ""), folder, "the default really is the recorded system message");

        Path test = Files.writeString(dir.resolve("test.jsonl"), """
                {"messages":[{"role":"user","content":"Tom had a red ball."},{"role":"assistant","content":"ball"}]}
                {"messages":[{"role":"user","content":"Lily saw a big dog."},{"role":"assistant","content":"dog"}]}
                """);
        assertEquals(predictions(test, "a", "--model", base.toString(), "--adapter", adapter.toString()),
                predictions(test, "b", "--model", gguf.toString()), "eval on the GGUF asks as on the folder");
    }

    @Test
    void aSystemMessageTheModelfileCannotCarryIsRefusedBeforeWritingAndCanBeReplaced() throws Exception {
        Path base = SharedData.require("models/stories260K");
        Path trained = Files.createDirectories(dir.resolve("trained"));   // a fully fine-tuned model folder, as training writes it
        try (var files = Files.list(base)) {
            for (Path f : files.toList()) if (Files.isRegularFile(f)) Files.copy(f, trained.resolve(f.getFileName()));
        }
        PromptFormat.write(trained, trained, ChatTemplate.named("chatml"), "Answer between quotes like these: \"\"\"\nthen stop.");
        Path out = Files.createDirectories(dir.resolve("out"));
        CliRun refused = CliRun.of("export", "gguf", "--model", trained.toString(), "--type", "f32", "--out", out.resolve("t.gguf").toString());
        assertTrue(refused.failedWithOneLine("export gguf", "\"\"\"", "line 1", "--system-message"), refused.toString());
        try (var left = Files.list(out)) {
            assertEquals(List.of(), left.toList(), "nothing is written");
        }

        CliRun replaced = CliRun.of("export", "gguf", "--model", trained.toString(), "--type", "f32", "--out", out.resolve("t.gguf").toString(),
                "--system-message", "Say \"\"\"yes\"\"\" or no.");
        assertEquals(0, replaced.exit(), replaced.toString());
        try (GgufFile f = GgufReader.open(out.resolve("t.gguf"))) {
            assertEquals("Say \"\"\"yes\"\"\" or no.", f.metadata().getString(HfToGguf.SYSTEM_MESSAGE_KEY));
        }
        assertTrue(Files.readString(out.resolve("Modelfile")).contains("\nSYSTEM \"\"\"Say \"\"\"yes\"\"\" or no.\"\"\"\n"));

        CliRun none = CliRun.of("export", "gguf", "--model", trained.toString(), "--type", "f32", "--out", out.resolve("n.gguf").toString(),
                "--system-message", "");
        assertEquals(0, none.exit(), none.toString());
        assertFalse(Files.readString(out.resolve("n.Modelfile")).contains("SYSTEM"));
    }

    @Test
    void aGgufWithoutATemplateIsNamedInTheError() throws Exception {
        Path base = SharedData.require("models/stories260K");
        Path gguf = dir.resolve("plain.gguf");
        CliRun export = CliRun.of("export", "gguf", "--model", base.toString(), "--type", "f32", "--out", gguf.toString());
        assertEquals(0, export.exit(), export.toString());
        CliRun chat = CliRun.of("generate", "--model", gguf.toString(), "--chat", "--prompt", "hi", "--max-new-tokens", "2");
        assertTrue(chat.failedWithOneLine("generate", "plain.gguf", "tokenizer.chat_template", "--chat-template"), chat.toString());
        assertFalse(chat.err().contains("jtune-gguf-"), chat.toString());
    }

    /** The prompt and output ids of `generate --chat --json` for one prompt. */
    private static String generate(String... model) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("generate"));
        args.addAll(List.of(model));
        args.addAll(List.of("--chat", "--prompt", "Tom had a red ball.", "--max-new-tokens", "8", "--json"));
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.toString());
        JsonNode o = JSON.readTree(r.out().strip());
        return o.get("prompt_ids").toString() + " -> " + o.get("output_ids");
    }

    /** The predictions of an eval run, one "id prediction" per line. */
    private String predictions(Path test, String out, String... model) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("eval"));
        args.addAll(List.of(model));
        args.addAll(List.of("--data", test.toString(), "--max-new-tokens", "6", "--out", dir.resolve(out).toString(), "--task", "generation"));
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.toString());
        StringBuilder sb = new StringBuilder();
        for (String line : Files.readAllLines(dir.resolve(out).resolve("predictions.jsonl"))) {
            JsonNode p = JSON.readTree(line);
            sb.append(p.get("id").asText()).append(' ').append(p.get("prediction").asText()).append('\n');
        }
        return sb.toString();
    }
}
