package org.jtune.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.generate.Sequence;
import org.jtune.models.generate.SequenceRequest;
import org.jtune.models.generate.StepEngine;
import org.jtune.models.weights.ServingLayout;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;

/**
 * `jtune bench score`: what scoring a prompt costs (the server's echo with logprobs, lm-evaluation-harness's
 * loglikelihood requests): one 512-token prompt on the TinyLlama-1.1B shape with random BF16 weights in the serving
 * layout, computed with a logit row per prompt token and, alternately, with the last row only (a plain prefill), each
 * through a fresh step engine, one token generated. Median of 3 after one warm-up pair: ms per prompt both ways, scored
 * tokens per second, and the ratio. The extra work is the LM head over every row (2 × T × vocab × hidden FLOPs).
 */
final class ScoreBenchmark {
    private ScoreBenchmark() {}

    private static final int TOKENS = 512;

    static int run(boolean json, boolean quick) throws Exception {
        var config = quick ? RandomLlamaFolder.shape(256, 2, 8, 2, 768, 1000) : RandomLlamaFolder.tinyLlama();
        System.err.printf("score: %s, %d-token prompt, %d threads; load average %s%n", quick ? "quick shape" : "TinyLlama-1.1B shape",
                TOKENS, Parallel.threads(), LoadAverage.read());
        int[] prompt = new int[TOKENS];
        prompt[0] = 1;
        for (int i = 1; i < TOKENS; i++) prompt[i] = 1 + (i * 7919) % (config.vocabSize() - 2);
        Path dir = Files.createTempDirectory("jtune-bench-score-");
        try (var heap = RandomLlamaFolder.boundHeap()) {
            RandomLlamaFolder.write(dir, config, DType.BF16);
            try (CausalLM m = Architectures.load(dir)) {
                ServingLayout.packProjections(m.weights());
                double[] plain = new double[3], scored = new double[3];
                for (int round = -1; round < 3; round++) {
                    double a = millis(m, prompt, false), b = millis(m, prompt, true);
                    if (round < 0) continue;
                    plain[round] = a;
                    scored[round] = b;
                }
                Arrays.sort(plain);
                Arrays.sort(scored);
                new ResultLine().put("bench", "score").put("weights", "bf16").put("threads", Parallel.threads()).put("prompt_tokens", TOKENS)
                        .put("ms", scored[1]).put("scored_tok_s", TOKENS / scored[1] * 1000).put("peer", "prefill, last row only")
                        .put("peer_ms", plain[1]).put("ratio", plain[1] / scored[1]).print(json);
            }
        } finally {
            RandomLlamaFolder.delete(dir);
        }
        return 0;
    }

    /** One request: the prompt (with or without its logit rows) and one token, through a fresh engine; the rows are counted. */
    private static double millis(CausalLM m, int[] prompt, boolean promptLogits) {
        StepEngine e = new StepEngine(m, StepEngine.Limits.DEFAULT);
        int[] rows = {0};
        long t0 = System.nanoTime();
        e.add(new SequenceRequest(prompt, SamplingConfig.greedy(1), null, null, false, promptLogits), new Sequence.Listener() {
            @Override
            public void onToken(Sequence s, int token, float[] logits) {}

            @Override
            public void onPromptLogits(Sequence s, int position, float[] logits) {
                rows[0]++;
            }
        });
        while (!e.idle()) e.step();
        double ms = (System.nanoTime() - t0) / 1e6;
        if (rows[0] != (promptLogits ? prompt.length - 1 : 0)) throw new IllegalStateException(rows[0] + " prompt rows reported");
        return ms;
    }
}
