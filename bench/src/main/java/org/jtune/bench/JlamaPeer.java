package org.jtune.bench;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.safetensors.prompt.PromptContext;
import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * The peer of `jtune bench decode`, run in its own JVM: Jlama (com.github.tjake:jlama-core 0.8.4)
 * loads the same Hugging Face folder (F32 working memory, no quantization) and generates greedily.
 * The prompt is a text of letters that the folder's {@link CharacterTokenizerJson} turns into exactly
 * the requested number of prompt tokens (BOS included when Jlama adds one). Timing comes from the
 * token callback, as for ours: prefill = start of generate → first token; decode = the mean gap
 * between later tokens. One warm-up generation, then the median of several runs. Prints one JSON
 * object. Usage: {@code JlamaPeer DIR PROMPT_TOKENS DECODE_TOKENS RUNS}.
 */
public final class JlamaPeer {
    private JlamaPeer() {}

    public static void main(String[] args) throws Exception {
        File dir = new File(args[0]);
        int promptTokens = Integer.parseInt(args[1]), decode = Integer.parseInt(args[2]), runs = Integer.parseInt(args[3]);
        AbstractModel model = ModelSupport.loadModel(dir, DType.F32, DType.F32);
        PromptContext prompt = prompt(model, promptTokens);
        int encoded = model.encodePrompt(prompt).length;
        // Jlama's token budget counts the prompt too
        model.generate(UUID.randomUUID(), prompt, 0f, encoded + 2, (s, f) -> {});
        double[] prefill = new double[runs], step = new double[runs];
        int generated = 0;
        for (int r = 0; r < runs; r++) {
            List<Long> times = new ArrayList<>();
            long t0 = System.nanoTime();
            model.generate(UUID.randomUUID(), prompt, 0f, encoded + decode + 1, (s, f) -> times.add(System.nanoTime()));
            if (times.size() < 2) throw new IllegalStateException("Jlama generated " + times.size() + " tokens; need at least 2");
            prefill[r] = (times.getFirst() - t0) / 1e9;
            step[r] = (times.getLast() - times.getFirst()) / 1e9 / (times.size() - 1);
            generated = times.size();
        }
        System.out.printf("{\"prompt_tokens\":%d,\"generated_tokens\":%d,\"prefill_tok_s\":%.4f,\"decode_tok_s\":%.4f}%n",
                encoded, generated, encoded / median(prefill), 1 / median(step));
    }

    /** Seeded random letters, as many as give {@code tokens} prompt tokens (one per letter, plus BOS if Jlama adds it). */
    private static PromptContext prompt(AbstractModel model, int tokens) {
        Random rng = new Random(7);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < tokens; i++) sb.append(CharacterTokenizerJson.ALPHABET.charAt(rng.nextInt(26)));
        while (sb.length() > 1 && model.encodePrompt(PromptContext.of(sb.toString())).length > tokens) sb.setLength(sb.length() - 1);
        return PromptContext.of(sb.toString());
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
    }
}
