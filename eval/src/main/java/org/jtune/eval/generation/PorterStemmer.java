package org.jtune.eval.generation;

import java.util.Map;

/**
 * The Porter stemmer (M. F. Porter, "An algorithm for suffix stripping", Program 14(3), 1980), in two modes:
 * {@link Mode#ORIGINAL_ALGORITHM}, the published rules, and {@link Mode#NLTK_EXTENSIONS}, the variant that
 * NLTK's {@code PorterStemmer()} uses by default and therefore the one Google's rouge-score applies
 * ({@code use_stemmer=True}). The extensions, each marked below: a table of irregular forms; words of one or
 * two letters left alone; -ies/-ied on four-letter words keep "ie"; -ied otherwise becomes "i"; Y becomes I
 * only after a consonant that is not the first letter; *o also holds for a two-letter vowel-consonant stem;
 * Step 2 uses BLI (not ABLI), applies ALLI before the list and re-runs Step 2 on its result, and adds FULLI
 * and LOGI (whose measure is taken on the word less "ogi").
 *
 * <p>Rules within a step are tried in order and the first whose suffix matches decides: if its condition
 * fails, the step leaves the word alone (no shorter suffix is tried). Input is expected in lower case.
 */
public final class PorterStemmer {
    public enum Mode { ORIGINAL_ALGORITHM, NLTK_EXTENSIONS }

    private static final Map<String, String> IRREGULAR = Map.ofEntries(
            Map.entry("sky", "sky"), Map.entry("skies", "sky"), Map.entry("dying", "die"),
            Map.entry("lying", "lie"), Map.entry("tying", "tie"), Map.entry("news", "news"),
            Map.entry("innings", "inning"), Map.entry("inning", "inning"), Map.entry("outings", "outing"),
            Map.entry("outing", "outing"), Map.entry("cannings", "canning"), Map.entry("canning", "canning"),
            Map.entry("howe", "howe"), Map.entry("proceed", "proceed"), Map.entry("exceed", "exceed"),
            Map.entry("succeed", "succeed"));

    private final Mode mode;
    private final boolean nltk;

    public PorterStemmer(Mode mode) {
        this.mode = mode;
        this.nltk = mode == Mode.NLTK_EXTENSIONS;
    }

    public Mode mode() {
        return mode;
    }

    public String stem(String word) {
        if (nltk) {
            String irregular = IRREGULAR.get(word);
            if (irregular != null) return irregular;
            if (word.length() <= 2) return word;
        }
        String w = step1a(word);
        w = step1b(w);
        w = step1c(w);
        w = step2(w);
        w = step3(w);
        w = step4(w);
        w = step5a(w);
        return step5b(w);
    }

    // ---- the paper's definitions: consonant, measure m, *v*, *d, *o

    private static boolean consonant(CharSequence w, int i) {
        char c = w.charAt(i);
        if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u') return false;
        if (c == 'y') return i == 0 || !consonant(w, i - 1);
        return true;
    }

    /** m in [C](VC){m}[V]: the number of vowel-to-consonant transitions. */
    static int measure(CharSequence w) {
        int m = 0;
        for (int i = 1; i < w.length(); i++) if (!consonant(w, i - 1) && consonant(w, i)) m++;
        return m;
    }

    private static boolean containsVowel(CharSequence w) {
        for (int i = 0; i < w.length(); i++) if (!consonant(w, i)) return true;
        return false;
    }

    private static boolean endsDoubleConsonant(String w) {
        int n = w.length();
        return n >= 2 && w.charAt(n - 1) == w.charAt(n - 2) && consonant(w, n - 1);
    }

    private boolean endsCvc(String w) {
        int n = w.length();
        if (n >= 3 && consonant(w, n - 3) && !consonant(w, n - 2) && consonant(w, n - 1)) {
            char c = w.charAt(n - 1);
            if (c != 'w' && c != 'x' && c != 'y') return true;
        }
        return nltk && n == 2 && !consonant(w, 0) && consonant(w, 1); // NLTK extension
    }

    // ---- rule lists

    private interface Condition {
        boolean holds(String stem);
    }

    private record Rule(String suffix, String replacement, Condition condition) {
    }

    private static final Condition ANY = s -> true;
    private static final Condition M_GT_0 = s -> measure(s) > 0;
    private static final Condition M_GT_1 = s -> measure(s) > 1;

    /** First rule whose suffix matches decides; a failed condition leaves the word unchanged. */
    private static String applyFirst(String word, Rule... rules) {
        for (Rule r : rules) {
            if (word.endsWith(r.suffix)) {
                String stem = word.substring(0, word.length() - r.suffix.length());
                return r.condition.holds(stem) ? stem + r.replacement : word;
            }
        }
        return word;
    }

    private String step1a(String w) {
        if (nltk && w.endsWith("ies") && w.length() == 4) return w.substring(0, 1) + "ie"; // NLTK extension
        return applyFirst(w, new Rule("sses", "ss", ANY), new Rule("ies", "i", ANY),
                new Rule("ss", "ss", ANY), new Rule("s", "", ANY));
    }

    private String step1b(String w) {
        if (nltk && w.endsWith("ied")) { // NLTK extension
            return w.substring(0, w.length() - 3) + (w.length() == 4 ? "ie" : "i");
        }
        if (w.endsWith("eed")) {
            String stem = w.substring(0, w.length() - 3);
            return measure(stem) > 0 ? stem + "ee" : w;
        }
        String stem = null;
        if (w.endsWith("ed") && containsVowel(w.substring(0, w.length() - 2))) {
            stem = w.substring(0, w.length() - 2);
        } else if (w.endsWith("ing") && containsVowel(w.substring(0, w.length() - 3))) {
            stem = w.substring(0, w.length() - 3);
        }
        if (stem == null) return w;
        if (stem.endsWith("at") || stem.endsWith("bl") || stem.endsWith("iz")) return stem + "e";
        if (endsDoubleConsonant(stem)) {
            char last = stem.charAt(stem.length() - 1);
            return last == 'l' || last == 's' || last == 'z' ? stem : stem.substring(0, stem.length() - 1);
        }
        return measure(stem) == 1 && endsCvc(stem) ? stem + "e" : stem;
    }

    private String step1c(String w) {
        if (!w.endsWith("y")) return w;
        String stem = w.substring(0, w.length() - 1);
        boolean ok = nltk ? stem.length() > 1 && consonant(stem, stem.length() - 1) // NLTK extension
                : containsVowel(stem);
        return ok ? stem + "i" : w;
    }

    private String step2(String w) {
        if (nltk && w.endsWith("alli") && measure(w.substring(0, w.length() - 4)) > 0) { // NLTK extension
            return step2(w.substring(0, w.length() - 4) + "al");
        }
        Rule[] common = {
                new Rule("ational", "ate", M_GT_0), new Rule("tional", "tion", M_GT_0),
                new Rule("enci", "ence", M_GT_0), new Rule("anci", "ance", M_GT_0),
                new Rule("izer", "ize", M_GT_0),
                nltk ? new Rule("bli", "ble", M_GT_0) : new Rule("abli", "able", M_GT_0),
                new Rule("alli", "al", M_GT_0), new Rule("entli", "ent", M_GT_0),
                new Rule("eli", "e", M_GT_0), new Rule("ousli", "ous", M_GT_0),
                new Rule("ization", "ize", M_GT_0), new Rule("ation", "ate", M_GT_0),
                new Rule("ator", "ate", M_GT_0), new Rule("alism", "al", M_GT_0),
                new Rule("iveness", "ive", M_GT_0), new Rule("fulness", "ful", M_GT_0),
                new Rule("ousness", "ous", M_GT_0), new Rule("aliti", "al", M_GT_0),
                new Rule("iviti", "ive", M_GT_0), new Rule("biliti", "ble", M_GT_0)};
        if (!nltk) return applyFirst(w, common);
        Rule[] withExtensions = java.util.Arrays.copyOf(common, common.length + 2);
        withExtensions[common.length] = new Rule("fulli", "ful", M_GT_0);
        // LOGI -> LOG, with the measure taken on the word less "ogi" (i.e. the stem plus its "l").
        withExtensions[common.length + 1] = new Rule("logi", "log", s -> measure(s + "l") > 0);
        return applyFirst(w, withExtensions);
    }

    private static String step3(String w) {
        return applyFirst(w, new Rule("icate", "ic", M_GT_0), new Rule("ative", "", M_GT_0),
                new Rule("alize", "al", M_GT_0), new Rule("iciti", "ic", M_GT_0),
                new Rule("ical", "ic", M_GT_0), new Rule("ful", "", M_GT_0), new Rule("ness", "", M_GT_0));
    }

    private static String step4(String w) {
        return applyFirst(w, new Rule("al", "", M_GT_1), new Rule("ance", "", M_GT_1),
                new Rule("ence", "", M_GT_1), new Rule("er", "", M_GT_1), new Rule("ic", "", M_GT_1),
                new Rule("able", "", M_GT_1), new Rule("ible", "", M_GT_1), new Rule("ant", "", M_GT_1),
                new Rule("ement", "", M_GT_1), new Rule("ment", "", M_GT_1), new Rule("ent", "", M_GT_1),
                new Rule("ion", "", s -> measure(s) > 1 && (s.endsWith("s") || s.endsWith("t"))),
                new Rule("ou", "", M_GT_1), new Rule("ism", "", M_GT_1), new Rule("ate", "", M_GT_1),
                new Rule("iti", "", M_GT_1), new Rule("ous", "", M_GT_1), new Rule("ive", "", M_GT_1),
                new Rule("ize", "", M_GT_1));
    }

    private String step5a(String w) {
        if (!w.endsWith("e")) return w;
        String stem = w.substring(0, w.length() - 1);
        int m = measure(stem);
        return m > 1 || (m == 1 && !endsCvc(stem)) ? stem : w;
    }

    private static String step5b(String w) {
        // (m > 1 and *d and *L) -> single letter; the measure is taken on the word less one "l".
        if (w.endsWith("ll") && measure(w.substring(0, w.length() - 1)) > 1) return w.substring(0, w.length() - 1);
        return w;
    }
}
