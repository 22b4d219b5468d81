package org.jtune.train.data;

import org.jtune.models.chat.Message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Near-duplicate search against a brute-force Jaccard over every pair of shingle sets. */
class NearDuplicateIndexTest {

    /** The reference: Jaccard of the two texts' 5-gram sets, as plain string sets. */
    private static double bruteJaccard(String a, String b) {
        Set<String> x = grams(a);
        Set<String> y = grams(b);
        Set<String> inter = new HashSet<>(x);
        inter.retainAll(y);
        Set<String> union = new HashSet<>(x);
        union.addAll(y);
        return union.isEmpty() ? 1 : (double) inter.size() / union.size();
    }

    private static Set<String> grams(String s) {
        Set<String> g = new HashSet<>();
        if (s.length() <= NearDuplicateIndex.SHINGLE) {
            if (!s.isEmpty()) g.add(s);
            return g;
        }
        for (int i = 0; i + NearDuplicateIndex.SHINGLE <= s.length(); i++) g.add(s.substring(i, i + NearDuplicateIndex.SHINGLE));
        return g;
    }

    @Test
    void jaccardOfShingleHashesMatchesTheStringSets() {
        Random r = new Random(7);
        String[] words = {"card", "refund", "my", "is", "not", "arrived", "yet", "why", "fee", "the", "atm"};
        for (int t = 0; t < 300; t++) {
            String a = sentence(r, words, 1 + r.nextInt(12));
            String b = r.nextBoolean() ? edit(r, a, words) : sentence(r, words, 1 + r.nextInt(12));
            assertEquals(bruteJaccard(a, b), NearDuplicateIndex.jaccard(NearDuplicateIndex.shingles(a), NearDuplicateIndex.shingles(b)), 1e-12,
                    a + " | " + b);
        }
    }

    @Test
    void findsEveryPairAboveTheThresholdAndNothingBelow() {
        Random r = new Random(11);
        String[] words = {"card", "refund", "my", "is", "not", "arrived", "yet", "why", "fee", "the", "atm", "transfer",
                "pending", "top", "up", "cash", "exchange", "rate", "pin", "blocked"};
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            texts.add(i > 0 && r.nextInt(3) == 0 ? edit(r, texts.get(r.nextInt(i)), words) : sentence(r, words, 6 + r.nextInt(10)));
        }
        double threshold = 0.7;
        NearDuplicateIndex index = new NearDuplicateIndex(threshold);
        int expectedPairs = 0;
        int found = 0;
        for (int i = 0; i < texts.size(); i++) {
            List<Integer> matches = index.matches(texts.get(i));
            Set<Integer> expected = new HashSet<>();
            for (int j = 0; j < i; j++) if (bruteJaccard(texts.get(i), texts.get(j)) >= threshold) expected.add(j);
            expectedPairs += expected.size();
            for (int m : matches) assertTrue(expected.contains(m), "false positive " + texts.get(m) + " | " + texts.get(i));
            found += matches.size();
            index.add(texts.get(i));
        }
        assertTrue(expectedPairs > 50, "the generator should make near duplicates: " + expectedPairs);
        // LSH misses a pair at s >= 0.7 with probability <= (1 - 0.7^5)^20 = 0.03%
        assertTrue(found >= expectedPairs - 1, found + " of " + expectedPairs);
    }

    @Test
    void inputTextSkipsTheSystemPromptAndNormalises() {
        Conversation c = new Conversation(List.of(Message.system("You route tickets."), Message.user("My CARD, it's LOST!"),
                Message.assistant("lost_card")), new SourceLine(java.nio.file.Path.of("f"), 1), DatasetFormat.CHAT);
        assertEquals("my card it s lost", NearDuplicateIndex.inputText(c));
    }

    private static String sentence(Random r, String[] words, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
        return sb.toString();
    }

    private static String edit(Random r, String s, String[] words) {
        List<String> w = new ArrayList<>(List.of(s.split(" ")));
        int edits = 1 + r.nextInt(2);
        for (int e = 0; e < edits; e++) {
            int at = r.nextInt(w.size());
            switch (r.nextInt(3)) {
                case 0 -> w.set(at, words[r.nextInt(words.length)]);
                case 1 -> w.add(at, words[r.nextInt(words.length)]);
                default -> { if (w.size() > 1) w.remove(at); }
            }
        }
        return String.join(" ", w);
    }
}
