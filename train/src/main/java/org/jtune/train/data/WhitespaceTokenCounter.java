package org.jtune.train.data;

/**
 * A stand-in {@link TokenCounter}: the number of maximal runs of non-whitespace characters. Subword
 * tokenizers produce more tokens than this (typically 1.2 to 1.5 per English word, plus special and
 * template tokens), so figures from it are estimates and are labelled as such.
 */
public final class WhitespaceTokenCounter implements TokenCounter {
    @Override
    public int count(String text) {
        int n = 0;
        boolean inWord = false;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            boolean space = Character.isWhitespace(cp) || Character.isSpaceChar(cp);
            if (!space && !inWord) n++;
            inWord = !space;
            i += Character.charCount(cp);
        }
        return n;
    }

    @Override
    public String name() {
        return "whitespace estimate";
    }
}
