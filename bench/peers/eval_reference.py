#!/usr/bin/env python3
"""Expected values for the eval module's tests, from reference implementations.

Developer script, NOT run by tests or CI. Needs Debian's python3-sklearn (1.2.1), python3-statsmodels
(0.13.5) and python3-nltk (3.8): apt-get install -y python3-sklearn python3-statsmodels python3-nltk,
then run with /usr/bin/python3 bench/peers/eval_reference.py. It prints Java literals that were pasted
into eval/src/test/java/org/jtune/eval/... and writes the Porter word list resource.

Random cases use a 64-bit LCG that the Java tests re-implement (ReferenceCases.Lcg), so the inputs are
regenerated on the Java side and only the expected numbers are literals.
"""
import os
import re
import sys

import nltk
import sklearn
import statsmodels
from nltk.stem.porter import PorterStemmer
from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu
from sklearn.metrics import accuracy_score, cohen_kappa_score, precision_recall_fscore_support
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.inter_rater import fleiss_kappa

MASK = (1 << 64) - 1


class Lcg:
    def __init__(self, seed):
        self.x = seed & MASK

    def next(self, bound):
        self.x = (self.x * 6364136223846793005 + 1442695040888963407) & MASK
        return (self.x >> 33) % bound


def versions():
    print(f"// sklearn {sklearn.__version__}, statsmodels {statsmodels.__version__}, nltk {nltk.__version__}")


def classification_cases():
    print("// ---- classification: precision_recall_fscore_support(labels=range(k), zero_division=0)")
    for seed in (1, 2, 3, 4, 5):
        g = Lcg(seed)
        k = 2 + g.next(5)
        n = 30 + g.next(200)
        truth, pred = [], []
        for _ in range(n):
            t = g.next(k)
            r = g.next(10)
            p = t if r < 5 else (-1 if r == 9 else g.next(k))
            truth.append(t)
            pred.append(p)
        labels = list(range(k))
        acc = accuracy_score(truth, pred)
        p, r, f, s = precision_recall_fscore_support(truth, pred, labels=labels, zero_division=0)
        out = [acc]
        for avg in ("macro", "micro", "weighted"):
            ap, ar, af, _ = precision_recall_fscore_support(truth, pred, labels=labels, average=avg, zero_division=0)
            out += [ap, ar, af]
        print(f"case({seed}, new double[] {{{', '.join(repr(float(v)) for v in out)}}},")
        print(f"        new double[] {{{', '.join(repr(float(v)) for v in f)}}}),")


def kappa_cases():
    print("// ---- Cohen's kappa: sklearn.metrics.cohen_kappa_score")
    for seed in (11, 12, 13):
        g = Lcg(seed)
        k = 2 + g.next(3)
        n = 20 + g.next(100)
        a, b = [], []
        for _ in range(n):
            x = g.next(k)
            a.append(x)
            b.append(x if g.next(3) > 0 else g.next(k))
        print(f"kappa({seed}, {cohen_kappa_score(a, b)!r}),")


def mcnemar_cases():
    print("// ---- McNemar exact: statsmodels mcnemar([[n00, b], [c, n11]], exact=True).pvalue")
    for b, c in ((0, 0), (1, 0), (3, 7), (10, 2), (25, 40), (120, 90), (400, 455)):
        res = mcnemar([[50, b], [c, 50]], exact=True)
        print(f"mcnemar({b}, {c}, {res.pvalue!r}),")


def fleiss_cases():
    print("// ---- Fleiss' kappa: statsmodels.stats.inter_rater.fleiss_kappa (subjects x categories counts)")
    wiki = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    print(f"// Wikipedia's example table: {fleiss_kappa(wiki)!r}")
    for seed in (21, 22):
        g = Lcg(seed)
        raters, k, n = 3 + g.next(3), 3, 15 + g.next(20)
        table = []
        for _ in range(n):
            row = [0] * k
            for _ in range(raters):
                row[g.next(k)] += 1
            table.append(row)
        print(f"fleiss({seed}, {fleiss_kappa(table)!r}),")


# sacreBLEU's 13a tokenizer transcribed from its documentation, to feed NLTK the same tokens.
_RE = [(re.compile(r'([\{-\~\[-\` -\&\(-\+\:-\@\/])'), r' \1 '),
       (re.compile(r'([^0-9])([\.,])'), r'\1 \2 '),
       (re.compile(r'([\.,])([^0-9])'), r' \1 \2'),
       (re.compile(r'([0-9])(-)'), r'\1 \2 ')]


def tok13a(line):
    line = line.rstrip().replace('<skipped>', '').replace('-\n', '').replace('\n', ' ')
    line = line.replace('&quot;', '"').replace('&amp;', '&').replace('&lt;', '<').replace('&gt;', '>')
    line = f' {line} '
    for r, s in _RE:
        line = r.sub(s, line)
    return line.split()


WORDS = ["the", "cat", "sat", "on", "mat", ",", ".", "dog", "a", "3.5", "1,000", "don't", "(yes)", "x-ray",
         "2-3", "is", "was", "big", "small", "red", "blue", "ran", "quickly", "!"]


def bleu_cases():
    print("// ---- corpus BLEU: nltk corpus_bleu(weights=(.25,)*4, SmoothingFunction().method3) * 100 on 13a tokens")
    for seed in (31, 32, 33):
        g = Lcg(seed)
        n = 5 + g.next(10)
        hyps, refs = [], []
        for _ in range(n):
            ref = [WORDS[g.next(len(WORDS))] for _ in range(4 + g.next(12))]
            hyp = [w if g.next(4) > 0 else WORDS[g.next(len(WORDS))] for w in ref]
            hyp = hyp[: max(4, len(hyp) - g.next(3))]
            hyps.append(" ".join(hyp))
            refs.append(" ".join(ref))
        ht = [tok13a(h) for h in hyps]
        rt = [[tok13a(r)] for r in refs]
        assert all(len(h) >= 4 for h in ht)
        score = corpus_bleu(rt, ht, smoothing_function=SmoothingFunction().method3) * 100
        print(f"bleu({seed}, {score!r}),")


def porter_words(path):
    words = set()
    for root in ("/usr/lib/python3.11/email", "/usr/lib/python3.11/json", "/usr/lib/python3/dist-packages/nltk/stem",
                 "/usr/lib/python3.11/unittest"):
        for dirpath, _, files in os.walk(root):
            for f in files:
                if f.endswith(".py"):
                    with open(os.path.join(dirpath, f), encoding="utf-8", errors="ignore") as fh:
                        words.update(re.findall(r"[a-z]+", fh.read().lower()))
    paper = ["caresses", "ponies", "ties", "caress", "cats", "feed", "agreed", "plastered", "bled", "motoring",
             "sing", "conflated", "troubled", "sized", "hopping", "tanned", "falling", "hissing", "fizzed",
             "failing", "filing", "happy", "sky", "relational", "conditional", "rational", "valenci",
             "hesitanci", "digitizer", "conformabli", "radicalli", "differentli", "vileli", "analogousli",
             "vietnamization", "predication", "operator", "feudalism", "decisiveness", "hopefulness",
             "callousness", "formaliti", "sensitiviti", "sensibiliti", "triplicate", "formative", "formalize",
             "electriciti", "electrical", "hopeful", "goodness", "revival", "allowance", "inference",
             "airliner", "gyroscopic", "adjustable", "defensible", "irritant", "replacement", "adjustment",
             "dependent", "adoption", "homologou", "communism", "activate", "angulariti", "homologous",
             "effective", "bowdlerize", "probate", "rate", "cease", "controll", "roll", "dying", "lying",
             "skies", "news", "innings", "dies", "died", "spied", "flies", "enjoy", "spy", "fly", "try",
             "generously", "archaeology", "hopefully", "cry", "by", "as", "is", "ab", "ys", "yes"]
    words.update(paper)
    chosen = sorted(words)
    nltk_ext = PorterStemmer()
    original = PorterStemmer(PorterStemmer.ORIGINAL_ALGORITHM)
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"# word<TAB>NLTK_EXTENSIONS stem<TAB>ORIGINAL_ALGORITHM stem, from nltk {nltk.__version__} "
                  "(Debian python3-nltk) via bench/peers/eval_reference.py\n")
        for w in chosen:
            out.write(f"{w}\t{nltk_ext.stem(w)}\t{original.stem(w)}\n")
    print(f"// wrote {len(chosen)} words to {path}")


if __name__ == "__main__":
    versions()
    classification_cases()
    kappa_cases()
    mcnemar_cases()
    fleiss_cases()
    bleu_cases()
    here = os.path.dirname(os.path.abspath(__file__))
    porter_words(os.path.join(here, "../../eval/src/test/resources/org/jtune/eval/porter_nltk.tsv"))
