package org.jtune.train.data;

import java.nio.file.Path;
import org.jtune.JtuneException;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * Token counts of a data check measured with a model: its tokenizer counts, and chat examples are
 * rendered with its chat template first (their system messages replaced as a recipe's training replaces them), so
 * the counts include role markers and EOS. The template
 * is resolved on the first chat example only, so plain-text and completion data need none.
 */
public final class ModelTokenCounter implements TokenCounter {
    private final Tokenizer tokenizer;
    private final Path model;
    private final String templateSpec;
    private final String systemMessage;
    private final String name;
    private ChatTemplate template;

    /**
     * @param templateSpec a chat template as {@link ChatTemplate#resolve} takes it (null: the model's own)
     * @param name         how reports name the model
     */
    public ModelTokenCounter(Path model, String templateSpec, String name) throws JtuneException {
        this(model, templateSpec, null, name);
    }

    /**
     * @param systemMessage what training does to the examples' system messages before rendering them (a recipe's
     *                      {@code systemMessageOverride()}: null keeps them, "" drops them, else replaces them)
     */
    public ModelTokenCounter(Path model, String templateSpec, String systemMessage, String name) throws JtuneException {
        this.tokenizer = Tokenizer.load(model);
        this.model = model;
        this.templateSpec = templateSpec;
        this.systemMessage = systemMessage;
        this.name = name;
    }

    @Override
    public int count(String text) {
        return tokenizer.encode(text, false).length;
    }

    @Override
    public String name() {
        return "tokenizer of " + name;
    }

    /** Chat examples rendered with the model's template as training renders them; a template problem is an IllegalStateException naming it. */
    public ChatRenderer renderer() {
        return c -> {
            try {
                if (template == null) template = ChatTemplate.resolve(model, templateSpec, "--chat-template");
                var r = new org.jtune.train.prep.ChatEncoder(template, tokenizer, systemMessage, false).rendering(c);
                return template.render(r.messages(), false, r.variables());
            } catch (JtuneException e) {
                throw new IllegalStateException((template == null ? "" : "chat template " + template.origin() + ": ") + e.getMessage(), e);
            }
        };
    }
}
