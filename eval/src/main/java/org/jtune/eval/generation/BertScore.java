package org.jtune.eval.generation;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * BERTScore (Zhang et al., "BERTScore: Evaluating Text Generation with BERT", ICLR 2020) of a candidate against its
 * reference, from their tokens' contextual embeddings, with the semantics of the authors' {@code bert_score} package:
 * embeddings are normalised; every candidate token is matched to its most cosine-similar reference token (precision)
 * and every reference token to its most similar candidate token (recall); each side averages its tokens' best matches
 * weighted by their {@link #idf} (or weight 1 each), a weight-0 token (the sequence start) taking part in the matching
 * but not in its side's average; F1 is the harmonic mean. A side without weighted tokens (an empty text) scores 0, and
 * F1 is 0 when precision and recall are both 0.
 */
public final class BertScore {
    private BertScore() {}

    /** Precision, recall and F1 of one pair. */
    public record Score(double precision, double recall, double f1) {}

    /**
     * The score of a candidate (rows of {@code cand}, one per token, with weights {@code candWeights}) against a reference.
     * Similarities are accumulated in double precision.
     */
    public static Score score(float[][] cand, double[] candWeights, float[][] ref, double[] refWeights) {
        double[] cn = norms(cand), rn = norms(ref);
        double[] bestForCand = new double[cand.length], bestForRef = new double[ref.length];
        java.util.Arrays.fill(bestForCand, Double.NEGATIVE_INFINITY);
        java.util.Arrays.fill(bestForRef, Double.NEGATIVE_INFINITY);
        for (int i = 0; i < cand.length; i++) {
            for (int j = 0; j < ref.length; j++) {
                double dot = 0;
                float[] a = cand[i], b = ref[j];
                for (int k = 0; k < a.length; k++) dot += (double) a[k] * b[k];
                double sim = dot / (cn[i] * rn[j]);
                if (sim > bestForCand[i]) bestForCand[i] = sim;
                if (sim > bestForRef[j]) bestForRef[j] = sim;
            }
        }
        double p = weighted(bestForCand, candWeights), r = weighted(bestForRef, refWeights);
        double f = p + r == 0 ? 0 : 2 * p * r / (p + r);
        return new Score(p, r, Double.isNaN(f) ? 0 : f);
    }

    private static double[] norms(float[][] rows) {
        double[] n = new double[rows.length];
        for (int i = 0; i < rows.length; i++) {
            double s = 0;
            for (float v : rows[i]) s += (double) v * v;
            n[i] = Math.sqrt(s);
        }
        return n;
    }

    private static double weighted(double[] best, double[] weights) {
        double sum = 0, total = 0;
        for (int i = 0; i < best.length; i++) {
            if (weights[i] == 0) continue;
            sum += best[i] * weights[i];
            total += weights[i];
        }
        return total == 0 ? 0 : sum / total;
    }

    /**
     * bert_score's inverse document frequencies from the references (token ids): idf(w) = ln((M + 1) / (df(w) + 1)) for M
     * references of which df(w) hold w; a token no reference holds gets ln(M + 1).
     */
    public static Map<Integer, Double> idf(List<int[]> references) {
        Map<Integer, Integer> df = new HashMap<>();
        for (int[] ref : references) {
            Set<Integer> seen = new HashSet<>();
            for (int id : ref) if (seen.add(id)) df.merge(id, 1, Integer::sum);
        }
        int m = references.size();
        Map<Integer, Double> idf = new HashMap<>();
        df.forEach((id, count) -> idf.put(id, Math.log((m + 1.0) / (count + 1.0))));
        return idf;
    }

    /** The idf of a token from {@link #idf}'s map of the same M references. */
    public static double idfOf(Map<Integer, Double> idf, int id, int references) {
        Double v = idf.get(id);
        return v != null ? v : Math.log(references + 1.0);
    }
}
