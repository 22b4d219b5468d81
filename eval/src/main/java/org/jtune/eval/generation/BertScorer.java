package org.jtune.eval.generation;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.HiddenStates;
import org.jtune.models.arch.Architectures;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * {@link BertScore} with a decoder model's token embeddings: the hidden states after the first {@code depth} layers
 * ({@link CausalLM#hiddenAfter}). A text is encoded after the tokenizer's sequence start, which gives the first word a
 * context (as [CLS] does for BERT) and takes part in the matching with weight 0, and is cut at {@link #MAX_TOKENS} or
 * the model's context. Compare runs only under the same scorer (model, depth, idf): the scorer is a model kept fixed,
 * such as the base model, not the model under test. With idf the weights come from the scored set's references.
 */
public final class BertScorer implements AutoCloseable {
    /** Tokens of a text at most (bert_score cuts at BERT's 510). */
    public static final int MAX_TOKENS = 510;
    private final CausalLM model;
    private final Tokenizer tokenizer;
    private final int depth;
    private final boolean idf;
    private final String name;
    private final Map<String, Embedded> cache = new HashMap<>(); // a baseline and a candidate share their references

    private record Embedded(int[] ids, float[][] rows) {}

    /** Per-example precision, recall and F1, in the order of the pairs. */
    public record Scores(double[] precision, double[] recall, double[] f1) {}

    private BertScorer(CausalLM model, Tokenizer tokenizer, int depth, boolean idf, String name) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.depth = depth;
        this.idf = idf;
        this.name = name;
    }

    /**
     * The scorer of a model folder at {@code depth} layers (null: two thirds of the model's layers, rounded, about where
     * bert_score's tuned layers sit), idf-weighted or not.
     */
    public static BertScorer load(Path dir, Integer depth, boolean idf) throws JtuneException {
        CausalLM m = Architectures.load(dir);
        int layers = m.config().numHiddenLayers();
        int d = depth != null ? depth : Math.round(layers * 2f / 3f);
        if (d < 1 || d > layers) {
            m.close();
            throw new JtuneException("--bertscore-layer " + d + " is outside 1.." + layers + ", the layers of " + dir);
        }
        return of(m, Tokenizer.load(dir), d, idf, dir.getFileName() + "");
    }

    /** A scorer over a loaded model (closed with the scorer). */
    public static BertScorer of(CausalLM model, Tokenizer tokenizer, int depth, boolean idf, String modelName) {
        CausalLM.checkDepth(depth, model.config().numHiddenLayers());
        return new BertScorer(model, tokenizer, depth, idf, modelName + ", layer " + depth + " of " + model.config().numHiddenLayers() + (idf ? ", idf" : ""));
    }

    /** What the scores depend on: the model, the layer, idf. */
    public String description() {
        return name;
    }

    /** The scores of each candidate against its reference. */
    public Scores score(List<String> candidates, List<String> references) {
        if (candidates.size() != references.size()) throw new IllegalArgumentException(candidates.size() + " candidates for " + references.size() + " references");
        List<Embedded> refs = new ArrayList<>();
        for (String r : references) refs.add(embedded(r));
        Map<Integer, Double> weights = idf ? BertScore.idf(refs.stream().map(Embedded::ids).toList()) : null;
        int n = candidates.size();
        double[] p = new double[n], r = new double[n], f = new double[n];
        for (int i = 0; i < n; i++) {
            Embedded c = embedded(candidates.get(i)), ref = refs.get(i);
            BertScore.Score s = BertScore.score(c.rows, weights(c.ids, weights, n), ref.rows, weights(ref.ids, weights, n));
            p[i] = s.precision();
            r[i] = s.recall();
            f[i] = s.f1();
        }
        return new Scores(p, r, f);
    }

    private double[] weights(int[] ids, Map<Integer, Double> idf, int references) {
        double[] w = new double[ids.length];
        for (int i = 1; i < ids.length; i++) w[i] = idf == null ? 1 : BertScore.idfOf(idf, ids[i], references); // 0: the start
        return w;
    }

    private Embedded embedded(String text) {
        Embedded known = cache.get(text);
        if (known != null) return known;
        int start = Math.max(0, tokenizer.bosId());
        int[] body = tokenizer.encode(text.strip(), false);
        int limit = Math.min(MAX_TOKENS, model.config().maxPositionEmbeddings()) - 1;
        int[] ids = new int[1 + Math.min(body.length, limit)];
        ids[0] = start;
        System.arraycopy(body, 0, ids, 1, ids.length - 1);
        int t = ids.length;
        float[] all = HiddenStates.of(model, ids, depth);
        int dim = all.length / t;
        float[][] rows = new float[t][];
        for (int i = 0; i < t; i++) rows[i] = java.util.Arrays.copyOfRange(all, i * dim, (i + 1) * dim);
        Embedded e = new Embedded(ids, rows);
        cache.put(text, e);
        return e;
    }

    @Override
    public void close() {
        model.close();
    }
}
