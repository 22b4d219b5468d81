package org.jtune.models.generate;

import java.util.ArrayList;
import java.util.List;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.tokenizer.Tokenizer;

/** The ids that end a generated answer: config.json's eos_token_id(s), then the tokenizer's EOS ids not already listed. */
public final class StopIds {
    private StopIds() {}

    public static List<Integer> of(ModelConfig config, Tokenizer tokenizer) {
        List<Integer> stop = new ArrayList<>(config.eosTokenIds());
        for (int e : tokenizer.eosIds()) if (!stop.contains(e)) stop.add(e);
        return List.copyOf(stop);
    }
}
