package org.jtune.models.tools;

import java.util.List;
import java.util.Map;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.generate.LogitsProcessor;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * How a model family writes tool calls, and so how a request with tools is rendered, constrained and read back:
 * <ul>
 *   <li>{@link TaggedToolSyntax#MISTRAL}: the template shows the tools itself; the model writes {@code [TOOL_CALLS]} and a
 *       JSON list of calls (Mistral-7B-Instruct v0.3 and later);</li>
 *   <li>{@link TaggedToolSyntax#HERMES}: the template shows the tools itself; each call is one JSON object between
 *       {@code <tool_call>} and {@code </tool_call>} (Qwen2.5, Hermes 2 Pro and other ChatML tool models);</li>
 *   <li>{@link Llama3ToolSyntax}: the template shows the tools itself; the answer is one call, {@code {"name": ...,
 *       "parameters": {...}}}, or text (Llama 3.1, 3.2, 3.3);</li>
 *   <li>{@link JsonToolSyntax}: any other template: the tools are described in the system message and the whole answer is
 *       one JSON object, either the calls or the text (as llama.cpp's generic tool format).</li>
 * </ul>
 * A tagged syntax is used when the template writes the tag and the tokenizer has it as one token. Calls are generated
 * under the tools' schemas ({@link #constraint}): once the model opens a call (at once when tool_choice forces one), only
 * JSON of a call of an offered tool can follow, so what {@link #parse} reads is well-formed unless the token limit cut it.
 */
public sealed interface ToolSyntax permits TaggedToolSyntax, Llama3ToolSyntax, JsonToolSyntax {

    /** The syntax of a chat template and its tokenizer. */
    static ToolSyntax of(ChatTemplate template, Tokenizer tokenizer) {
        for (TaggedToolSyntax tagged : List.of(TaggedToolSyntax.MISTRAL, TaggedToolSyntax.HERMES)) {
            if (tagged.fits(template.source(), tokenizer)) return tagged;
        }
        if (Llama3ToolSyntax.fits(template.source(), tokenizer)) return Llama3ToolSyntax.INSTANCE;
        return JsonToolSyntax.INSTANCE;
    }

    /** A short name: mistral, hermes or json. */
    String name();

    /** A conversation ready for the template, and the template variables (tools) to render it with. */
    record Rendering(List<Message> messages, Map<String, Object> variables) {}

    /**
     * The conversation (which may hold earlier calls, assistant messages with tool_calls, and their results, tool messages)
     * in the form this syntax's template reads, with the tools offered unless tool_choice is none ({@code use} null: a
     * request without tools, whose conversation may still hold calls).
     */
    Rendering render(List<Message> messages, ToolUse use);

    /**
     * What keeps calls well-formed; with tool_choice none, what keeps the model from opening one (a tagged syntax bans its
     * tag; the JSON syntax needs nothing: null).
     */
    LogitsProcessor constraint(ToolUse use, Tokenizer tokenizer, List<Integer> stopIds);

    /**
     * Whether text is held back from streaming from the last of the answer's tokens so far, {@code ids[count - 1]}, on (that
     * token opens the calls); the JSON syntax holds everything back (its text is only known to be the answer once the JSON
     * is complete).
     */
    boolean opensCalls(int[] ids, int count, Tokenizer tokenizer);

    /** Whether streamed text is held back from the first token. */
    boolean holdsAll();

    /**
     * The answer of the generated ids: the text and the calls. Text that is not a well-formed call (the token limit cut
     * it) stays text.
     */
    ToolReply parse(int[] ids, Tokenizer tokenizer, ToolUse use);
}
