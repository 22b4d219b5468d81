package org.jtune.models.gguf;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.models.qwen2.Qwen2TokenizerTest;
import org.jtune.tensor.Rng;

/**
 * A tiny random checkpoint folder of any family for the GGUF tests: config.json, weights wide enough (std 0.35) that greedy
 * choices have margins, and a byte-level tokenizer of 259 ids (256 bytes, then &lt;|endoftext|&gt;, &lt;|im_start|&gt;,
 * &lt;|im_end|&gt;) with Qwen2's pre-tokenizer; the config's vocab_size must be 259.
 */
final class TinyCheckpoint {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TinyCheckpoint() {}

    static void write(Path dir, Map<String, Object> config) throws Exception {
        Files.createDirectories(dir);
        String json = JSON.writeValueAsString(config);
        Files.writeString(dir.resolve("config.json"), json);
        ModelConfig parsed = Architectures.parseConfig(json, "config.json");
        SafetensorsWriter.defaults().writeModel(dir, Architectures.randomWeights(parsed, new Rng(23), 0.35f));
        Qwen2TokenizerTest.write(dir, List.of(), List.of(), "");
    }
}
