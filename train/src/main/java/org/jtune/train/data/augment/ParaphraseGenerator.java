package org.jtune.train.data.augment;

import java.util.List;
import org.jtune.JtuneException;

/**
 * Whatever writes the candidate paraphrases: a local model folder ({@link LocalModelGenerator}) or
 * a running OpenAI-compatible server ({@link OpenAiServerGenerator}). Each prompt is the text of one
 * user message; the answer is the raw generated text (cleaned and filtered by the caller).
 */
public interface ParaphraseGenerator extends AutoCloseable {
    /**
     * One generated text per prompt, in order.
     *
     * @param seed the sampling seed of the first prompt (the others use seed + 1, seed + 2, ...)
     */
    List<String> generate(List<String> prompts, long seed) throws JtuneException;

    /** What generates, for reports ("model stories260K", "server http://.../v1 model m"). */
    String describe();

    @Override
    default void close() throws JtuneException {}
}
