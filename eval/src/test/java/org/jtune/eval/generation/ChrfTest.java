package org.jtune.eval.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** chrF against sacreBLEU's published cases (test/test_chrf.py) and the Hugging Face chrF metric card. */
class ChrfTest {
    static double corpus(Chrf c, List<String> hyps, List<String> refs) {
        return c.corpusScore(hyps, refs.stream().map(List::of).toList());
    }

    @Test
    void defaultsMatchMetricCardExamples() {
        // huggingface/datasets metrics/chrf/README.md (sacreBLEU 2.x underneath)
        List<String> pred = List.of("The relationship between cats and dogs is not exactly friendly.",
                "a good bookshop is just a genteel black hole that knows how to read.");
        List<String> ref = List.of("The relationship between dogs and cats is not exactly friendly.",
                "A good bookshop is just a genteel Black Hole that knows how to read.");
        assertEquals(84.64214891738334, corpus(Chrf.defaults(), pred, ref), 1e-9);
        assertEquals(82.87263732906315, corpus(Chrf.of(6, 2, 2, false, false), pred, ref), 1e-9);
        assertEquals(92.12853119829202, corpus(Chrf.of(6, 2, 2, true, false), pred, ref), 1e-9);
    }

    @Test
    void sacrebleuTestCasesBeta3() {
        Chrf eps = Chrf.of(6, 0, 3, false, true);
        Chrf eff = Chrf.of(6, 0, 3, false, false);
        // test_cases (eps_smoothing=True), published to 4 decimals (their EPSILON is 1e-4)
        assertEquals(0.0, corpus(eps, List.of("abcdefg"), List.of("hijklmnop")), 1e-4);
        assertEquals(0.0, corpus(eps, List.of(""), List.of("reference")), 1e-4);
        assertEquals(8.3333, corpus(eps, List.of("aa"), List.of("ab")), 1e-4);
        assertEquals(8.3333, corpus(eps, List.of("a", "b"), List.of("a", "c")), 1e-4);
        assertEquals(16.6667, corpus(eps, List.of("a"), List.of("a")), 1e-4);
        assertEquals(50.0, corpus(eps, List.of("a b c"), List.of("abc")), 1e-4);
        assertEquals(63.361730, corpus(eps, List.of(" risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists ."),
                List.of("risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .")), 1e-6);
        // 64.1302698 is carried over from sacreBLEU 1.x, where it was the effective-order score
        // (0.64130269831561459 in 1.x's test); with epsilon smoothing it holds only to their 1e-4.
        List<String> deHyp = List.of(" Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. ");
        List<String> deRef = List.of("Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.");
        assertEquals(64.1302698, corpus(eps, deHyp, deRef), 1e-4);
        assertEquals(64.130269831561459, corpus(eff, deHyp, deRef), 1e-9);
        assertEquals(100.0, corpus(eps, List.of("Niemand hat die Absicht, eine Mauer zu errichten"),
                List.of("Niemand hat die Absicht, eine Mauer zu errichten")), 1e-9);
        // test_cases_effective_order (eps_smoothing=False)
        assertEquals(100.0, corpus(eff, List.of("a"), List.of("a")), 1e-9);
        assertEquals(0.0, corpus(eff, List.of(""), List.of("reference")), 1e-9);
        assertEquals(100.0, corpus(eff, List.of("a b c"), List.of("abc")), 1e-9);
        assertEquals(50.0, corpus(eff, List.of("a", "b"), List.of("a", "c")), 1e-9);
        assertEquals(25.0, corpus(eff, List.of("aa"), List.of("ab")), 1e-9);
    }

    @Test
    void sentenceLevelDefaultsWithEpsSmoothing() {
        // test_sentence_level_chrf: sentence_chrf(hyp, refs, eps_smoothing=True), beta 2
        Chrf c = Chrf.of(6, 0, 2, false, true);
        assertEquals(39.14078509, c.score(c.segmentStats("Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.",
                List.of("Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře."))), 1e-6);
        assertEquals(31.22557079, c.score(c.segmentStats("Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.",
                List.of("A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři."))), 1e-6);
        assertEquals(57.15704367, c.score(c.segmentStats("Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.",
                List.of("Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli."))), 1e-6);
    }
}
