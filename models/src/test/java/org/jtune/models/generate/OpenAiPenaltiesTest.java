package org.jtune.models.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/**
 * OpenAI's presence and frequency penalties and logit bias against the formula of its API reference, computed in
 * double from the tokens taken so far; and through the step engine on stories260K: a bias of +100 forces a token,
 * −100 bans the greedy one, and strong penalties make greedy text repeat fewer tokens.
 */
class OpenAiPenaltiesTest {
    @Test
    void theRowIsTheApiFormulaOfTheTokensTakenSoFar() {
        Random rnd = new Random(5);
        for (int round = 0; round < 50; round++) {
            int vocab = 1 + rnd.nextInt(300);
            float presence = (float) (rnd.nextDouble() * 4 - 2), frequency = (float) (rnd.nextDouble() * 4 - 2);
            Map<Integer, Float> bias = new HashMap<>();
            for (int i = 0; i < 5; i++) bias.put(rnd.nextInt(vocab + 3), (float) (rnd.nextDouble() * 200 - 100)); // ids past the row are ignored
            LogitsProcessor.State s = new OpenAiPenalties(presence, frequency, bias).start();
            int[] count = new int[vocab + 3];
            for (int step = 0; step < 20; step++) {
                float[] logits = new float[vocab];
                for (int i = 0; i < vocab; i++) logits[i] = (float) rnd.nextGaussian() * 5;
                float[] before = logits.clone();
                s.process(logits);
                for (int j = 0; j < vocab; j++) {
                    double expected = before[j] + bias.getOrDefault(j, 0f) - count[j] * (double) frequency - (count[j] > 0 ? presence : 0);
                    assertEquals(expected, logits[j], 1e-4 * (1 + Math.abs(expected)), "token " + j + " at step " + step);
                }
                int taken = rnd.nextInt(Math.min(vocab, 8)); // a few tokens, taken often
                s.accept(taken);
                count[taken]++;
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new OpenAiPenalties(2.5f, 0, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new OpenAiPenalties(0, 0, Map.of(3, 101f)));
    }

    @Test
    void onStories260KBiasForcesOrBansAndPenaltiesCutRepeats() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        try (CausalLM model = Architectures.load(dir)) {
            Tokenizer tok = Tokenizer.load(dir);
            List<int[]> prompt = List.of(tok.encode("Once upon a time", true));
            SamplingConfig greedy = SamplingConfig.greedy(60);
            int[] plain = Generator.generate(model, prompt, greedy, null, null).getFirst().outputIds();
            int forced = tok.idOf("▁Lily").orElseThrow();
            int[] all = Generator.generate(model, prompt, greedy.withProcessor(new OpenAiPenalties(0, 0, Map.of(forced, 100f))), null, null)
                    .getFirst().outputIds();
            assertTrue(Arrays.stream(all).allMatch(t -> t == forced), Arrays.toString(all));
            int[] banned = Generator.generate(model, prompt, greedy.withProcessor(new OpenAiPenalties(0, 0, Map.of(plain[0], -100f))), null, null)
                    .getFirst().outputIds();
            assertNotEquals(plain[0], banned[0]);
            assertTrue(Arrays.stream(banned).noneMatch(t -> t == plain[0]), Arrays.toString(banned));
            int[] penalised = Generator.generate(model, prompt, greedy.withProcessor(new OpenAiPenalties(2, 2, Map.of())), null, null)
                    .getFirst().outputIds();
            long distinctPlain = Arrays.stream(plain).distinct().count(), distinctPenalised = Arrays.stream(penalised).distinct().count();
            assertTrue(distinctPenalised > distinctPlain, distinctPlain + " distinct tokens without, " + distinctPenalised + " with");
        }
    }
}
