package org.jtune.eval.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.autograd.NoGrad;
import org.jtune.eval.EvalResult;
import org.jtune.eval.Prediction;
import org.jtune.eval.compare.Comparison;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.arch.Architectures;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Tensor;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/**
 * BERTScore over stories260K's layers: the embeddings come from {@link CausalLM#hiddenAfter} (depth 0 is the embedding
 * table, full depth the final hidden states), an answer equal to its reference scores 1, scores stay within [-1, 1] and
 * are symmetric in the way the definition says (precision of a against b is recall of b against a), and the generation
 * evaluator reports them and compares them with a bootstrap.
 */
class BertScorerTest {
    private static final List<String> REFS = List.of("Lily went to the park with her mom.", "The dog ran after the red ball.",
            "Tom was sad because it rained all day.");
    private static final List<String> HYPS = List.of("Lily went to the park with her mom.", "A dog chased a ball.", "Once upon a time there was a big tree.");

    @Test
    void depthZeroIsTheEmbeddingTableAndFullDepthTheFinalHiddenStates() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        try (CausalLM m = Architectures.load(dir)) {
            int[] ids = {1, 403, 407, 261};
            Tensor idt = Tensor.ofInts(ids, 1, 4), pos = Tensor.ofInts(new int[] {0, 1, 2, 3}, 1, 4);
            ForwardPass pass = ForwardPass.of(AttentionMask.causalMask());
            try (NoGrad ignored = NoGrad.enter()) {
                float[] embedded = m.hiddenAfter(0, idt, pos, pass).value().contiguous().toFloatArray();
                float[] table = m.weights().embedding().value().value().contiguous().toFloatArray();
                int dim = m.config().hiddenSize();
                for (int t = 0; t < 4; t++) {
                    assertArrayEquals(java.util.Arrays.copyOfRange(table, ids[t] * dim, (ids[t] + 1) * dim),
                            java.util.Arrays.copyOfRange(embedded, t * dim, (t + 1) * dim));
                }
                int layers = m.config().numHiddenLayers();
                assertArrayEquals(m.hidden(idt, pos, pass).value().contiguous().toFloatArray(),
                        m.hiddenAfter(layers, idt, pos, pass).value().contiguous().toFloatArray());
                assertThrows(IllegalArgumentException.class, () -> m.hiddenAfter(layers + 1, idt, pos, pass));
            }
        }
    }

    @Test
    void scoresOfIdenticalDifferentAndSwappedTexts() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        for (boolean idf : List.of(false, true)) {
            try (BertScorer scorer = BertScorer.load(dir, null, idf)) {
                BertScorer.Scores s = scorer.score(HYPS, REFS);
                assertEquals(1, s.precision()[0], 1e-6);
                assertEquals(1, s.recall()[0], 1e-6);
                assertEquals(1, s.f1()[0], 1e-6);
                for (int i = 1; i < 3; i++) {
                    assertTrue(s.f1()[i] < 1 - 1e-4 && s.f1()[i] > -1, "example " + i + ": " + s.f1()[i]);
                }
                if (!idf) { // with idf the weights come from each call's references
                    BertScorer.Scores swapped = scorer.score(REFS, HYPS);
                    for (int i = 0; i < 3; i++) assertEquals(s.precision()[i], swapped.recall()[i], 1e-12);
                }
            }
        }
        assertEquals("stories260K, layer 3 of 5, idf", describe(dir, true));
        assertThrows(JtuneException.class, () -> BertScorer.load(dir, 6, false));
    }

    private static String describe(Path dir, boolean idf) throws JtuneException {
        try (BertScorer scorer = BertScorer.load(dir, null, idf)) {
            return scorer.description();
        }
    }

    @Test
    void theGenerationEvaluatorReportsAndComparesBertScore() throws Exception {
        try (BertScorer scorer = BertScorer.load(SharedData.require("models/stories260K"), 2, false)) {
            List<Prediction> cand = predictions(HYPS), base = predictions(List.of("x", "y", "z"));
            GenerationEvaluator evaluator = GenerationEvaluator.create(false, scorer);
            EvalResult r = evaluator.evaluate(cand);
            BertScorer.Scores s = scorer.score(HYPS, REFS);
            assertEquals((s.f1()[0] + s.f1()[1] + s.f1()[2]) / 3, r.metric("bertscore_f1"), 1e-12);
            assertEquals((s.precision()[0] + s.precision()[1] + s.precision()[2]) / 3, r.metric("bertscore_precision"), 1e-12);
            assertEquals("stories260K, layer 2 of 5", ((GenerationReport) r.report()).bertScore());
            Comparison c = Comparison.run(evaluator, base, cand, 200, 3);
            assertTrue(c.delta("bertscore_f1") != null && c.delta("bertscore_f1").delta() > 0, "the copied answer lifts the candidate");
        }
    }

    private static List<Prediction> predictions(List<String> answers) {
        java.util.ArrayList<Prediction> out = new java.util.ArrayList<>();
        for (int i = 0; i < answers.size(); i++) out.add(Prediction.of("ex" + i, "prompt " + i, REFS.get(i), answers.get(i)));
        return out;
    }
}
