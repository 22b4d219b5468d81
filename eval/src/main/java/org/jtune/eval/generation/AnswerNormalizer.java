package org.jtune.eval.generation;

import java.util.Locale;
import java.util.regex.Pattern;

/** SQuAD-style answer normalisation for {@code exact_match_normalized}: lower-case, drop punctuation, drop the articles a/an/the, collapse whitespace. */
public final class AnswerNormalizer {
    private static final Pattern PUNCT = Pattern.compile("\\p{P}|\\p{S}");
    private static final Pattern ARTICLES = Pattern.compile("\\b(a|an|the)\\b");

    private AnswerNormalizer() {
    }

    public static String normalize(String s) {
        String t = PUNCT.matcher(s.toLowerCase(Locale.ROOT)).replaceAll("");
        t = ARTICLES.matcher(t).replaceAll(" ");
        return String.join(" ", PythonWhitespace.split(t));
    }
}
