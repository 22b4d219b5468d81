package org.jtune.cli.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.cli.Main;
import org.jtune.testing.SharedData;
import org.jtune.train.recipe.RecipeReader;
import org.jtune.train.run.FineTune;

/**
 * What the fault scenarios work on, all small so a child JVM runs a whole command in seconds: a copy
 * of stories260K (so that nothing in ../shared can be harmed), eight short chat examples, and a
 * six-step LoRA recipe that saves a checkpoint after every step. Reference outputs come from runs in
 * this JVM, uninterrupted; killed and resumed children must reproduce them byte for byte.
 */
final class FaultFixture {
    final Path tmp, model, data, test;

    FaultFixture(Path tmp) throws Exception {
        this.tmp = tmp;
        Path shared = SharedData.require("models/stories260K");
        model = Files.createDirectories(tmp.resolve("stories260K"));
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                "generation_config.json")) {
            Files.copy(shared.resolve(f), model.resolve(f));
        }
        String[][] pairs = {{"my card was charged twice", "duplicate"}, {"where is my transfer", "transfer"},
                {"the fee is too high", "fee"}, {"refund my payment please", "refund"}, {"cash machine took my card", "card"},
                {"I was charged twice today", "duplicate"}, {"transfer has not arrived", "transfer"}, {"why a fee here", "fee"}};
        List<String> lines = new ArrayList<>();
        for (String[] p : pairs) {
            lines.add("{\"messages\": [{\"role\": \"user\", \"content\": \"" + p[0] + "\"}, {\"role\": \"assistant\", \"content\": \"" + p[1] + "\"}]}");
        }
        data = Files.write(tmp.resolve("train.jsonl"), lines);
        test = Files.write(tmp.resolve("test.jsonl"), lines);
    }

    /** A LoRA recipe: {@code steps} steps, a checkpoint after each, one thread (bit-reproducible across processes). */
    Path recipe(String name, int steps, long seed, String extra) throws Exception {
        return Files.writeString(tmp.resolve(name + ".yaml"), """
                base_model: %s
                datasets:
                  - path: %s
                    type: chat
                chat_template: llama2
                sequence_len: 64
                adapter: lora
                lora_r: 2
                lora_alpha: 4
                lora_target_modules: [q_proj, v_proj]
                learning_rate: 0.01
                max_steps: %d
                micro_batch_size: 2
                save_steps: 1
                save_total_limit: 2
                threads: 1
                seed: %d
                output_dir: %s
                %s
                """.formatted(model, data, steps, seed, tmp.resolve(name + "-unused"), extra));
    }

    /** Trains {@code recipe} in this JVM into {@code runDir} and returns its adapter folder. */
    Path train(Path recipe, Path runDir) throws Exception {
        return FineTune.run(RecipeReader.read(recipe), runDir, false, new FineTune.Listener() {}).output();
    }

    /** `jtune ARGS` in this JVM, which must succeed. */
    static void jtune(String... args) {
        assertEquals(0, Main.run(args), "jtune " + String.join(" ", args));
    }
}
