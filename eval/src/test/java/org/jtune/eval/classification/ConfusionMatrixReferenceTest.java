package org.jtune.eval.classification;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jtune.eval.Lcg;
import org.junit.jupiter.api.Test;

/** Accuracy and P/R/F1 (per class, macro, micro, weighted) against scikit-learn on random cases with invalid answers. */
class ConfusionMatrixReferenceTest {
    record Case(int seed, double[] expected, double[] classF1) {
    }

    static Case caseOf(int seed, double[] expected, double[] classF1) {
        return new Case(seed, expected, classF1);
    }

    // From bench/peers/eval_reference.py with sklearn 1.2.1 (Debian python3-sklearn):
    // accuracy_score, then precision_recall_fscore_support(labels=range(k), average=macro|micro|weighted,
    // zero_division=0) as (p, r, f), then per-class F1. Invalid answers are label -1.
    static final List<Case> CASES = List.of(
            caseOf(1, new double[] {0.5519125683060109, 0.6476017117893548, 0.562271345271665, 0.5937015870563772, 0.643312101910828, 0.5519125683060109, 0.5941176470588234, 0.6580421441733667, 0.5519125683060109, 0.5916861524976431},
                    new double[] {0.5555555555555556, 0.6250000000000001, 0.6027397260273972, 0.5483870967741935, 0.5853658536585366, 0.6451612903225806}),
            caseOf(2, new double[] {0.7232142857142857, 0.7892857142857143, 0.7154195011337868, 0.750022335388189, 0.7941176470588235, 0.7232142857142857, 0.7570093457943925, 0.7927083333333333, 0.7232142857142857, 0.7558630393996246},
                    new double[] {0.7967479674796747, 0.7032967032967032}),
            caseOf(3, new double[] {0.5233160621761658, 0.600568791193791, 0.5100553041729512, 0.5480796726476224, 0.6047904191616766, 0.5233160621761658, 0.5611111111111111, 0.6143366404052932, 0.5233160621761658, 0.5617748486649822},
                    new double[] {0.6052631578947368, 0.626865671641791, 0.5714285714285714, 0.4444444444444445, 0.4571428571428572, 0.5833333333333334}),
            caseOf(4, new double[] {0.6311475409836066, 0.698116668704904, 0.6302153131421425, 0.6618843404808317, 0.7, 0.6311475409836066, 0.6637931034482759, 0.699510522316694, 0.6311475409836066, 0.6630275141405426},
                    new double[] {0.631578947368421, 0.7407407407407408, 0.6133333333333334}),
            caseOf(5, new double[] {0.6502463054187192, 0.7123016086656905, 0.6477728363302143, 0.6775725711408859, 0.7135135135135136, 0.6502463054187192, 0.6804123711340206, 0.7136168292648774, 0.6502463054187192, 0.6795628599486934},
                    new double[] {0.72, 0.6804123711340205, 0.611764705882353, 0.6981132075471698}));

    static final String[] ORDER = {"accuracy", "macro_precision", "macro_recall", "macro_f1", "micro_precision",
            "micro_recall", "micro_f1", "weighted_precision", "weighted_recall", "weighted_f1"};

    @Test
    void matchesScikitLearn() {
        for (Case c : CASES) {
            Lcg g = new Lcg(c.seed);
            int k = 2 + g.next(5), n = 30 + g.next(200);
            int[] truth = new int[n], answer = new int[n], all = new int[n];
            for (int i = 0; i < n; i++) {
                truth[i] = g.next(k);
                int r = g.next(10);
                answer[i] = r < 5 ? truth[i] : r == 9 ? -1 : g.next(k);
                all[i] = i;
            }
            ConfusionMatrix cm = ConfusionMatrix.of(k, truth, answer, all);
            Map<String, Double> m = cm.metrics();
            for (int j = 0; j < ORDER.length; j++) {
                assertEquals(c.expected[j], m.get(ORDER[j]), 1e-12, "seed " + c.seed + " " + ORDER[j]);
            }
            List<String> names = new ArrayList<>();
            for (int j = 0; j < k; j++) names.add("c" + j);
            List<ClassScore> per = cm.perClass(names);
            assertEquals(c.classF1.length, per.size());
            for (int j = 0; j < k; j++) assertEquals(c.classF1[j], per.get(j).f1(), 1e-12, "seed " + c.seed + " class " + j);
        }
    }
}
