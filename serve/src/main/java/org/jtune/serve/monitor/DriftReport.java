package org.jtune.serve.monitor;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.jtune.JtuneException;

/**
 * Drift of production inputs (and outputs) against the training data, over the successful requests of
 * a window:
 * <ul>
 *   <li>prompt length in tokens: PSI on the reference's decile bins and the two-sample KS test;</li>
 *   <li>unseen-token rate (traffic tokens whose id never occurs in the reference prompts), unseen-word
 *       rate, and out-of-vocabulary rate ({@link TokenView});</li>
 *   <li>the model's mean-pooled hidden states ({@link TextEmbedder}) of at most {@code maxSamples}
 *       prompts per side: RBF-kernel MMD with a permutation p-value, and centroid shift;</li>
 *   <li>for classification (reference labels given): predicted labels (outputs, stripped; anything not
 *       a validation label counts as "(other)") against the validation labels, chi-square and PSI.</li>
 * </ul>
 * With fewer than {@code minDriftSamples} prompts nothing is judged.
 */
public record DriftReport(ObjectNode json, List<Check> checks) {
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String OTHER = "(other)";

    public record Options(int maxSamples, int permutations, long seed) {
        public static final Options DEFAULTS = new Options(200, 200, 1);
    }

    public static DriftReport compute(DriftReference ref, List<LoggedRequest> traffic, TokenView tokens, TextEmbedder embedder,
                                      MonitorThresholds t, Options o) throws JtuneException {
        ObjectNode j = JSON.createObjectNode().put("kind", "drift").put("reference", ref.source()).put("reference_prompts", ref.prompts().size())
                .put("tokens", tokens.name());
        List<String> prompts = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        for (LoggedRequest r : traffic) {
            if (!r.ok()) continue;
            String p = PromptText.ofRequest(r.requestJson());
            if (p == null) continue;
            prompts.add(p);
            outputs.add(r.outputText());
        }
        j.put("traffic_prompts", prompts.size());
        List<Check> checks = new ArrayList<>();
        if (prompts.size() < t.minDriftSamples()) {
            j.put("judged", false).put("why", prompts.size() + " prompts in the window, fewer than min_drift_samples " + t.minDriftSamples());
            return finish(j, checks);
        }
        j.put("judged", true);

        // ---- lengths and tokens -------------------------------------------------------------
        List<int[]> refIds = new ArrayList<>(), curIds = new ArrayList<>();
        for (String p : ref.prompts()) refIds.add(tokens.ids(p));
        for (String p : prompts) curIds.add(tokens.ids(p));
        double[] refLen = refIds.stream().mapToDouble(a -> a.length).toArray(), curLen = curIds.stream().mapToDouble(a -> a.length).toArray();
        double psi = Psi.numeric(refLen, curLen);
        KolmogorovSmirnov.Result ks = KolmogorovSmirnov.test(refLen, curLen);
        ObjectNode len = j.putObject("length");
        len.set("reference", summary(refLen));
        len.set("traffic", summary(curLen));
        len.put("psi", psi).put("ks_statistic", ks.statistic()).put("ks_p_value", ks.pValue());
        checks.add(new Check("length_psi", "prompts", psi, t.lengthPsi(), true));
        checks.add(new Check("length_ks_p", "prompts", ks.pValue(), t.lengthKsP(), false));

        Set<Integer> seen = new HashSet<>();
        for (int[] a : refIds) for (int id : a) seen.add(id);
        long total = 0, unseen = 0, oov = 0, refTotal = 0, refOov = 0;
        for (int[] a : curIds) {
            for (int id : a) {
                total++;
                if (!seen.contains(id)) unseen++;
                if (tokens.outOfVocabulary(id)) oov++;
            }
        }
        for (int[] a : refIds) for (int id : a) {
            refTotal++;
            if (tokens.outOfVocabulary(id)) refOov++;
        }
        Set<String> refWords = new HashSet<>();
        for (String p : ref.prompts()) refWords.addAll(words(p));
        long words = 0, unseenWords = 0;
        for (String p : prompts) for (String w : words(p)) {
            words++;
            if (!refWords.contains(w)) unseenWords++;
        }
        double unseenRate = total == 0 ? 0 : (double) unseen / total;
        double oovRate = !tokens.knowsVocabulary() ? Double.NaN : total == 0 ? 0 : (double) oov / total;
        ObjectNode tok = j.putObject("token_coverage");
        tok.put("traffic_tokens", total).put("unseen_token_rate", unseenRate).put("unseen_word_rate", words == 0 ? 0 : (double) unseenWords / words);
        TrafficReport.num(tok, "oov_rate", oovRate);
        TrafficReport.num(tok, "reference_oov_rate", !tokens.knowsVocabulary() || refTotal == 0 ? Double.NaN : (double) refOov / refTotal);
        checks.add(new Check("unseen_token_rate", "prompts", unseenRate, t.unseenTokenRate(), true));
        checks.add(new Check("oov_rate", "prompts", oovRate, t.oovRate(), true));

        // ---- hidden states --------------------------------------------------------------------
        if (embedder != null) {
            SplittableRandom rng = new SplittableRandom(o.seed());
            List<String> refSample = sample(ref.prompts(), o.maxSamples(), rng), curSample = sample(prompts, o.maxSamples(), rng);
            float[][] ex = embedder.embed(refSample), ey = embedder.embed(curSample);
            Mmd.Result mmd = Mmd.test(ex, ey, 0, o.permutations(), o.seed());
            CentroidShift shift = CentroidShift.of(ex, ey);
            j.putObject("embedding").put("reference_samples", ex.length).put("traffic_samples", ey.length).put("dim", ex[0].length)
                    .put("mmd2", mmd.mmd2()).put("sigma", mmd.sigma()).put("mmd_p_value", mmd.pValue()).put("permutations", mmd.permutations())
                    .put("centroid_cosine_distance", shift.cosineDistance()).put("centroid_shift", shift.relativeDistance());
            checks.add(new Check("embedding_mmd_p", "prompts", mmd.pValue(), t.embeddingMmdP(), false));
            checks.add(new Check("centroid_shift", "prompts", shift.relativeDistance(), t.centroidShift(), true));
        }

        // ---- predicted labels -----------------------------------------------------------------
        if (!ref.labels().isEmpty()) {
            Map<String, Long> predicted = new TreeMap<>();
            for (String out : outputs) {
                String label = out == null ? OTHER : out.strip();
                predicted.merge(ref.labels().containsKey(label) ? label : OTHER, 1L, Long::sum);
            }
            ChiSquare.Result chi = ChiSquare.homogeneity(ref.labels(), predicted);
            double lpsi = Psi.categorical(ref.labels(), predicted);
            ObjectNode l = j.putObject("labels");
            l.set("validation", JSON.valueToTree(ref.labels()));
            l.set("predicted", JSON.valueToTree(predicted));
            l.put("chi2", chi.statistic()).put("dof", chi.dof()).put("chi2_p_value", chi.pValue()).put("psi", lpsi);
            checks.add(new Check("label_chi2_p", "outputs", chi.pValue(), t.labelChi2P(), false));
            checks.add(new Check("label_psi", "outputs", lpsi, t.labelPsi(), true));
        }
        return finish(j, checks);
    }

    private static DriftReport finish(ObjectNode j, List<Check> checks) {
        ArrayNode c = j.putArray("checks");
        for (Check k : checks) k.into(c.addObject());
        j.put("alert", checks.stream().anyMatch(Check::alert));
        return new DriftReport(j, checks);
    }

    public boolean alert() {
        return checks.stream().anyMatch(Check::alert);
    }

    static List<String> words(String s) {
        String t = s.strip().toLowerCase(Locale.ROOT);
        return t.isEmpty() ? List.of() : List.of(t.split("[\\s\\p{Punct}]+"));
    }

    static ObjectNode summary(double[] v) {
        ObjectNode o = JSON.createObjectNode();
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        o.put("n", s.length).put("mean", java.util.Arrays.stream(s).average().orElse(Double.NaN)).put("p50", Quantiles.ofSorted(s, 0.5))
                .put("p95", Quantiles.ofSorted(s, 0.95)).put("max", s.length == 0 ? Double.NaN : s[s.length - 1]);
        return o;
    }

    /** At most n items, chosen without replacement by the seeded generator (all of them, in order, when there are few). */
    static List<String> sample(List<String> all, int n, SplittableRandom rng) {
        if (all.size() <= n) return all;
        List<String> copy = new ArrayList<>(all);
        for (int i = 0; i < n; i++) {
            int k = i + rng.nextInt(copy.size() - i);
            String x = copy.get(i);
            copy.set(i, copy.get(k));
            copy.set(k, x);
        }
        return copy.subList(0, n);
    }
}
