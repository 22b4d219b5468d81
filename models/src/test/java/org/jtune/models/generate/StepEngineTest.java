package org.jtune.models.generate;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.jtune.models.CausalLM;
import org.jtune.models.TinyModels;
import org.junit.jupiter.api.Test;

/**
 * The step engine's scheduling does not change what a sequence generates: alone, in a batch,
 * joining mid-way, with its prompt prefilled in small chunks, it produces the same greedy tokens;
 * cancelled and finished sequences give their KV cache back.
 */
class StepEngineTest {
    private static final SamplingConfig GREEDY = SamplingConfig.greedy(12);

    private static int[] alone(CausalLM m, int[] prompt) {
        StepEngine e = new StepEngine(m, StepEngine.Limits.DEFAULT);
        Sequence s = e.add(SequenceRequest.of(prompt, GREEDY), null);
        while (!e.idle()) e.step();
        return s.outputIds();
    }

    @Test
    void batchingChunkingAndLateJoinersDoNotChangeTheTokens() {
        try (CausalLM m = TinyModels.random(7)) {
            List<int[]> prompts = List.of(new int[] {1, 5, 9, 13}, new int[] {1, 40, 3, 22, 17, 8, 30, 11, 4}, new int[] {1, 2});
            List<int[]> want = new ArrayList<>();
            for (int[] p : prompts) want.add(alone(m, p));

            StepEngine e = new StepEngine(m, new StepEngine.Limits(8, 3)); // prompts prefilled 3 tokens per step at most
            List<Sequence> seqs = new ArrayList<>();
            seqs.add(e.add(SequenceRequest.of(prompts.get(0), GREEDY), null));
            seqs.add(e.add(SequenceRequest.of(prompts.get(1), GREEDY), null));
            for (int i = 0; i < 5; i++) e.step();
            seqs.add(e.add(SequenceRequest.of(prompts.get(2), GREEDY), null)); // joins while the others decode
            int maxStepTokens = 0;
            while (!e.idle()) {
                e.step();
                maxStepTokens = Math.max(maxStepTokens, e.lastStepTokens());
                assertTrue(e.lastStepTokens() <= 3, "step budget respected");
            }
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(want.get(i), seqs.get(i).outputIds(), "sequence " + i);
                assertEquals(Sequence.Finish.LENGTH, seqs.get(i).finish());
                assertEquals(0, seqs.get(i).cachedPositions(), "cache released");
            }
            assertEquals(0, e.cachedPositions());
        }
    }

    @Test
    void aPromptArrivingWhileOthersDecodeIsPrefilledInChunksBetweenTheirTokens() {
        try (CausalLM m = TinyModels.random(9)) {
            int[] shortPrompt = {1, 5, 9}, longPrompt = new int[30];
            for (int i = 0; i < longPrompt.length; i++) longPrompt[i] = 1 + (7 * i) % 50;
            StepEngine e = new StepEngine(m, new StepEngine.Limits(8, 64, 0, 16, 5));
            Sequence first = e.add(SequenceRequest.of(shortPrompt, SamplingConfig.greedy(40)), null);
            e.step();
            assertEquals(3, e.lastStepTokens(), "no one decoding: the prompt takes the step's whole budget");
            Sequence late = e.add(SequenceRequest.of(longPrompt, GREEDY), null);
            int prefillSteps = 0;
            while (late.outputIds().length == 0) {
                e.step();
                prefillSteps++;
                assertTrue(e.lastStepTokens() <= 1 + 5, "one decode token and at most 5 prompt tokens, got " + e.lastStepTokens());
            }
            assertEquals(6, prefillSteps, "30 prompt tokens, 5 a step, the first sequence decoding a token in each");
            while (!e.idle()) e.step();
            assertArrayEquals(alone(m, longPrompt), late.outputIds(), "the same tokens as alone");
            assertEquals(40, first.outputIds().length);
            StepEngine fresh = new StepEngine(m, new StepEngine.Limits(8, 64, 0, 16, 5));
            fresh.add(SequenceRequest.of(longPrompt, GREEDY), null);
            fresh.step();
            assertEquals(30, fresh.lastStepTokens(), "alone, a prompt is prefilled in one step");
        }
    }

    @Test
    void cancelEndsASequenceAndFreesItsCache() {
        try (CausalLM m = TinyModels.random(8)) {
            StepEngine e = new StepEngine(m, StepEngine.Limits.DEFAULT);
            List<Integer> heard = new ArrayList<>();
            boolean[] finished = {false};
            Sequence keep = e.add(SequenceRequest.of(new int[] {1, 3, 5}, SamplingConfig.greedy(30)), null);
            Sequence gone = e.add(SequenceRequest.of(new int[] {1, 4, 6}, SamplingConfig.greedy(30)), new Sequence.Listener() {
                public void onToken(Sequence s, int id, float[] logits) {
                    heard.add(id);
                }

                public void onFinish(Sequence s) {
                    finished[0] = true;
                }
            });
            for (int i = 0; i < 4; i++) e.step();
            assertTrue(gone.cachedPositions() > 0);
            e.cancel(gone);
            e.step();
            assertEquals(Sequence.Finish.CANCELLED, gone.finish());
            assertTrue(finished[0], "listener told");
            assertEquals(0, gone.cachedPositions());
            int tokensAtCancel = heard.size();
            assertEquals(1, e.running());
            while (!e.idle()) e.step();
            assertEquals(tokensAtCancel, heard.size(), "no token after the cancel");
            assertEquals(30, keep.outputIds().length);
        }
    }

    @Test
    void stopsAtTheContextAndRefusesPromptsBeyondIt() {
        try (CausalLM m = TinyModels.random(9)) {
            int context = m.config().maxPositionEmbeddings();
            StepEngine e = new StepEngine(m, StepEngine.Limits.DEFAULT);
            int[] prompt = new int[context - 3];
            java.util.Arrays.fill(prompt, 7);
            Sequence s = e.add(SequenceRequest.of(prompt, SamplingConfig.greedy(100)), null);
            while (!e.idle()) e.step();
            assertEquals(Sequence.Finish.LENGTH, s.finish());
            assertEquals(4, s.outputIds().length, "context - prompt positions to feed, plus the last token sampled");
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                    () -> e.add(SequenceRequest.of(new int[context + 1], GREEDY), null));
            assertTrue(x.getMessage().contains("context of " + context), x.getMessage());
        }
    }

    /**
     * With the step buffer pool (the default), the steps' large intermediate tensors live in buffers kept from earlier
     * steps: a model wide enough for its activations to pass the pool's 64 KiB threshold (dim 96, hidden 1000, vocab
     * 4099, chunks of up to 40 tokens) gives the tokens it gives without the pool, across prefill and decode steps
     * whose shapes change from step to step.
     */
    @Test
    void keptStepBuffersDoNotChangeTheTokens() {
        org.jtune.models.config.LlamaConfig c = org.jtune.models.TinyModels.config(2).toBuilder().hiddenSize(96).intermediateSize(1000)
                .numAttentionHeads(6).numKeyValueHeads(2).headDim(16).vocabSize(4099).maxPositionEmbeddings(128).build();
        try (CausalLM m = org.jtune.models.arch.Architectures.random(c, new org.jtune.tensor.Rng(11), 0.3f)) {
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int[] p = new int[17 + 9 * i];
                for (int t = 0; t < p.length; t++) p[t] = 3 + (i * 131 + t * 17) % 4000;
                prompts.add(p);
            }
            String saved = System.getProperty("jtune.stepPool");
            List<int[]> without = new ArrayList<>(), with = new ArrayList<>();
            try {
                System.setProperty("jtune.stepPool", "false");
                without = batch(new StepEngine(m, new StepEngine.Limits(8, 40)), prompts);
            } finally {
                if (saved == null) System.clearProperty("jtune.stepPool");
                else System.setProperty("jtune.stepPool", saved);
            }
            assertTrue(org.jtune.tensor.StepBufferPool.enabled(), "the pool is on by default");
            with = batch(new StepEngine(m, new StepEngine.Limits(8, 40)), prompts);
            for (int i = 0; i < prompts.size(); i++) assertArrayEquals(without.get(i), with.get(i), "sequence " + i);
        }
    }

    /** The prompts' greedy tokens, sampled with a temperature so that a changed logit would likely show. */
    private static List<int[]> batch(StepEngine e, List<int[]> prompts) {
        List<Sequence> seqs = new ArrayList<>();
        for (int[] p : prompts) seqs.add(e.add(SequenceRequest.of(p, SamplingConfig.greedy(10).withTemperature(1f).withSeed(5)), null));
        while (!e.idle()) e.step();
        List<int[]> out = new ArrayList<>();
        for (Sequence s : seqs) out.add(s.outputIds());
        return out;
    }
}
