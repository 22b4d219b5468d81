package org.jtune.models.generate;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.jtune.models.CausalLM;
import org.jtune.models.TinyModels;
import org.jtune.models.kv.KvBlockPool;
import org.jtune.tensor.DType;
import org.jtune.tensor.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * KV memory in blocks under a budget: the same tokens as with private buffers, shared prompt
 * prefixes computed once, preemption when the pool runs out (the preempted sequence recomputes and
 * still produces the same tokens), and every block back in the pool at the end.
 */
class PagedEngineTest {
    /** A prompt of n ids: BOS, then ids from the seed. */
    static int[] prompt(long seed, int n) {
        Rng r = new Rng(seed);
        int[] p = new int[n];
        p[0] = 1;
        for (int i = 1; i < n; i++) p[i] = 3 + r.nextInt(50);
        return p;
    }

    private static List<int[]> run(CausalLM m, StepEngine.Limits limits, List<int[]> prompts, int maxNew, List<Sequence> out) {
        StepEngine e = new StepEngine(m, limits);
        List<Sequence> seqs = new ArrayList<>();
        for (int[] p : prompts) seqs.add(e.add(SequenceRequest.of(p, SamplingConfig.greedy(maxNew)), null));
        while (!e.idle()) e.step();
        if (out != null) out.addAll(seqs);
        if (e.kvPool() != null) assertEquals(0, e.kvPool().usedBlocks(), "every block back in the pool");
        List<int[]> ids = new ArrayList<>();
        for (Sequence s : seqs) ids.add(s.outputIds());
        return ids;
    }

    @Test
    void pagedMemoryGivesTheSameTokensAndPreemptsWhenFull() {
        try (CausalLM m = TinyModels.random(21)) {
            List<int[]> prompts = List.of(prompt(1, 19), prompt(2, 7), prompt(3, 33), prompt(4, 12));
            List<int[]> want = run(m, StepEngine.Limits.DEFAULT, prompts, 20, null);
            long perBlock = KvBlockPool.bytesPerBlock(m.config(), 4, DType.F32);
            StepEngine.Limits roomy = new StepEngine.Limits(8, 64, 200 * perBlock, 4);
            List<int[]> paged = run(m, roomy, prompts, 20, null);
            for (int i = 0; i < want.size(); i++) assertArrayEquals(want.get(i), paged.get(i), "paged, sequence " + i);
            // 14 blocks of 4 positions: the four sequences need 10 + 7 + 14 + 8 blocks at their longest
            StepEngine.Limits tight = new StepEngine.Limits(8, 64, 14 * perBlock, 4);
            List<Sequence> seqs = new ArrayList<>();
            List<int[]> squeezed = run(m, tight, prompts, 20, seqs);
            for (int i = 0; i < want.size(); i++) assertArrayEquals(want.get(i), squeezed.get(i), "preempted and recomputed, sequence " + i);
            assertTrue(seqs.stream().mapToInt(Sequence::preemptions).sum() > 0, "the tight budget forced preemption");
        }
    }

    @Test
    void sharedPromptPrefixesAreComputedOnce() {
        try (CausalLM m = TinyModels.random(22)) {
            int[] system = prompt(5, 24);
            List<int[]> prompts = new ArrayList<>();
            for (int q = 0; q < 3; q++) {
                int[] p = java.util.Arrays.copyOf(system, 24 + 5);
                int[] tail = prompt(10 + q, 6);
                System.arraycopy(tail, 1, p, 24, 5);
                prompts.add(p);
            }
            List<int[]> want = run(m, StepEngine.Limits.DEFAULT, prompts, 8, null);
            long perBlock = KvBlockPool.bytesPerBlock(m.config(), 8, DType.F32);
            StepEngine e = new StepEngine(m, new StepEngine.Limits(8, 256, 64 * perBlock, 8));
            List<Sequence> seqs = new ArrayList<>();
            seqs.add(e.add(SequenceRequest.of(prompts.get(0), SamplingConfig.greedy(8)), null));
            while (!e.idle()) e.step(); // the first request fills the cache with the shared 24 tokens (3 blocks)
            for (int q = 1; q < 3; q++) seqs.add(e.add(SequenceRequest.of(prompts.get(q), SamplingConfig.greedy(8)), null));
            while (!e.idle()) e.step();
            assertEquals(0, seqs.get(0).reusedPrefix());
            assertEquals(24, seqs.get(1).reusedPrefix(), "three full blocks of the system prompt reused");
            assertEquals(24, seqs.get(2).reusedPrefix());
            for (int i = 0; i < 3; i++) assertArrayEquals(want.get(i), seqs.get(i).outputIds(), "sequence " + i);
            assertTrue(e.kvPool().prefixHitRate() > 0);
            assertEquals(0, e.kvPool().usedBlocks());
        }
    }
    /**
     * A batched step over paged caches (attention reading the blocks in place) gives the logits of private buffers, bit for
     * bit, with F32 caches and with BF16 and F16 ones (prefill chunks gathered, decode rows widened in registers).
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
    void pagedStepsHaveTheBitsOfPrivateBuffers(DType type) {
        try (CausalLM m = TinyModels.random(23)) {
            int[][] prompts = {prompt(6, 9), prompt(7, 1), prompt(8, 21)};
            var c = m.config();
            m.setKvCacheType(type);
            KvBlockPool pool = new KvBlockPool(c.numHiddenLayers(), c.numKeyValueHeads(), c.headDim(), 4, 40, type);
            List<org.jtune.models.kv.KvCache> own = new ArrayList<>(), paged = new ArrayList<>();
            for (int[] p : prompts) {
                own.add(m.newKvCache(64));
                org.jtune.models.kv.PagedKvCache cache = new org.jtune.models.kv.PagedKvCache(pool, 64);
                assertTrue(cache.reserve(p.length));
                paged.add(cache);
            }
            int[][] feed = prompts;
            for (int step = 0; step < 4; step++) {
                List<org.jtune.models.SequenceChunk> a = new ArrayList<>(), b = new ArrayList<>();
                for (int s = 0; s < feed.length; s++) {
                    a.add(new org.jtune.models.SequenceChunk(feed[s], own.get(s), null));
                    b.add(new org.jtune.models.SequenceChunk(feed[s], paged.get(s), null));
                }
                float[] want = m.step(a).toFloatArray(), got = m.step(b).toFloatArray();
                assertArrayEquals(want, got, "step " + step);
                for (int s = 0; s < feed.length; s++) {
                    own.get(s).advance(feed[s]);
                    paged.get(s).advance(feed[s]);
                }
                int[][] next = new int[feed.length][];
                for (int s = 0; s < feed.length; s++) {
                    next[s] = new int[] {3 + (7 * step + s) % 40};
                    assertTrue(((org.jtune.models.kv.PagedKvCache) paged.get(s)).reserve(1));
                }
                feed = next;
            }
        }
    }

    @Test
    void aSequenceLongerThanThePoolIsRefusedAtOnce() {
        try (CausalLM m = TinyModels.random(23)) {
            long perBlock = KvBlockPool.bytesPerBlock(m.config(), 4, DType.F32);
            StepEngine e = new StepEngine(m, new StepEngine.Limits(8, 64, 5 * perBlock, 4));
            assertEquals(20, e.kvCapacity());
            // 10 + 30 positions in a pool of 20: alone, it used to preempt itself at the pool's end and start over forever
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> e.add(SequenceRequest.of(prompt(6, 10), SamplingConfig.greedy(30)), null));
            assertTrue(refused.getMessage().contains("need 40 KV positions") && refused.getMessage().contains("holds 20"), refused.getMessage());
            assertTrue(e.idle());
            Sequence fits = e.add(SequenceRequest.of(prompt(6, 10), SamplingConfig.greedy(10)), null);
            for (int i = 0; i < 100 && !e.idle(); i++) e.step();
            assertTrue(e.idle(), "a sequence of exactly the pool's size finishes");
            assertEquals(10, fits.outputIds().length);
            assertEquals(0, fits.preemptions());
        }
    }

    @Test
    void theAutomaticBudgetHoldsWholeContextsWithinItsShareOfTheHeap() {
        var c = org.jtune.models.TinyModels.config(2); // context 64: 4 blocks of 16 per sequence
        long perBlock = KvBlockPool.bytesPerBlock(c, 16, DType.F32);
        assertEquals(8 * 4 * perBlock, KvBlockPool.autoBudget(c, 8, 16, 1L << 40, DType.F32), "8 whole contexts when the heap has room");
        assertEquals(10 * perBlock, KvBlockPool.autoBudget(c, 8, 16, 25 * perBlock + 7, DType.F32), "40 % of the free heap, whole blocks");
        assertEquals(perBlock, KvBlockPool.autoBudget(c, 8, 16, 0, DType.F32), "at least one block");
    }
}
