package org.jtune.serve.text;

import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.generate.StopIds;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * The text side of a served model: chat messages through the chat template to prompt ids, plain
 * prompts to ids (with the tokenizer's BOS, as `jtune generate` does), generated ids back to text,
 * and the stop ids — the model's and the tokenizer's end-of-sequence ids, the ones `jtune generate
 * --chat` stops at. Used on request threads only; the tokenizer and template are immutable.
 *
 * @param template null when the model has no chat template and none was given (chat requests are then 400s)
 */
public record PromptCodec(Tokenizer tokenizer, ChatTemplate template, List<Integer> stopIds) {
    public PromptCodec {
        stopIds = List.copyOf(stopIds);
    }

    /** The codec of a model: its tokenizer, this chat template (may be null), and stop ids from both config and tokenizer. */
    public static PromptCodec of(Tokenizer tokenizer, ChatTemplate template, ModelConfig config) {
        return new PromptCodec(tokenizer, template, StopIds.of(config, tokenizer));
    }

    /** A rendered chat prompt and its ids. */
    public record Prompt(String text, int[] ids) {}

    public Prompt chat(List<Message> messages) throws JtuneException {
        if (template == null) throw new JtuneException("this model has no chat template; start the server with --chat-template");
        String text = template.render(messages, true, null);
        return new Prompt(text, tokenizer.encode(text, false));
    }

    public Prompt text(String prompt) {
        return new Prompt(prompt, tokenizer.encode(prompt, true));
    }

    /** Ids → text, special tokens skipped. */
    public String decode(int[] ids) {
        return tokenizer.decode(ids, true);
    }

    /**
     * One token's text as logprobs show it (special tokens included). A SentencePiece word-start token
     * ("▁there") keeps its space, which decoding it alone would strip.
     */
    public String tokenText(int id) {
        String t = tokenizer.decode(new int[] {id}, false);
        String raw = tokenizer.tokenString(id);
        if (raw != null && raw.startsWith("\u2581") && !t.startsWith(" ")) t = " " + (t.startsWith("\u2581") ? t.substring(1) : t);
        if (t.isEmpty() && raw != null) return raw;
        return t;
    }
}
