package org.jtune.eval.generation;

import org.jtune.eval.TaskReport;

/**
 * Generation detail: the settings the scores depend on (ROUGE stemming; BLEU and chrF signatures in
 * sacreBLEU's notation), lengths in whitespace-separated words and in characters, and how many predictions
 * were empty (they are scored, as zero overlap), and the BERTScore scorer (model, layer, idf; null without BERTScore).
 */
public record GenerationReport(boolean rougeStemming, String bleuSignature, String chrfSignature,
                               LengthStats predictionWords, LengthStats referenceWords,
                               LengthStats predictionChars, LengthStats referenceChars, long emptyPredictions,
                               String bertScore)
        implements TaskReport {
}
