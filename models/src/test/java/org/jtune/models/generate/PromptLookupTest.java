package org.jtune.models.generate;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.models.CausalLM;
import org.jtune.models.TinyModels;
import org.jtune.models.arch.Architectures;
import org.jtune.models.kv.KvBlockPool;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/**
 * Speculative decoding by prompt lookup gives greedy decoding's tokens: on stories260K (whose greedy stories repeat
 * phrases, so drafts are confirmed) and on a random model, alone and batched with sampled sequences, with growing and
 * paged KV caches, under a small step budget and up to the token limit; it does check drafts, and drafts nothing in
 * steps that decode more than a few sequences.
 */
class PromptLookupTest {
    private static List<Sequence> run(CausalLM m, StepEngine.Limits limits, int lookup, List<SequenceRequest> requests) {
        StepEngine e = new StepEngine(m, limits);
        List<Sequence> out = new ArrayList<>();
        for (SequenceRequest r : requests) {
            out.add(e.add(new SequenceRequest(r.prompt(), r.sampling().withPromptLookup(lookup), r.adapter(), r.decoder(), r.keepLogits()), null));
        }
        while (!e.idle()) e.step();
        if (lookup > 0) lastEngine = e;
        return out;
    }

    private static StepEngine lastEngine;

    @Test
    void storiesDecodeTheSameTokensWithFewerSteps() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        try (CausalLM m = Architectures.load(dir)) {
            Tokenizer tok = Tokenizer.load(dir);
            SamplingConfig greedy = SamplingConfig.greedyUntilEos(m.config(), tok, 200);
            List<SequenceRequest> requests = new ArrayList<>();
            for (String p : List.of("Once upon a time", "Lily and Tom went to the park. Lily and Tom", "The cat"))
                requests.add(SequenceRequest.of(tok.encode(p, true), greedy));
            requests.add(SequenceRequest.of(tok.encode("One day", true), greedy.withTemperature(0.9f).withSeed(3))); // samples: no drafts
            long perBlock = KvBlockPool.bytesPerBlock(m.config(), 8, m.kvCacheType());
            for (StepEngine.Limits limits : List.of(StepEngine.Limits.DEFAULT, new StepEngine.Limits(8, 5), new StepEngine.Limits(8, 64, 200 * perBlock, 8))) {
                List<Sequence> plain = run(m, limits, 0, requests);
                List<Sequence> drafted = run(m, limits, 4, requests);
                for (int i = 0; i < requests.size(); i++) {
                    assertArrayEquals(plain.get(i).outputIds(), drafted.get(i).outputIds(), limits + ": sequence " + i);
                    assertEquals(plain.get(i).finish(), drafted.get(i).finish());
                    assertEquals(0, drafted.get(i).cachedPositions());
                }
                assertTrue(lastEngine.acceptedDrafts() > 50, limits + ": " + lastEngine.acceptedDrafts() + " of " + lastEngine.draftedTokens() + " drafts confirmed");
                assertTrue(lastEngine.acceptedDrafts() < lastEngine.draftedTokens(), "some drafts are wrong and are dropped");
            }
        }
    }

    @Test
    void aRandomModelToItsTokenLimitAndContext() {
        try (CausalLM m = TinyModels.random(11)) {
            List<SequenceRequest> requests = new ArrayList<>();
            for (int[] p : List.of(new int[] {1, 5, 9, 5, 9, 5}, new int[] {1, 2, 3, 2, 3, 2, 3}, new int[] {1}))
                requests.add(SequenceRequest.of(p, SamplingConfig.greedy(40)));
            List<Sequence> plain = run(m, StepEngine.Limits.DEFAULT, 0, requests);
            List<Sequence> drafted = run(m, StepEngine.Limits.DEFAULT, 7, requests);
            for (int i = 0; i < requests.size(); i++) {
                assertArrayEquals(plain.get(i).outputIds(), drafted.get(i).outputIds(), "sequence " + i);
                assertEquals(40, drafted.get(i).outputIds().length);
            }
        }
    }

    @Test
    void stepsThatDecodeManySequencesDraftNothing() {
        try (CausalLM m = TinyModels.random(11)) {
            List<SequenceRequest> requests = new ArrayList<>();
            for (int i = 0; i <= StepEngine.MAX_DRAFTING_SEQUENCES; i++) requests.add(SequenceRequest.of(new int[] {1, 5, 9, 5, 9, 5}, SamplingConfig.greedy(20)));
            List<Sequence> out = run(m, StepEngine.Limits.DEFAULT, 7, requests);
            assertEquals(0, lastEngine.draftedTokens(), "a step of " + requests.size() + " decoding sequences is compute-bound already");
            assertArrayEquals(run(m, StepEngine.Limits.DEFAULT, 0, requests).getFirst().outputIds(), out.getFirst().outputIds());
        }
    }
}
