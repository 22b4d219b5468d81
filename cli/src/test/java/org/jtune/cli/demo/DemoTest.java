package org.jtune.cli.demo;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jtune.train.run.FineTune;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A reduced demo (fewer tickets and epochs) runs every step and leaves every artefact; it needs nothing from ../shared. */
class DemoTest {
    @Test
    void reducedDemoProducesEveryArtefact(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        Demo.Outcome o = new Demo(dir, 320, 3, 6, new PrintStream(text, true), new FineTune.Listener() {}).run();
        String out = text.toString();
        for (int step = 1; step <= 9; step++) assertTrue(out.contains("[" + step + "/9]"), "step " + step + " printed:\n" + out);
        for (String f : new String[] {"data/train.jsonl", "data/test.jsonl", "base-untrained/tokenizer.json", "runs/pretrain/model/model.safetensors",
                "runs/lora/adapter/adapter_model.safetensors", "runs/lora/report.html", "runs/lora/metrics.jsonl",
                "eval/baseline/predictions.jsonl", "eval/lora/eval_report.html", "merged/config.json", "lora.yaml"}) {
            assertTrue(Files.exists(dir.resolve(f)), f);
        }
        assertTrue(o.mergedAgrees(), "merged model answers like base + adapter");
        assertTrue(o.tunedAccuracy() > o.baselineAccuracy(), "fine-tuning improves accuracy: " + o);
    }
}
