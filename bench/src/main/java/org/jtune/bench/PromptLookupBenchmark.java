package org.jtune.bench;

import java.nio.file.Files;
import java.nio.file.Path;
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
 * `jtune bench prompt_lookup`: greedy decoding with and without speculative decoding by prompt lookup (8 drafts) on
 * the TinyLlama-1.1B shape with random weights, BF16 and Q4_0 (quantized on load), in the serving layout. Two prompts:
 * a repeating one (the random model's greedy answer to it loops, so drafts are mostly right) and one without repeats
 * (its answer rarely repeats: drafts mostly wrong or none). 100 tokens after the prompt, one sequence; runs alternate
 * without and with drafts, the median of 3 after one warm-up pair. Each row: tok/s both ways, the ratio, steps, and
 * drafts made and confirmed — how much drafts give depends on how often they are right, which the rows show.
 */
final class PromptLookupBenchmark {
    private PromptLookupBenchmark() {}

    private static final int NEW_TOKENS = 100, DRAFTS = 8;

    static int run(boolean json, boolean quick) throws Exception {
        var config = quick ? RandomLlamaFolder.shape(256, 2, 8, 2, 768, 1000) : RandomLlamaFolder.tinyLlama();
        System.err.printf("prompt_lookup: %s, %d threads; load average %s%n", quick ? "quick shape" : "TinyLlama-1.1B shape",
                Parallel.threads(), LoadAverage.read());
        int[] repeating = new int[40], plain = new int[40];
        for (int i = 0; i < 40; i++) {
            repeating[i] = 1 + (new int[] {17, 95, 342, 8, 611})[i % 5];
            plain[i] = 1 + (i * 7919) % (config.vocabSize() - 2);
        }
        Path dir = Files.createTempDirectory("jtune-bench-lookup-");
        try (var heap = RandomLlamaFolder.boundHeap()) {
            RandomLlamaFolder.write(dir, config, DType.BF16);
            for (String format : new String[] {"bf16", "q4_0"}) {
                try (CausalLM m = Architectures.load(dir, format.equals("bf16") ? null : format)) {
                    ServingLayout.packProjections(m.weights());
                    for (String promptName : new String[] {"repeating", "plain"}) {
                        int[] prompt = promptName.equals("repeating") ? repeating : plain;
                        double[] off = new double[3], on = new double[3];
                        Run last = null;
                        for (int round = -1; round < 3; round++) {
                            Run a = decode(m, prompt, 0), b = decode(m, prompt, DRAFTS);
                            if (round < 0) continue;
                            off[round] = a.tokS;
                            on[round] = b.tokS;
                            last = b;
                        }
                        java.util.Arrays.sort(off);
                        java.util.Arrays.sort(on);
                        new ResultLine().put("bench", "prompt_lookup").put("weights", format).put("prompt", promptName)
                                .put("threads", Parallel.threads()).put("tokens", NEW_TOKENS).put("drafts_per_step", DRAFTS)
                                .put("tok_s", on[1]).put("peer", "no drafts").put("peer_tok_s", off[1]).put("ratio", on[1] / off[1])
                                .put("steps", last.steps).put("drafted", last.drafted).put("confirmed", last.confirmed).print(json);
                    }
                }
            }
        } finally {
            RandomLlamaFolder.delete(dir);
        }
        return 0;
    }

    private record Run(double tokS, int steps, long drafted, long confirmed) {}

    /** One sequence: the prompt's step (not timed), then {@value #NEW_TOKENS} tokens timed. */
    private static Run decode(CausalLM m, int[] prompt, int drafts) {
        StepEngine e = new StepEngine(m, StepEngine.Limits.DEFAULT);
        Sequence s = e.add(SequenceRequest.of(prompt, SamplingConfig.greedy(NEW_TOKENS + 1).withPromptLookup(drafts)), null);
        e.step();
        long t0 = System.nanoTime();
        int steps = 0;
        while (!e.idle()) {
            e.step();
            steps++;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Run((s.outputIds().length - 1) / seconds, steps, e.draftedTokens(), e.acceptedDrafts());
    }
}
