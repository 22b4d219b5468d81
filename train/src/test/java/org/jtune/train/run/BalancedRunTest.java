package org.jtune.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.tensor.Parallel;
import org.jtune.testing.SharedData;
import org.jtune.train.recipe.RecipeConfig;
import org.jtune.train.recipe.RecipeReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** balance: oversample in a recipe: the training split grows, the run says so and writes balance.json. */
class BalancedRunTest {
    @Test
    void oversampledRunReportsCountsBeforeAndAfter(@TempDir Path tmp) throws Exception {
        Path model = SharedData.require("models/stories260K");
        List<String> all = Files.readAllLines(SharedData.require("data/banking15/train.jsonl"));
        // a skewed subset: 12 rows of the first row's label, 3 of the second label seen
        String first = label(all.getFirst());
        String second = null;
        List<String> lines = new ArrayList<>();
        int a = 0, b = 0;
        for (String l : all) {
            String label = label(l);
            if (label.equals(first) && a < 12) { lines.add(l); a++; }
            else if (!label.equals(first) && (second == null || label.equals(second)) && b < 3) { second = label; lines.add(l); b++; }
        }
        Path data = Files.write(tmp.resolve("train.jsonl"), lines);
        Path recipe = Files.writeString(tmp.resolve("recipe.yaml"), """
                base_model: %s
                datasets:
                  - path: %s
                    type: chat
                chat_template: llama2
                system_message: Classify the intent.
                sequence_len: 256
                lora_r: 2
                max_steps: 2
                micro_batch_size: 4
                gradient_accumulation_steps: 1
                threads: 1
                balance: oversample
                balance_max_ratio: 2
                output_dir: unused
                """.formatted(model, data));
        RecipeConfig config = RecipeReader.read(recipe);
        assertEquals(RecipeConfig.Balance.OVERSAMPLE, config.balance());
        assertTrue(config.toYaml().contains("balance: oversample"), config.toYaml());
        List<String> info = new ArrayList<>();
        int threads = Parallel.threads();
        try {
            FineTune.run(config, tmp.resolve("run"), false, new FineTune.Listener() {
                @Override
                public void info(String message) {
                    info.add(message);
                }
            });
        } finally {
            Parallel.setThreads(threads);
        }
        assertTrue(info.stream().anyMatch(m -> m.startsWith("balance oversample (max ratio 2.00): 15 -> 18 training examples")), info.toString());
        JsonNode balance = new ObjectMapper().readTree(tmp.resolve("run/balance.json").toFile());
        assertEquals(15, balance.get("examples_before").asInt());
        assertEquals(18, balance.get("examples_after").asInt());
        assertEquals(6, balance.at("/labels/" + second.replace("/", "~1") + "/after").asInt());
    }

    private static String label(String line) throws Exception {
        JsonNode m = new ObjectMapper().readTree(line).get("messages");
        return m.get(m.size() - 1).get("content").asText();
    }
}
