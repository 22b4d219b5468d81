package org.jtune.eval.generation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.Evaluator;
import org.jtune.eval.Prediction;
import org.jtune.eval.Task;

/**
 * Scores free-text answers against one reference each: exact match (after trimming), exact match after
 * SQuAD normalisation, mean ROUGE-1/2/L/Lsum precision, recall and F (rouge-score), corpus BLEU (sacreBLEU
 * defaults), corpus chrF (sacreBLEU defaults), length statistics, and with a {@link BertScorer} the mean BERTScore
 * precision, recall and F1. Empty predictions are scored (they match nothing) and counted. Per-example statistics are kept
 * so that a resample is scored by summing.
 */
public final class GenerationEvaluator implements Evaluator {
    private static final String[] ROUGE = {"rouge1", "rouge2", "rougeL", "rougeLsum"};
    private final boolean stem;
    private final BertScorer bertScore;

    private GenerationEvaluator(boolean stem, BertScorer bertScore) {
        this.stem = stem;
        this.bertScore = bertScore;
    }

    /** @param rougeStemming Porter-stem tokens for ROUGE, as rouge-score's {@code use_stemmer=True} */
    public static GenerationEvaluator create(boolean rougeStemming) {
        return new GenerationEvaluator(rougeStemming, null);
    }

    /** With BERTScore from {@code bertScore} (null: none). */
    public static GenerationEvaluator create(boolean rougeStemming, BertScorer bertScore) {
        return new GenerationEvaluator(rougeStemming, bertScore);
    }

    @Override
    public Task task() {
        return Task.GENERATION;
    }

    @Override
    public EvalResult evaluate(List<Prediction> predictions) throws JtuneException {
        if (predictions.isEmpty()) throw new JtuneException("no predictions to score");
        int n = predictions.size();
        Rouge rouge = new Rouge(stem);
        Bleu bleu = new Bleu();
        Chrf chrf = Chrf.defaults();
        double[][] rougeStats = new double[n][12];
        long[][] bleuStats = new long[n][];
        long[][] chrfStats = new long[n][];
        double[] exact = new double[n], exactNorm = new double[n];
        long[] predWords = new long[n], refWords = new long[n], predChars = new long[n], refChars = new long[n];
        boolean[] correct = new boolean[n];
        List<String> ids = new ArrayList<>(n);
        long empty = 0;
        for (int i = 0; i < n; i++) {
            Prediction p = predictions.get(i);
            ids.add(p.id());
            String ref = p.reference(), hyp = p.prediction();
            if (hyp.isBlank()) empty++;
            correct[i] = hyp.strip().equals(ref.strip());
            exact[i] = correct[i] ? 1 : 0;
            exactNorm[i] = AnswerNormalizer.normalize(hyp).equals(AnswerNormalizer.normalize(ref)) ? 1 : 0;
            List<String> rt = rouge.tokenizer().tokenize(ref), pt = rouge.tokenizer().tokenize(hyp);
            RougeScore[] scores = {Rouge.rougeN(rt, pt, 1), Rouge.rougeN(rt, pt, 2), Rouge.rougeL(rt, pt),
                    rouge.rougeLsum(ref, hyp)};
            for (int v = 0; v < 4; v++) {
                rougeStats[i][3 * v] = scores[v].precision();
                rougeStats[i][3 * v + 1] = scores[v].recall();
                rougeStats[i][3 * v + 2] = scores[v].f();
            }
            bleuStats[i] = bleu.segmentStats(hyp, List.of(ref));
            chrfStats[i] = chrf.segmentStats(hyp, List.of(ref));
            predWords[i] = PythonWhitespace.split(hyp).size();
            refWords[i] = PythonWhitespace.split(ref).size();
            predChars[i] = hyp.codePointCount(0, hyp.length());
            refChars[i] = ref.codePointCount(0, ref.length());
        }
        BertScorer.Scores bert = bertScore == null ? null
                : bertScore.score(predictions.stream().map(Prediction::prediction).toList(), predictions.stream().map(Prediction::reference).toList());
        int[] all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        GenerationReport report = new GenerationReport(stem,
                "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x-compatible",
                "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x-compatible",
                LengthStats.of(predWords), LengthStats.of(refWords), LengthStats.of(predChars),
                LengthStats.of(refChars), empty, bertScore == null ? null : bertScore.description());
        Stats stats = new Stats(exact, exactNorm, rougeStats, bleuStats, chrfStats, predWords, refWords, chrf, bert);
        return new EvalResult(Task.GENERATION, ids, stats.on(all), report, correct, stats::on);
    }

    private record Stats(double[] exact, double[] exactNorm, double[][] rouge, long[][] bleu, long[][] chrfStats,
                         long[] predWords, long[] refWords, Chrf chrf, BertScorer.Scores bert) {
        Map<String, Double> on(int[] idx) {
            double em = 0, emn = 0;
            double[] r = new double[12];
            long[] b = new long[Bleu.STATS], c = new long[chrf.statsLength()];
            long pw = 0, rw = 0;
            for (int i : idx) {
                em += exact[i];
                emn += exactNorm[i];
                for (int j = 0; j < 12; j++) r[j] += rouge[i][j];
                for (int j = 0; j < b.length; j++) b[j] += bleu[i][j];
                for (int j = 0; j < c.length; j++) c[j] += chrfStats[i][j];
                pw += predWords[i];
                rw += refWords[i];
            }
            int n = Math.max(idx.length, 1);
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("exact_match", em / n);
            m.put("exact_match_normalized", emn / n);
            for (int v = 0; v < 4; v++) {
                m.put(ROUGE[v] + "_p", r[3 * v] / n);
                m.put(ROUGE[v] + "_r", r[3 * v + 1] / n);
                m.put(ROUGE[v] + "_f", r[3 * v + 2] / n);
            }
            m.put("bleu", Bleu.score(b));
            m.put("chrf", chrf.score(c));
            m.put("prediction_words_mean", (double) pw / n);
            m.put("length_ratio", rw == 0 ? 0 : (double) pw / rw);
            if (bert != null) {
                m.put("bertscore_precision", mean(bert.precision(), idx));
                m.put("bertscore_recall", mean(bert.recall(), idx));
                m.put("bertscore_f1", mean(bert.f1(), idx));
            }
            return m;
        }

        private static double mean(double[] values, int[] idx) {
            double sum = 0;
            for (int i : idx) sum += values[i];
            return idx.length == 0 ? 0 : sum / idx.length;
        }
    }
}
