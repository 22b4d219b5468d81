package org.jtune.eval.generation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * ROUGE-N, ROUGE-L and ROUGE-Lsum of one prediction against one reference, as Google's rouge-score computes
 * them (Lin 2004, "ROUGE: A Package for Automatic Evaluation of Summaries"):
 * <ul>
 * <li>ROUGE-N: clipped n-gram overlap; precision over the prediction's n-grams, recall over the reference's.
 * <li>ROUGE-L: longest common subsequence of the whole token sequences; 0 when either is empty.
 * <li>ROUGE-Lsum: texts split into sentences on '\n' (empty lines dropped); for each reference sentence the
 *     union of its LCS with every prediction sentence (one LCS per pair, read back from the DP table with
 *     rouge-score's tie-break); union tokens count as hits while both sides still have that token left
 *     (as ROUGE-1.5.5 does to avoid double counting); P = hits/|prediction|, R = hits/|reference|.
 * </ul>
 * F is 2PR/(P+R). Corpus figures are means of the per-example scores.
 */
public final class Rouge {
    private final RougeTokenizer tokenizer;

    public Rouge(boolean stem) {
        this.tokenizer = new RougeTokenizer(stem);
    }

    public RougeTokenizer tokenizer() {
        return tokenizer;
    }

    public RougeScore rougeN(String reference, String prediction, int n) {
        return rougeN(tokenizer.tokenize(reference), tokenizer.tokenize(prediction), n);
    }

    public RougeScore rougeL(String reference, String prediction) {
        return rougeL(tokenizer.tokenize(reference), tokenizer.tokenize(prediction));
    }

    public RougeScore rougeLsum(String reference, String prediction) {
        return rougeLsum(sentences(reference), sentences(prediction));
    }

    private List<List<String>> sentences(String text) {
        List<List<String>> out = new ArrayList<>();
        for (String s : text.split("\n", -1)) if (!s.isEmpty()) out.add(tokenizer.tokenize(s));
        return out;
    }

    public static RougeScore rougeN(List<String> ref, List<String> pred, int n) {
        Map<List<String>, Integer> r = ngrams(ref, n), p = ngrams(pred, n);
        long overlap = 0, refTotal = 0, predTotal = 0;
        for (var e : r.entrySet()) {
            overlap += Math.min(e.getValue(), p.getOrDefault(e.getKey(), 0));
            refTotal += e.getValue();
        }
        for (int c : p.values()) predTotal += c;
        return RougeScore.of((double) overlap / Math.max(predTotal, 1), (double) overlap / Math.max(refTotal, 1));
    }

    static Map<List<String>, Integer> ngrams(List<String> tokens, int n) {
        Map<List<String>, Integer> out = new HashMap<>();
        for (int i = 0; i + n <= tokens.size(); i++) out.merge(List.copyOf(tokens.subList(i, i + n)), 1, Integer::sum);
        return out;
    }

    public static RougeScore rougeL(List<String> ref, List<String> pred) {
        if (ref.isEmpty() || pred.isEmpty()) return RougeScore.ZERO;
        int lcs = lcsTable(ref, pred)[ref.size()][pred.size()];
        return RougeScore.of((double) lcs / pred.size(), (double) lcs / ref.size());
    }

    public static RougeScore rougeLsum(List<List<String>> refSents, List<List<String>> predSents) {
        if (refSents.isEmpty() || predSents.isEmpty()) return RougeScore.ZERO;
        int m = 0, n = 0;
        Map<String, Integer> refLeft = new HashMap<>(), predLeft = new HashMap<>();
        for (List<String> s : refSents) {
            m += s.size();
            for (String t : s) refLeft.merge(t, 1, Integer::sum);
        }
        for (List<String> s : predSents) {
            n += s.size();
            for (String t : s) predLeft.merge(t, 1, Integer::sum);
        }
        if (m == 0 || n == 0) return RougeScore.ZERO;
        int hits = 0;
        for (List<String> r : refSents) {
            TreeSet<Integer> union = new TreeSet<>();
            for (List<String> c : predSents) union.addAll(lcsIndices(r, c));
            for (int i : union) {
                String t = r.get(i);
                if (predLeft.getOrDefault(t, 0) > 0 && refLeft.getOrDefault(t, 0) > 0) {
                    hits++;
                    predLeft.merge(t, -1, Integer::sum);
                    refLeft.merge(t, -1, Integer::sum);
                }
            }
        }
        return RougeScore.of((double) hits / n, (double) hits / m);
    }

    static int[][] lcsTable(List<String> ref, List<String> can) {
        int[][] t = new int[ref.size() + 1][can.size() + 1];
        for (int i = 1; i <= ref.size(); i++) {
            for (int j = 1; j <= can.size(); j++) {
                t[i][j] = ref.get(i - 1).equals(can.get(j - 1)) ? t[i - 1][j - 1] + 1
                        : Math.max(t[i - 1][j], t[i][j - 1]);
            }
        }
        return t;
    }

    /** Indices into {@code ref} of one LCS: on a mismatch step left when that cell is strictly larger, else up. */
    static List<Integer> lcsIndices(List<String> ref, List<String> can) {
        int[][] t = lcsTable(ref, can);
        int i = ref.size(), j = can.size();
        List<Integer> out = new ArrayList<>();
        while (i > 0 && j > 0) {
            if (ref.get(i - 1).equals(can.get(j - 1))) {
                out.add(0, i - 1);
                i--;
                j--;
            } else if (t[i][j - 1] > t[i - 1][j]) {
                j--;
            } else {
                i--;
            }
        }
        return out;
    }
}
