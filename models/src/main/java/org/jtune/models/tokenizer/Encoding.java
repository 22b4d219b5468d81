package org.jtune.models.tokenizer;

import java.util.List;

/**
 * The result of encoding one text: the ids and, aligned with them, the token strings as Hugging Face
 * tokenizers report them (the vocabulary entry for a model token; the matched text, including any
 * whitespace its lstrip/rstrip swallowed, for an added token).
 */
public record Encoding(int[] ids, List<String> tokens) {
    public Encoding {
        if (ids.length != tokens.size()) throw new IllegalArgumentException(ids.length + " ids but " + tokens.size() + " tokens");
        tokens = List.copyOf(tokens);
    }
}
