package org.jtune.cli.demo;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.models.tokenizer.ByteLevelAlphabet;

/**
 * Learns a byte-level BPE vocabulary (GPT-2 style: bytes written as printable characters, a word's
 * leading space kept as 'Ġ') from a small corpus: start from the 256 byte symbols and repeatedly merge
 * the most frequent adjacent pair (ties broken by the pair's text, so the result is deterministic).
 */
final class TinyBpe {
    record Vocabulary(List<String> tokens, List<String> merges) {}

    private TinyBpe() {}

    static Vocabulary learn(List<String> corpus, int mergeCount) {
        Map<List<String>, Integer> words = new HashMap<>();
        for (String text : corpus) {
            for (String w : text.split("(?= )")) {
                List<String> symbols = new ArrayList<>();
                for (byte b : w.getBytes(StandardCharsets.UTF_8)) symbols.add(String.valueOf(ByteLevelAlphabet.charOf(b & 0xff)));
                words.merge(symbols, 1, Integer::sum);
            }
        }
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) tokens.add(String.valueOf(ByteLevelAlphabet.charOf(b)));
        List<String> merges = new ArrayList<>();
        for (int m = 0; m < mergeCount; m++) {
            Map<String, Integer> pairs = new LinkedHashMap<>();
            for (var e : words.entrySet()) {
                List<String> s = e.getKey();
                for (int i = 0; i + 1 < s.size(); i++) pairs.merge(s.get(i) + " " + s.get(i + 1), e.getValue(), Integer::sum);
            }
            String best = null;
            int bestCount = 1;
            for (var e : pairs.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best == null) break;
            merges.add(best);
            String[] ab = best.split(" ");
            tokens.add(ab[0] + ab[1]);
            Map<List<String>, Integer> next = new HashMap<>();
            for (var e : words.entrySet()) {
                List<String> s = e.getKey(), t = new ArrayList<>();
                for (int i = 0; i < s.size(); i++) {
                    if (i + 1 < s.size() && s.get(i).equals(ab[0]) && s.get(i + 1).equals(ab[1])) {
                        t.add(ab[0] + ab[1]);
                        i++;
                    } else {
                        t.add(s.get(i));
                    }
                }
                next.merge(t, e.getValue(), Integer::sum);
            }
            words = next;
        }
        return new Vocabulary(tokens, merges);
    }
}
