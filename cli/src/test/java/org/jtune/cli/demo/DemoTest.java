package org.jtune.cli.demo;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.train.recipe.RecipeConfig;
import org.jtune.train.recipe.RecipeReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reduced demo (fewer tickets, same steps) runs every step, prints each, emits one JSON object per
 * step, leaves every artefact, improves on the baseline and merges faithfully; it needs nothing from
 * ../shared. The recipes it wrote read back and point at files in the folder.
 */
class DemoTest {
    @Test
    void reducedDemoRunsEveryStepAndLeavesEveryArtefact(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream text = new ByteArrayOutputStream(), json = new ByteArrayOutputStream();
        DemoOutcome o = Demo.of(dir, DemoSize.REDUCED, new PrintStream(text, true, StandardCharsets.UTF_8),
                new PrintStream(json, true, StandardCharsets.UTF_8), false).run();

        String out = text.toString(StandardCharsets.UTF_8);
        for (int step = 1; step <= DemoOutput.STEPS; step++) assertTrue(out.contains("[" + step + "/10]"), "step " + step + " printed:\n" + out);
        List<String> lines = json.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(DemoOutput.STEPS, lines.size(), "one JSON object per step:\n" + json);
        ObjectMapper mapper = new ObjectMapper();
        for (int i = 0; i < lines.size(); i++) assertEquals(i + 1, mapper.readTree(lines.get(i)).get("step").asInt());
        JsonNode summary = mapper.readTree(lines.getLast());
        assertEquals(o.tunedAccuracy(), summary.get("accuracy").asDouble());

        for (String f : new String[] {"data/train.jsonl", "data/validation.jsonl", "data/test.jsonl", "data/pretrain.jsonl",
                "base-untrained/tokenizer.json", "base-untrained/tokenizer_config.json", "base-untrained/config.json",
                "base-untrained/model.safetensors", "pretrain.yaml", "lora.yaml",
                "runs/pretrain/model/model.safetensors", "runs/pretrain/metrics.jsonl", "runs/pretrain/report.html",
                "runs/lora/adapter/adapter_model.safetensors", "runs/lora/adapter/adapter_config.json", "runs/lora/report.html",
                "runs/lora/metrics.jsonl", "eval/baseline/predictions.jsonl", "eval/baseline/metrics.json",
                "eval/lora/predictions.jsonl", "eval/lora/metrics.json", "eval/lora/eval_report.html",
                "merged/config.json", "merged/model.safetensors", "merged/tokenizer.json"}) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f + " written");
        }
        assertEquals(DemoSize.REDUCED.train(), Files.readAllLines(dir.resolve("data/train.jsonl")).size());
        assertEquals(DemoSize.REDUCED.test(), Files.readAllLines(dir.resolve("eval/lora/predictions.jsonl")).size());
        assertTrue(Files.readString(dir.resolve("runs/lora/metrics.jsonl")).contains("val_accuracy"), "validation accuracy during training");

        RecipeConfig lora = RecipeReader.read(dir.resolve("lora.yaml"));
        assertEquals(RecipeConfig.Adapter.LORA, lora.adapter());
        assertEquals(dir.resolve("runs/pretrain/model").toRealPath(), lora.baseModel().toRealPath());
        assertEquals(RecipeConfig.Adapter.FULL, RecipeReader.read(dir.resolve("pretrain.yaml")).adapter());

        assertTrue(o.mergedAgrees(), "merged model answers like base + adapter:\n" + out);
        assertTrue(o.tunedAccuracy() > o.baselineAccuracy() + 0.3, "fine-tuning improves accuracy clearly: " + o);
        assertTrue(o.succeeded());
    }
}
