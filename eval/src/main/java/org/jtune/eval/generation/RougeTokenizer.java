package org.jtune.eval.generation;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Tokenisation as Google's rouge-score does it (after Lin's ROUGE-1.5.5): lower-case, every run of
 * characters outside [a-z0-9] becomes a space, split on spaces, and, with stemming on, Porter-stem
 * ({@link PorterStemmer.Mode#NLTK_EXTENSIONS}) every token longer than 3 characters.
 */
public final class RougeTokenizer {
    private final PorterStemmer stemmer;

    public RougeTokenizer(boolean stem) {
        this.stemmer = stem ? new PorterStemmer(PorterStemmer.Mode.NLTK_EXTENSIONS) : null;
    }

    public List<String> tokenize(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i <= lower.length(); i++) {
            boolean word = i < lower.length() && isWordChar(lower.charAt(i));
            if (word && start < 0) start = i;
            if (!word && start >= 0) {
                String t = lower.substring(start, i);
                out.add(stemmer != null && t.length() > 3 ? stemmer.stem(t) : t);
                start = -1;
            }
        }
        return out;
    }

    private static boolean isWordChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }
}
