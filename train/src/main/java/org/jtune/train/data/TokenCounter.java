package org.jtune.train.data;

/**
 * Counts the tokens of a text, for the token-length part of the quality report: the model's
 * tokenizer when a model is given, else {@link WhitespaceTokenCounter}'s estimate. {@link #name()}
 * says in reports which counter produced the figures.
 */
public interface TokenCounter {
    int count(String text);

    /** Short description for reports, e.g. "whitespace estimate" or the tokenizer's name. */
    default String name() {
        return getClass().getSimpleName();
    }
}
