package org.jtune.cli;

import org.jtune.JtuneException;
import org.jtune.models.generate.SamplingConfig;
import picocli.CommandLine.Option;

/** {@code --prompt-lookup N}, for the commands that generate (generate, chat, eval): see {@link SamplingConfig#promptLookup}. */
final class PromptLookupOption {
    @Option(names = "--prompt-lookup", paramLabel = "N", defaultValue = "0", description = "Greedy decoding only: draft up to N "
            + "tokens per step from earlier text (the tokens that followed the last words' latest occurrence in the prompt or "
            + "the answer) and check them in one step — the same tokens, fewer steps when answers copy or repeat (extraction, "
            + "summaries); only while at most 4 sequences decode together (eval: --batch-size 4 or less); 0 (default) = off.")
    int drafts;

    void check() throws JtuneException {
        if (drafts < 0) throw new JtuneException("--prompt-lookup must be at least 0, got " + drafts);
    }

    SamplingConfig apply(SamplingConfig sampling) {
        return sampling.withPromptLookup(drafts);
    }
}
