package org.jtune.models.tokenizer;

/**
 * A token matched in the raw text before the model runs (tokenizer.json "added_tokens"): special tokens
 * such as {@code <s>} or {@code <|eot_id|>} and user-added words. It is never split by the model.
 *
 * @param special    skipped by decode(skipSpecial = true)
 * @param singleWord only matches when no word character touches it on either side
 * @param lstrip     also swallows the whitespace on its left
 * @param rstrip     also swallows the whitespace on its right
 * @param normalized matched against the normalized text rather than the raw text
 */
public record AddedToken(int id, String content, boolean special, boolean singleWord,
                         boolean lstrip, boolean rstrip, boolean normalized) {

    /** A special token as tiktoken defines them: matched verbatim, nothing stripped. */
    static AddedToken special(int id, String content) {
        return new AddedToken(id, content, true, false, false, false, false);
    }
}
