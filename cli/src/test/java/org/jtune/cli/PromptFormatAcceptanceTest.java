package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.PromptFormat;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10's acceptance: an adapter trained with a chat template and a system message (stories260K has
 * no template of its own) carries both; eval and generate --chat use them without flags and answer as
 * with the flags; the merged model carries them too and answers the same; the base alone, without a
 * flag, is refused with a message naming --chat-template.
 */
class PromptFormatAcceptanceTest {
    private static final String SYSTEM = "Answer with one word.";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void adapterAndMergedModelCarryTheTemplateAndSystemMessage() throws Exception {
        Path base = SharedData.require("models/stories260K");
        StringBuilder train = new StringBuilder(), test = new StringBuilder();
        String[][] rows = {{"Tom had a red ball.", "ball"}, {"Lily saw a big dog.", "dog"}, {"The cat sat on a mat.", "cat"},
                {"Sue ate a sweet cake.", "cake"}, {"Ben rode his blue bike.", "bike"}, {"A bird sang in the tree.", "bird"}};
        for (String[] r : rows) {
            train.append("{\"messages\":[{\"role\":\"system\",\"content\":\"Old system prompt.\"},{\"role\":\"user\",\"content\":\"")
                    .append(r[0]).append("\"},{\"role\":\"assistant\",\"content\":\"").append(r[1]).append("\"}]}\n");
            test.append("{\"messages\":[{\"role\":\"user\",\"content\":\"").append(r[0])
                    .append("\"},{\"role\":\"assistant\",\"content\":\"").append(r[1]).append("\"}]}\n");
        }
        Files.writeString(dir.resolve("train.jsonl"), train);
        Path testSet = Files.writeString(dir.resolve("test.jsonl"), test);
        Path recipe = Files.writeString(dir.resolve("recipe.yaml"), """
                base_model: %s
                datasets:
                  - path: train.jsonl
                    type: chat
                chat_template: chatml
                system_message: "%s"
                sequence_len: 256
                max_steps: 4
                micro_batch_size: 2
                gradient_accumulation_steps: 1
                learning_rate: 0.01
                lora_target_modules: all-linear
                warmup_ratio: 0.0
                seed: 7
                """.formatted(base, SYSTEM));
        Path run = dir.resolve("run");
        EvalCommandTest.Run trained = EvalCommandTest.run("train", recipe.toString(), "--output-dir", run.toString());
        assertEquals(0, trained.exit(), trained.err());
        Path adapter = run.resolve("adapter");

        // the adapter folder: PEFT files, the base's tokenizer, the resolved template and the system message
        assertTrue(Files.isRegularFile(adapter.resolve("adapter_config.json")));
        assertTrue(Files.isRegularFile(adapter.resolve("tokenizer.json")));
        JsonNode config = JSON.readTree(adapter.resolve("tokenizer_config.json").toFile());
        assertEquals(ChatTemplate.named("chatml").source(), config.get("chat_template").asText());
        assertEquals(SYSTEM, config.get(PromptFormat.SYSTEM_MESSAGE_KEY).asText());

        // the base model has no template: without a flag it is refused, and the message names the flag
        EvalCommandTest.Run bare = EvalCommandTest.run("eval", "--model", base.toString(), "--data", testSet.toString());
        assertEquals(2, bare.exit());
        assertTrue(bare.err().contains("--chat-template"), bare.err());

        String[] flags = {"--chat-template", "chatml", "--system-message", SYSTEM};
        String withoutFlags = predictions("a", "--model", base.toString(), "--adapter", adapter.toString());
        String withFlags = predictions("b", "--model", base.toString(), "--adapter", adapter.toString(), flags[0], flags[1], flags[2], flags[3]);
        assertEquals(withFlags, withoutFlags);
        String chat = generate("--model", base.toString(), "--adapter", adapter.toString());
        assertEquals(generate("--model", base.toString(), "--adapter", adapter.toString(), "--chat-template", "chatml", "--system", SYSTEM), chat);
        // the prompt without the system message differs: the default really is the recorded one
        assertNotEquals(generate("--model", base.toString(), "--adapter", adapter.toString(), "--system", ""), chat);

        // merged: the template and system message go into its tokenizer_config.json, and it answers the same
        Path merged = dir.resolve("merged");
        EvalCommandTest.Run m = EvalCommandTest.run("merge", "--model", base.toString(), "--adapter", adapter.toString(), "--out", merged.toString());
        assertEquals(0, m.exit(), m.err());
        JsonNode mergedConfig = JSON.readTree(merged.resolve("tokenizer_config.json").toFile());
        assertEquals(ChatTemplate.named("chatml").source(), mergedConfig.get("chat_template").asText());
        assertEquals(SYSTEM, mergedConfig.get(PromptFormat.SYSTEM_MESSAGE_KEY).asText());
        assertEquals(withoutFlags, predictions("d", "--model", merged.toString()));
        assertEquals(chat, generate("--model", merged.toString()));
        assertFalse(chat.isBlank());
    }

    /** The predictions' text of an eval run, one "id prediction" per line. */
    private String predictions(String out, String... model) throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("eval"));
        args.addAll(java.util.List.of(model));
        args.addAll(java.util.List.of("--data", dir.resolve("test.jsonl").toString(), "--max-new-tokens", "6",
                "--out", dir.resolve(out).toString(), "--task", "generation"));
        EvalCommandTest.Run r = EvalCommandTest.run(args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        StringBuilder sb = new StringBuilder();
        for (String line : Files.readAllLines(dir.resolve(out).resolve("predictions.jsonl"))) {
            JsonNode p = JSON.readTree(line);
            sb.append(p.get("id").asText()).append(' ').append(p.get("prediction").asText()).append('\n');
        }
        return sb.toString();
    }

    /** The prompt and output ids of `generate --chat --json` for one prompt. */
    private static String generate(String... model) throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("generate"));
        args.addAll(java.util.List.of(model));
        args.addAll(java.util.List.of("--chat", "--prompt", "Tom had a red ball.", "--max-new-tokens", "8", "--json"));
        EvalCommandTest.Run r = EvalCommandTest.run(args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        JsonNode o = JSON.readTree(r.out().strip());
        return o.get("prompt_ids").toString() + " -> " + o.get("output_ids");
    }
}
