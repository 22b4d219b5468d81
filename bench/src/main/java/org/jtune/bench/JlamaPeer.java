package org.jtune.bench;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.model.functions.Generator;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.safetensors.prompt.PromptContext;
import java.io.File;
import java.util.UUID;

/**
 * The peer of `jtune bench decode`, run in its own JVM: Jlama (com.github.tjake:jlama-core 0.8.4)
 * loads the same Hugging Face folder (F32 working memory, no quantization) and generates greedily
 * from a prompt; its own timings give prefill and decode tokens/s. A warm-up generation runs first.
 * Prints one JSON object. Usage: {@code JlamaPeer DIR TOKENS PROMPT} (a prompt of at most ~150 tokens).
 */
public final class JlamaPeer {
    private JlamaPeer() {}

    public static void main(String[] args) throws Exception {
        File dir = new File(args[0]);
        int tokens = Integer.parseInt(args[1]);
        String prompt = args[2];
        AbstractModel model = ModelSupport.loadModel(dir, DType.F32, DType.F32);
        // Jlama's token budget counts the prompt too
        model.generate(UUID.randomUUID(), PromptContext.of(prompt), 0f, 160, (s, f) -> {});
        Generator.Response r = model.generate(UUID.randomUUID(), PromptContext.of(prompt), 0f, 160 + tokens, (s, f) -> {});
        System.out.printf("{\"prompt_tokens\":%d,\"generated_tokens\":%d,\"prefill_tok_s\":%.4f,\"decode_tok_s\":%.4f}%n",
                r.promptTokens, r.generatedTokens, r.promptTokens / (r.promptTimeMs / 1000.0),
                r.generatedTokens / (r.generateTimeMs / 1000.0));
    }
}
