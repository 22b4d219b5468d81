package org.jtune.cli.demo;

import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.train.data.ChatRenderer;
import org.jtune.train.data.TokenCounter;

/**
 * Token counts from the demo model's own tokenizer and chat template for the data check (instead of
 * the whitespace estimate), as `jtune data check --model DIR` counts them.
 */
record ModelTokenCounts(Tokenizer tokenizer, ChatTemplate template, String modelName) implements TokenCounter {
    @Override
    public int count(String text) {
        return tokenizer.encode(text, false).length;
    }

    @Override
    public String name() {
        return "tokenizer of " + modelName;
    }

    /** Chat examples rendered with the model's template, so the counts include its role markers and EOS. */
    ChatRenderer renderer() {
        return messages -> {
            List<Message> m = new ArrayList<>();
            for (var x : messages) m.add(new Message(x.role().wireName(), x.content()));
            try {
                return template.render(m, false, null);
            } catch (JtuneException e) {
                throw new IllegalStateException("chat template " + template.origin() + ": " + e.getMessage(), e);
            }
        };
    }
}
