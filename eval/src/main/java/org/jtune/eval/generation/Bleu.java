package org.jtune.eval.generation;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Corpus BLEU (Papineni et al. 2002) exactly as sacreBLEU 2.x computes it with its defaults: segments
 * right-stripped and tokenised with {@link Tokenizer13a}, case kept, n-grams up to 4 clipped by the maximum
 * count over the references, reference length = the closest reference length (ties: the shorter), statistics
 * summed over the corpus, brevity penalty exp(1 - r/c) when c &lt; r, and "exp" smoothing (Chen &amp; Cherry
 * 2014 method 3, as mteval-v13a: the k-th order with no match gets precision 1/(2^k * total)). No match at
 * all gives 0. Scores are on sacreBLEU's 0-100 scale.
 *
 * <p>{@link #segmentStats} gives the additive per-segment statistics {@code [sysLen, refLen, correct_1..4,
 * total_1..4]} so that resamples can be scored by summing; {@link #score(long[])} turns a sum into BLEU.
 */
public final class Bleu {
    public static final int MAX_ORDER = 4;
    public static final int STATS = 2 + 2 * MAX_ORDER;
    private final Tokenizer13a tokenizer = new Tokenizer13a();

    /** The per-segment statistics of one hypothesis against its references. */
    public long[] segmentStats(String hypothesis, List<String> references) {
        List<String> hyp = PythonWhitespace.split(tokenizer.tokenize(PythonWhitespace.rstrip(hypothesis)));
        Map<List<String>, Integer> refMax = new HashMap<>();
        int closest = -1, closestDiff = -1;
        for (String ref : references) {
            List<String> r = PythonWhitespace.split(tokenizer.tokenize(PythonWhitespace.rstrip(ref)));
            for (var e : ngrams(r).entrySet()) refMax.merge(e.getKey(), e.getValue(), Math::max);
            int diff = Math.abs(hyp.size() - r.size());
            if (closestDiff < 0 || diff < closestDiff || (diff == closestDiff && r.size() < closest)) {
                closestDiff = diff;
                closest = r.size();
            }
        }
        long[] s = new long[STATS];
        s[0] = hyp.size();
        s[1] = Math.max(closest, 0);
        for (var e : ngrams(hyp).entrySet()) {
            int n = e.getKey().size();
            s[1 + n] += Math.min(e.getValue(), refMax.getOrDefault(e.getKey(), 0));
        }
        for (int n = 1; n <= MAX_ORDER; n++) s[1 + MAX_ORDER + n] = Math.max(0, hyp.size() - n + 1);
        return s;
    }

    private static Map<List<String>, Integer> ngrams(List<String> tokens) {
        Map<List<String>, Integer> out = new HashMap<>();
        for (int n = 1; n <= MAX_ORDER; n++) {
            for (int i = 0; i + n <= tokens.size(); i++) out.merge(List.copyOf(tokens.subList(i, i + n)), 1, Integer::sum);
        }
        return out;
    }

    /** Corpus BLEU of hypotheses, each with its own list of references. */
    public double corpusScore(List<String> hypotheses, List<List<String>> references) {
        long[] sum = new long[STATS];
        for (int i = 0; i < hypotheses.size(); i++) {
            long[] s = segmentStats(hypotheses.get(i), references.get(i));
            for (int j = 0; j < STATS; j++) sum[j] += s[j];
        }
        return score(sum);
    }

    /** BLEU (0-100) from summed statistics. */
    public static double score(long[] stats) {
        long sysLen = stats[0], refLen = stats[1];
        long[] correct = new long[MAX_ORDER], total = new long[MAX_ORDER];
        boolean anyMatch = false;
        for (int n = 0; n < MAX_ORDER; n++) {
            correct[n] = stats[2 + n];
            total[n] = stats[2 + MAX_ORDER + n];
            anyMatch |= correct[n] > 0;
        }
        return score(correct, total, sysLen, refLen, anyMatch);
    }

    /** sacreBLEU's {@code compute_bleu} with exp smoothing and no effective order; 0-100. */
    public static double score(long[] correct, long[] total, long sysLen, long refLen) {
        boolean anyMatch = false;
        for (long c : correct) anyMatch |= c > 0;
        return score(correct, total, sysLen, refLen, anyMatch);
    }

    private static double score(long[] correct, long[] total, long sysLen, long refLen, boolean anyMatch) {
        double bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - (double) refLen / sysLen) : 0.0) : 1.0;
        if (!anyMatch) return 0.0;
        double[] precision = new double[MAX_ORDER];
        double smooth = 1;
        for (int n = 0; n < MAX_ORDER; n++) {
            if (total[n] == 0) break;
            if (correct[n] == 0) {
                smooth *= 2;
                precision[n] = 100.0 / (smooth * total[n]);
            } else {
                precision[n] = 100.0 * correct[n] / total[n];
            }
        }
        double logSum = 0;
        for (double p : precision) logSum += p == 0 ? -9999999999.0 : Math.log(p); // sacreBLEU's my_log
        return bp * Math.exp(logSum / MAX_ORDER);
    }
}
