package org.jtune.models.tokenizer;

import java.nio.file.Path;
import java.util.List;

/**
 * What a tokenizer file describes, as read by {@link TokenizerJsonReader} or {@link TiktokenReader}:
 * the pipeline stages (normalizer, preTokenizer, postProcessor and decoder may be null) and the ids to use
 * for bos/eos when the model folder's config files do not say.
 */
record TokenizerParts(Path file, Normalizer normalizer, PreTokenizer preTokenizer, BpeModel model,
                      List<AddedToken> addedTokens, PostProcessor postProcessor, Decoder decoder,
                      int defaultBosId, List<Integer> defaultEosIds) {
    TokenizerParts {
        addedTokens = List.copyOf(addedTokens);
        defaultEosIds = List.copyOf(defaultEosIds);
    }
}
