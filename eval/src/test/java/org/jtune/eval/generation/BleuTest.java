package org.jtune.eval.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.jtune.eval.Lcg;
import org.junit.jupiter.api.Test;

/** Corpus BLEU against sacreBLEU's published test cases (test/test_bleu.py) and NLTK on random corpora. */
class BleuTest {
    static final List<String> HYPS = List.of("The dog bit the man.", "It wasn't surprising.", "The man had just bitten him.");
    static final List<List<String>> REFS = List.of(
            List.of("The dog bit the man.", "The dog had bit the man."),
            List.of("It was not unexpected.", "No one was surprised."),
            List.of("The man bit him first.", "The man had bitten the dog."));

    @Test
    void sacrebleuReadmeExample() {
        // test_corpus_bleu_cases: default settings and tokenize='13a' -> 48.530827 (their EPSILON 1e-8)
        assertEquals(48.530827, new Bleu().corpusScore(HYPS, REFS), 1e-6);
        // empty hypotheses are kept and score 0
        assertEquals(0.0, new Bleu().corpusScore(List.of("", "", ""), REFS), 0);
    }

    @Test
    void sacrebleuStatisticsAndScoring() {
        // test_case_statistics: counts [4,2,1,0], totals [6,5,4,3]
        long[] s = new Bleu().segmentStats("am I am a character sequence", List.of("I am a symbol string sequence a a"));
        assertArrayEquals(new long[] {6, 8, 4, 2, 1, 0, 6, 5, 4, 3}, s);
        // test_case_scoring: compute_bleu([9,7,5,3], [10,8,6,4], 11, 11) / 100 = 0.8375922397
        assertEquals(0.8375922397, Bleu.score(new long[] {9, 7, 5, 3}, new long[] {10, 8, 6, 4}, 11, 11) / 100, 1e-10);
    }

    @Test
    void tokenizer13a() {
        Tokenizer13a t = new Tokenizer13a();
        // (checked against the transcription in bench/peers/eval_reference.py) the apostrophe is not among 13a's padded symbols
        assertEquals("It wasn't surprising .", t.tokenize("It wasn't surprising."));
        assertEquals("costs 3.5 or 1,000 , 2 - 3 ( x ) & \" q \"", t.tokenize("costs 3.5 or 1,000, 2-3 (x) &amp; &quot;q&quot;"));
    }

    static final String[] WORDS = {"the", "cat", "sat", "on", "mat", ",", ".", "dog", "a", "3.5", "1,000", "don't",
            "(yes)", "x-ray", "2-3", "is", "was", "big", "small", "red", "blue", "ran", "quickly", "!"};

    @Test
    void agreesWithNltkOnRandomCorpora() {
        // nltk 3.8 corpus_bleu(weights=(.25,)*4, SmoothingFunction().method3) * 100 on 13a tokens,
        // bench/peers/eval_reference.py, seeds 31, 32, 33 (every hypothesis has >= 4 tokens, where NLTK's
        // and sacreBLEU's n-gram totals coincide)
        long[] seeds = {31, 32, 33};
        double[] expected = {36.65029681965636, 37.383071658272485, 50.41948522916826};
        for (int s = 0; s < seeds.length; s++) {
            Lcg g = new Lcg(seeds[s]);
            int n = 5 + g.next(10);
            List<String> hyps = new ArrayList<>();
            List<List<String>> refs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int len = 4 + g.next(12);
                List<String> ref = new ArrayList<>();
                for (int j = 0; j < len; j++) ref.add(WORDS[g.next(WORDS.length)]);
                List<String> hyp = new ArrayList<>();
                for (String w : ref) hyp.add(g.next(4) > 0 ? w : WORDS[g.next(WORDS.length)]);
                hyp = hyp.subList(0, Math.max(4, hyp.size() - g.next(3)));
                hyps.add(String.join(" ", hyp));
                refs.add(List.of(String.join(" ", ref)));
            }
            assertEquals(expected[s], new Bleu().corpusScore(hyps, refs), 1e-9, "seed " + seeds[s]);
        }
    }
}
