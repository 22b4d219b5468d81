package org.jtune.eval.classification;

import java.text.Normalizer;
import java.util.Locale;

/**
 * How an answer is compared with a label: Unicode NFKC, trim, case-fold, collapse inner whitespace, strip
 * surrounding quotes/backticks and trailing punctuation. So {@code "  Positive."}, {@code "positive!"} and
 * {@code "`POSITIVE`"} all become {@code positive}; {@code "not positive"} does not.
 */
public final class LabelNormalizer {
    private static final String TRAILING = ".,;:!?。、！？";
    private static final String QUOTES = "\"'`“”‘’";

    private LabelNormalizer() {
    }

    public static String normalize(String s) {
        String t = Normalizer.normalize(s, Normalizer.Form.NFKC).strip();
        boolean changed = true;
        while (changed && !t.isEmpty()) {
            changed = false;
            char last = t.charAt(t.length() - 1);
            if (TRAILING.indexOf(last) >= 0) {
                t = t.substring(0, t.length() - 1).strip();
                changed = true;
            } else if (t.length() >= 2 && QUOTES.indexOf(t.charAt(0)) >= 0 && QUOTES.indexOf(last) >= 0) {
                t = t.substring(1, t.length() - 1).strip();
                changed = true;
            }
        }
        return t.toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
    }
}
