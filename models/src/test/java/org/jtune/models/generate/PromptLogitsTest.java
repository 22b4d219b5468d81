package org.jtune.models.generate;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.jtune.models.CausalLM;
import org.jtune.models.TinyModels;
import org.jtune.models.kv.KvBlockPool;
import org.jtune.tensor.DType;
import org.junit.jupiter.api.Test;

/**
 * The prompt's own logits (OpenAI's echo with logprobs): with {@link SequenceRequest#promptLogits} the engine hands the
 * listener, once each and in order, the row before every prompt token after the first, equal to the rows of a full
 * forward over the prompt, whether the prompt is prefilled whole or in chunks, shares cached prefix blocks with an earlier
 * request, or is recomputed after preemption; the generated tokens are those of a request without them.
 */
class PromptLogitsTest {
    /** Row t of a full forward: the logits after prompt[0..t]. */
    private static float[][] fullForward(CausalLM m, int[] ids) {
        float[] all = org.jtune.models.HiddenStates.logits(m, ids);
        int vocab = all.length / ids.length;
        float[][] rows = new float[ids.length][];
        for (int i = 0; i < ids.length; i++) rows[i] = java.util.Arrays.copyOfRange(all, i * vocab, (i + 1) * vocab);
        return rows;
    }

    private static final class Collector implements Sequence.Listener {
        final List<Integer> positions = new ArrayList<>();
        final List<float[]> rows = new ArrayList<>();

        @Override
        public void onToken(Sequence sequence, int tokenId, float[] logits) {}

        @Override
        public void onPromptLogits(Sequence sequence, int position, float[] logits) {
            positions.add(position);
            rows.add(logits);
        }
    }

    @Test
    void promptRowsMatchAFullForwardHoweverThePromptIsComputed() {
        try (CausalLM m = TinyModels.random(31)) {
            List<int[]> prompts = List.of(PagedEngineTest.prompt(1, 19), PagedEngineTest.prompt(2, 7), PagedEngineTest.prompt(3, 33), PagedEngineTest.prompt(1, 19));
            long perBlock = KvBlockPool.bytesPerBlock(m.config(), 4, DType.F32);
            List<StepEngine.Limits> limits = List.of(StepEngine.Limits.DEFAULT, new StepEngine.Limits(8, 5, 0, 4),
                    new StepEngine.Limits(8, 64, 200 * perBlock, 4), new StepEngine.Limits(8, 64, 14 * perBlock, 4));
            List<int[]> plain = new ArrayList<>();
            StepEngine reference = new StepEngine(m, StepEngine.Limits.DEFAULT);
            List<Sequence> refSeqs = new ArrayList<>();
            for (int[] p : prompts) refSeqs.add(reference.add(SequenceRequest.of(p, SamplingConfig.greedy(12)), null));
            while (!reference.idle()) reference.step();
            for (Sequence s : refSeqs) plain.add(s.outputIds());
            for (StepEngine.Limits l : limits) {
                StepEngine e = new StepEngine(m, l);
                List<Collector> heard = new ArrayList<>();
                List<Sequence> seqs = new ArrayList<>();
                for (int[] p : prompts) {
                    Collector c = new Collector();
                    heard.add(c);
                    seqs.add(e.add(new SequenceRequest(p, SamplingConfig.greedy(12), null, null, false, true), c));
                }
                while (!e.idle()) e.step();
                for (int i = 0; i < prompts.size(); i++) {
                    int[] p = prompts.get(i);
                    float[][] want = fullForward(m, p);
                    Collector c = heard.get(i);
                    List<Integer> expected = new ArrayList<>();
                    for (int pos = 1; pos < p.length; pos++) expected.add(pos);
                    assertEquals(expected, c.positions, l + ", prompt " + i + ": every position once, in order");
                    for (int k = 0; k < c.rows.size(); k++) {
                        float[] got = c.rows.get(k), w = want[c.positions.get(k) - 1];
                        for (int v = 0; v < w.length; v++) assertEquals(w[v], got[v], 1e-4f * (1 + Math.abs(w[v])), l + ", prompt " + i + " row " + k + " id " + v);
                    }
                    assertArrayEquals(plain.get(i), seqs.get(i).outputIds(), l + ", prompt " + i + ": the same tokens");
                    assertEquals(0, seqs.get(i).reusedPrefix(), "scored prompts are computed, not reused");
                }
                if (l.kvBudgetBytes() == 14 * perBlock) assertTrue(seqs.stream().mapToInt(Sequence::preemptions).sum() > 0, "preemption happened");
            }
        }
    }
}
