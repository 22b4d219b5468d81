package org.jtune.models.generate;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/** Sampling follows its definitions; generation is reproducible from the seed, stops where asked and streams every token. */
class SamplerTest {
    @Test
    void greedyTakesTheFirstMaximumAndTopKOneIsGreedy() {
        float[] logits = {0.5f, 3f, 3f, -1f};
        assertEquals(1, new Sampler(SamplingConfig.greedy(1)).next(logits.clone(), new int[0], 0));
        Sampler k1 = new Sampler(SamplingConfig.greedy(1).withTemperature(1.5f).withTopK(1).withSeed(9));
        for (int i = 0; i < 20; i++) assertEquals(1, k1.next(logits.clone(), new int[0], 0));
    }

    @Test
    void samplingFrequenciesFollowTheDistributionAndFiltersCutTheTail() {
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        int n = 40_000;
        int[] counts = new int[4], topP = new int[4], minP = new int[4];
        Sampler plain = new Sampler(SamplingConfig.greedy(1).withTemperature(1f).withSeed(1));
        Sampler nucleus = new Sampler(SamplingConfig.greedy(1).withTemperature(1f).withTopP(0.75f).withSeed(2));
        Sampler relative = new Sampler(SamplingConfig.greedy(1).withTemperature(1f).withMinP(0.35f).withSeed(3));
        for (int i = 0; i < n; i++) {
            counts[plain.next(logits.clone(), new int[0], 0)]++;
            topP[nucleus.next(logits.clone(), new int[0], 0)]++;
            minP[relative.next(logits.clone(), new int[0], 0)]++;
        }
        double[] p = {0.5, 0.3, 0.15, 0.05};
        for (int i = 0; i < 4; i++) assertEquals(p[i], counts[i] / (double) n, 0.01, "token " + i);
        assertEquals(0, topP[2] + topP[3], "top-p 0.75 keeps the two tokens whose mass reaches it");
        assertEquals(0.5 / 0.8, topP[0] / (double) n, 0.01);
        assertEquals(0, minP[2] + minP[3], "min-p 0.35 drops tokens below 0.175");
    }

    @Test
    void repetitionPenaltyLowersSeenTokens() {
        float[] logits = {2f, 1.9f, -1f};
        Sampler s = new Sampler(SamplingConfig.greedy(1).withRepetitionPenalty(1.5f));
        assertEquals(1, s.next(logits.clone(), new int[] {0}, 1), "2/1.5 < 1.9");
        float[] l = {2f, -1f};
        Sampler.applyRepetitionPenalty(l, new int[] {1}, 1, 2f);
        assertEquals(-2f, l[1], "negative logits are multiplied");
    }

    @Test
    void generationIsSeededStopsOnStringsAndStreams() throws Exception {
        var dir = SharedData.require("models/stories260K");
        try (CausalLM model = Architectures.load(dir)) {
            Tokenizer tok = Tokenizer.load(dir);
            int[] prompt = tok.encode("Once upon a time", true);
            SamplingConfig cfg = SamplingConfig.greedy(40).withTemperature(0.9f).withTopP(0.95f).withSeed(5);
            var a = Generator.generate(model, List.of(prompt), cfg, ids -> tok.decode(ids, true), null).getFirst();
            int[] streamed = new int[40];
            int[] count = {0};
            var b = Generator.generate(model, List.of(prompt), cfg, ids -> tok.decode(ids, true), (s, id) -> streamed[count[0]++] = id).getFirst();
            assertArrayEquals(a.outputIds(), b.outputIds(), "same seed, same tokens");
            assertArrayEquals(a.outputIds(), java.util.Arrays.copyOf(streamed, count[0]), "every token streamed in order");
            var stopped = Generator.generate(model, List.of(prompt), SamplingConfig.greedy(100).withStopStrings(List.of("Lily")),
                    ids -> tok.decode(ids, true), null).getFirst();
            assertEquals(Sequence.Finish.STOP_STRING, stopped.finish());
            assertEquals(", there was a little girl named ", stopped.text());
        }
    }
}
