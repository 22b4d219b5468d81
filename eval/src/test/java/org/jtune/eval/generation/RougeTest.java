package org.jtune.eval.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The test cases published with Google's rouge-score (rouge/rouge_scorer_test.py and its testdata/, Apache
 * 2.0): exact fractions for the small cases, and ROUGE-1.5.5's output (given there to 5 decimals) for the
 * test-data texts, with and without Porter stemming.
 */
class RougeTest {
    static final Rouge PLAIN = new Rouge(false);
    static final Rouge STEM = new Rouge(true);

    static void score(RougeScore s, double p, double r, double f, double tol) {
        assertEquals(p, s.precision(), tol, "precision");
        assertEquals(r, s.recall(), tol, "recall");
        assertEquals(f, s.f(), tol, "f");
    }

    @Test
    void smallCases() {
        score(PLAIN.rougeN("testing one two", "testing", 1), 1, 1.0 / 3, 0.5, 1e-12);
        score(PLAIN.rougeN("testing one two", "testing one", 2), 1, 0.5, 2.0 / 3, 1e-12);
        score(PLAIN.rougeL("testing one two", "testing one"), 1, 2.0 / 3, 0.8, 1e-12);
        score(PLAIN.rougeL("testing one two", "testing two"), 1, 2.0 / 3, 0.8, 1e-12);
        for (RougeScore s : List.of(PLAIN.rougeN("testing one two", "", 1), PLAIN.rougeN("testing one two", "", 2),
                PLAIN.rougeL("testing one two", ""), PLAIN.rougeLsum("testing one two", ""))) {
            score(s, 0, 0, 0, 0);
        }
        score(PLAIN.rougeLsum("w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5"), 0.4, 0.8, 0.4 * 0.8 * 2 / 1.2, 1e-12);
        score(PLAIN.rougeLsum("", "w1"), 0, 0, 0, 0);
        score(PLAIN.rougeLsum("w1 w2 w3 w4 w5", "/"), 0, 0, 0, 0);
        assertEquals(List.of("one", "two", "three"), PLAIN.tokenizer().tokenize("one\n Two \nthree"));
    }

    @Test
    void lcsReadBackAndUnion() {
        // rouge_scorer_test.testLcsTable / testUnionLcs, with tokens as strings
        List<String> ref = List.of("1", "2", "3", "4", "5");
        assertEquals(List.of(1, 2, 3), Rouge.lcsIndices(ref, List.of("2", "5", "3", "4")));
        assertEquals(List.of(), Rouge.lcsIndices(ref, List.of("8", "9")));
        RougeScore s = Rouge.rougeLsum(List.of(ref), List.of(List.of("1", "2", "6", "7", "8"), List.of("1", "3", "8", "9", "5")));
        score(s, 0.4, 0.8, 0.5333333333333333, 1e-12);
    }

    // rouge/testdata/target.txt and prediction.txt, lines 1 and 2 (google-research/google-research)
    static final String T0 = "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L\n";
    static final String T1 = "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN\n";
    static final String P0 = "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi\n";
    static final String P1 = "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD\n";

    @Test
    void agreesWithRouge155() {
        double tol = 5e-6; // published to 5 decimals
        score(PLAIN.rougeN(T0, P0, 1), 0.68750, 0.40741, 0.51163, tol);
        score(PLAIN.rougeN(T1, P1, 1), 0.65385, 0.40476, 0.50000, tol);
        score(STEM.rougeN(T0, P0, 1), 0.68750, 0.40741, 0.51163, tol);
        score(STEM.rougeN(T1, P1, 1), 0.69231, 0.42857, 0.52941, tol);
        score(PLAIN.rougeN(T0, P0, 2), 0.53333, 0.30769, 0.39024, tol);
        score(PLAIN.rougeN(T1, P1, 2), 0.48000, 0.29268, 0.36364, tol);
        score(STEM.rougeN(T0, P0, 2), 0.53333, 0.30769, 0.39024, tol);
        score(STEM.rougeN(T1, P1, 2), 0.48000, 0.29268, 0.36364, tol);
        score(PLAIN.rougeL(T0, P0), 0.68750, 0.40741, 0.51163, tol);
        score(PLAIN.rougeL(T1, P1), 0.65385, 0.40476, 0.50000, tol);
    }

    @Test
    void lsumAgreesWithRouge155WithStemming() {
        // rouge/testdata/pyrouge_files/target_multi.0.txt and prediction_multi.0.txt
        String target = "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L\n"
                + "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN\n"
                + "NhETebUbBk'er WOvoHMTjSRizKgH'vHiing Xu,hWxfs VkNE QhgKiLHE -HidivzoM.dO anhtion jbLQiSGDTCsuhREebUaKM dv J dVN tmbOT\n"
                + "vMR HDm,xOAetion D,tion HJtodT.mHl UIv-p VjWH'BdyWjnfGU-OjT aEMdFICyLWfQMtion wEMfdOKing AwkeKbO 'DxqNOHBH qKtVvm OYJl mM\n";
        String prediction = "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi\n"
                + "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD\n"
                + "xfs VkJE QhgKiLHE -HidivzoM.dO anhing jbLQiSGDTCsuhREebUaKM dv J\n"
                + "VjWH'BdyWjnfGU-OjTNaEMdFICyLWfQMing wEMfdOKijg AwkeKbO 'DxqNO\n";
        score(STEM.rougeLsum(target, prediction), 0.66667, 0.36538, 0.47205, 5e-6);
    }
}
