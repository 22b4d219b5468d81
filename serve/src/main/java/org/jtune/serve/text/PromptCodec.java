package org.jtune.serve.text;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.generate.StopIds;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.models.tools.ToolSyntax;
import org.jtune.models.tools.ToolUse;

/**
 * The text side of a served model: chat messages through the chat format of the served name they
 * were sent to (its template and trained system message, see {@link ChatFormat}) to prompt ids, plain
 * prompts to ids (with the tokenizer's BOS, as `jtune generate` does), generated ids back to text,
 * and the stop ids — the model's and the tokenizer's end-of-sequence ids, the ones `jtune generate
 * --chat` stops at. The base model and its adapters share the tokenizer (an adapter carries its base's).
 * Used on request threads only; everything here is immutable and resolved at start.
 *
 * @param formats  served name → its chat format
 * @param fallback the format of a name not in {@code formats}
 */
public record PromptCodec(Tokenizer tokenizer, Map<String, ChatFormat> formats, ChatFormat fallback, List<Integer> stopIds) {
    public PromptCodec {
        formats = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(formats));
        stopIds = List.copyOf(stopIds);
    }

    /** The codec of a model whose served names all share this chat template (may be null) and no system message. */
    public static PromptCodec of(Tokenizer tokenizer, ChatTemplate template, ModelConfig config) {
        return new PromptCodec(tokenizer, Map.of(), new ChatFormat(template, null), StopIds.of(config, tokenizer));
    }

    /** The codec of a model with a chat format per served name; stop ids from both config and tokenizer. */
    public static PromptCodec perName(Tokenizer tokenizer, Map<String, ChatFormat> formats, ModelConfig config) {
        return new PromptCodec(tokenizer, formats, new ChatFormat(null, null), StopIds.of(config, tokenizer));
    }

    /** The chat format of a served name. */
    public ChatFormat format(String model) {
        return formats.getOrDefault(model, fallback);
    }

    /** A rendered chat prompt and its ids. */
    public record Prompt(String text, int[] ids) {}

    /** The prompt of a chat request without tools sent to the served name {@code model}. */
    public Prompt chat(String model, List<Message> messages) throws JtuneException {
        return chat(model, messages, null, Map.of());
    }

    /**
     * The prompt of a chat request sent to the served name {@code model}, its tools (null: none) and any earlier calls
     * and results in the conversation written as that name's {@link #toolSyntax} has them, with the request's further
     * template variables ({@code kwargs}: chat_template_kwargs).
     */
    public Prompt chat(String model, List<Message> messages, ToolUse tools, Map<String, Object> kwargs) throws JtuneException {
        ChatFormat format = format(model);
        if (format.template() == null) throw new JtuneException("the model \"" + model + "\" has no chat template; start the server with --chat-template");
        ToolSyntax.Rendering r = toolSyntax(model).render(format.messages(messages), tools);
        Map<String, Object> variables = new LinkedHashMap<>(kwargs);
        variables.putAll(r.variables());
        String text = format.template().render(r.messages(), true, variables);
        return new Prompt(text, tokenizer.encode(text, false));
    }

    /**
     * Whether the model thinks in {@code <think>}…{@code </think>} ({@link ReasoningSplit}): both are single tokens of its
     * vocabulary that decoding keeps (not skipped as special), as in Qwen3, QwQ and the DeepSeek-R1 distills.
     */
    public boolean thinks() {
        for (String tag : List.of(ReasoningSplit.OPEN, ReasoningSplit.CLOSE)) {
            var id = tokenizer.idOf(tag);
            if (id.isEmpty() || tokenizer.isSpecial(id.getAsInt()) || tokenizer.encode(tag, false).length != 1) return false;
        }
        return true;
    }

    /** How the model behind a served name writes tool calls (from its chat template and the tokenizer); the name must have a template. */
    public ToolSyntax toolSyntax(String model) {
        return ToolSyntax.of(format(model).template(), tokenizer);
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
