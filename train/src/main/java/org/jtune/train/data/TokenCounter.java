package org.jtune.train.data;

/**
 * Counts the tokens of a text, for the token-length part of the quality report. The model's
 * tokenizer plugs in here (encode, count the ids); until then {@link WhitespaceTokenCounter} gives an
 * estimate. {@link #name()} says in reports which counter produced the figures.
 */
public interface TokenCounter {
    int count(String text);

    /** Short description for reports, e.g. "whitespace estimate" or the tokenizer's name. */
    default String name() {
        return getClass().getSimpleName();
    }
}
