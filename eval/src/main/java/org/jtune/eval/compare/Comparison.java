package org.jtune.eval.compare;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.Evaluator;
import org.jtune.eval.Prediction;
import org.jtune.eval.classification.ClassScore;
import org.jtune.eval.classification.ClassificationEvaluator;
import org.jtune.eval.classification.ClassificationReport;

/**
 * A candidate compared with a baseline on the same examples. Examples are matched by id; both files must
 * hold the same ids with the same references (otherwise the comparison would be between different test
 * sets, and that is reported as bad input). Both sides are scored by the same evaluator (for classification,
 * over the union of both sides' label sets). Every metric gets its delta and a paired-bootstrap interval;
 * accuracy-like outcomes get McNemar's exact test; classification gets per-class F1 side by side.
 */
public record Comparison(EvalResult baseline, EvalResult candidate, List<MetricDelta> deltas, McNemar mcnemar,
                         List<ClassDelta> classes, int resamples, long seed, double level) {

    public static final int DEFAULT_RESAMPLES = 1000;
    public static final long DEFAULT_SEED = 12345;

    public static Comparison run(Evaluator evaluator, List<Prediction> baseline, List<Prediction> candidate,
                                 int resamples, long seed) throws JtuneException {
        if (resamples < 1) throw new JtuneException("resamples must be at least 1, got " + resamples);
        List<Prediction> base = alignByCandidate(baseline, candidate);
        if (evaluator instanceof ClassificationEvaluator ce) {
            List<Prediction> both = new ArrayList<>(candidate);
            both.addAll(base);
            evaluator = ClassificationEvaluator.withLabels(ce.labelSet(both).labels());
        }
        EvalResult b = evaluator.evaluate(base), c = evaluator.evaluate(candidate);
        double level = 0.95;
        Map<String, double[]> ci = PairedBootstrap.intervals(b.statistic(), c.statistic(), c.size(), resamples,
                seed, level);
        List<MetricDelta> deltas = new ArrayList<>();
        for (var e : c.metrics().entrySet()) {
            Double bv = b.metrics().get(e.getKey());
            if (bv == null) continue;
            double[] iv = ci.getOrDefault(e.getKey(), new double[] {Double.NaN, Double.NaN});
            deltas.add(new MetricDelta(e.getKey(), bv, e.getValue(), e.getValue() - bv, iv[0], iv[1]));
        }
        McNemar test = McNemar.of(b.correct(), c.correct());
        List<ClassDelta> classes = new ArrayList<>();
        if (b.report() instanceof ClassificationReport br && c.report() instanceof ClassificationReport cr) {
            for (int i = 0; i < cr.perClass().size(); i++) {
                ClassScore cs = cr.perClass().get(i), bs = br.perClass().get(i);
                classes.add(new ClassDelta(cs.label(), bs.f1(), cs.f1(), cs.support()));
            }
        }
        return new Comparison(b, c, deltas, test, classes, resamples, seed, level);
    }

    /** The baseline's records in the candidate's order, checked to cover the same ids and references. */
    static List<Prediction> alignByCandidate(List<Prediction> baseline, List<Prediction> candidate)
            throws JtuneException {
        Map<String, Prediction> byId = new HashMap<>();
        for (Prediction p : baseline) byId.put(p.id(), p);
        List<Prediction> out = new ArrayList<>(candidate.size());
        List<String> missing = new ArrayList<>();
        for (Prediction c : candidate) {
            Prediction b = byId.get(c.id());
            if (b == null) {
                missing.add(c.id());
                continue;
            }
            if (!b.reference().strip().equals(c.reference().strip())) {
                throw new JtuneException(c.where() + ": reference for id '" + c.id() + "' differs from the baseline's ("
                        + b.where() + "); both files must score the same test set");
            }
            out.add(b);
        }
        if (!missing.isEmpty() || baseline.size() != candidate.size()) {
            throw new JtuneException("baseline and candidate do not hold the same examples: " + candidate.size()
                    + " candidate and " + baseline.size() + " baseline records, " + missing.size()
                    + " candidate ids without a baseline" + (missing.isEmpty() ? "" : " (first: "
                    + String.join(", ", missing.subList(0, Math.min(5, missing.size()))) + ")")
                    + "; give every line the same \"id\" in both files");
        }
        return out;
    }

    public MetricDelta delta(String metric) {
        for (MetricDelta d : deltas) if (d.metric().equals(metric)) return d;
        return null;
    }
}
