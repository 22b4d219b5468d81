package org.jtune.eval.generation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * chrF (Popović 2015) and chrF++ (Popović 2017) as sacreBLEU 2.x computes them. Defaults are sacreBLEU's:
 * character n-grams up to 6, no word n-grams, beta 2, whitespace removed, case kept, no epsilon smoothing.
 * Per order the statistics are (hypothesis n-grams, reference n-grams, clipped matches); with several
 * references a segment keeps the statistics of the reference with the best segment F. Corpus statistics are
 * sums; the score averages precision and recall over the orders that have n-grams on both sides and returns
 * (1+β²)PR/(β²P+R), or with epsilon smoothing the mean of the per-order F scores (missing orders count
 * 1e-16). Word n-grams split words on whitespace and peel one punctuation mark off the end (else the start)
 * of each word longer than one character. Scores are on sacreBLEU's 0-100 scale.
 */
public final class Chrf {
    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    private static final double EPS = 1e-16;
    private final int charOrder, wordOrder;
    private final double beta;
    private final boolean lowercase, epsSmoothing;

    private Chrf(int charOrder, int wordOrder, double beta, boolean lowercase, boolean epsSmoothing) {
        this.charOrder = charOrder;
        this.wordOrder = wordOrder;
        this.beta = beta;
        this.lowercase = lowercase;
        this.epsSmoothing = epsSmoothing;
    }

    /** sacreBLEU's defaults: chrF2, character order 6, no words. */
    public static Chrf defaults() {
        return new Chrf(6, 0, 2, false, false);
    }

    public static Chrf of(int charOrder, int wordOrder, double beta, boolean lowercase, boolean epsSmoothing) {
        return new Chrf(charOrder, wordOrder, beta, lowercase, epsSmoothing);
    }

    public int statsLength() {
        return 3 * (charOrder + wordOrder);
    }

    public long[] segmentStats(String hypothesis, List<String> references) {
        List<Map<String, Integer>> hyp = extract(hypothesis);
        long[] best = null;
        double bestF = -1;
        for (String ref : references) {
            List<Map<String, Integer>> r = extract(ref);
            long[] stats = new long[statsLength()];
            for (int o = 0; o < hyp.size(); o++) {
                long h = 0, rr = 0, m = 0;
                for (var e : hyp.get(o).entrySet()) {
                    h += e.getValue();
                    m += Math.min(e.getValue(), r.get(o).getOrDefault(e.getKey(), 0));
                }
                for (int c : r.get(o).values()) rr += c;
                stats[3 * o] = h;
                stats[3 * o + 1] = rr;
                stats[3 * o + 2] = m;
            }
            double f = score(stats);
            if (f > bestF) {
                bestF = f;
                best = stats;
            }
        }
        return best == null ? new long[statsLength()] : best;
    }

    private List<Map<String, Integer>> extract(String segment) {
        String s = lowercase ? segment.toLowerCase(Locale.ROOT) : segment;
        List<Map<String, Integer>> out = new ArrayList<>();
        String chars = PythonWhitespace.removeAll(s);
        int[] cps = chars.codePoints().toArray(); // Python indexes code points
        for (int n = 1; n <= charOrder; n++) {
            Map<String, Integer> m = new HashMap<>();
            for (int i = 0; i + n <= cps.length; i++) m.merge(new String(cps, i, n), 1, Integer::sum);
            out.add(m);
        }
        if (wordOrder > 0) {
            List<String> words = splitPunctuation(s);
            for (int n = 1; n <= wordOrder; n++) {
                Map<String, Integer> m = new HashMap<>();
                for (int i = 0; i + n <= words.size(); i++) m.merge(String.join("\u0000", words.subList(i, i + n)), 1, Integer::sum);
                out.add(m);
            }
        }
        return out;
    }

    private static List<String> splitPunctuation(String s) {
        List<String> out = new ArrayList<>();
        for (String w : PythonWhitespace.split(s)) {
            int len = w.codePointCount(0, w.length());
            if (len == 1) {
                out.add(w);
            } else if (PUNCTUATION.indexOf(w.charAt(w.length() - 1)) >= 0) {
                out.add(w.substring(0, w.length() - 1));
                out.add(w.substring(w.length() - 1));
            } else if (PUNCTUATION.indexOf(w.charAt(0)) >= 0) {
                out.add(w.substring(0, 1));
                out.add(w.substring(1));
            } else {
                out.add(w);
            }
        }
        return out;
    }

    public double corpusScore(List<String> hypotheses, List<List<String>> references) {
        long[] sum = new long[statsLength()];
        for (int i = 0; i < hypotheses.size(); i++) {
            long[] s = segmentStats(hypotheses.get(i), references.get(i));
            for (int j = 0; j < sum.length; j++) sum[j] += s[j];
        }
        return score(sum);
    }

    /** chrF (0-100) from summed statistics. */
    public double score(long[] stats) {
        int orders = stats.length / 3;
        double factor = beta * beta, avgP = 0, avgR = 0, fSum = 0;
        int effective = 0;
        for (int o = 0; o < orders; o++) {
            long h = stats[3 * o], r = stats[3 * o + 1], m = stats[3 * o + 2];
            double p = h > 0 ? (double) m / h : EPS, rec = r > 0 ? (double) m / r : EPS;
            double denom = factor * p + rec;
            fSum += denom > 0 ? (1 + factor) * p * rec / denom : EPS;
            if (h > 0 && r > 0) effective++;
            avgP += p;
            avgR += rec;
        }
        if (epsSmoothing) return 100 * fSum / orders;
        if (effective == 0) return 0;
        avgP /= effective;
        avgR /= effective;
        if (avgP + avgR == 0) return 0;
        return 100 * (1 + factor) * avgP * avgR / (factor * avgP + avgR);
    }
}
