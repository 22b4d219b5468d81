package org.jtune.models.tools;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.models.chat.Message;
import org.jtune.models.generate.LogitsProcessor;
import org.jtune.models.structured.JsonConstraint;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * Llama 3.1's JSON tool calls (also 3.2 and 3.3): the template shows the tools itself (its {@code tools} variable), an
 * earlier call as an assistant turn holding {@code {"name": ..., "parameters": {...}}} and its result as an
 * {@code ipython} turn; the model calls by answering with that object alone, one call per answer (the template takes one
 * call per assistant message, so a message with several is shown as several turns). No tag announces the call: the
 * answer's first word decides ({@link LeadingCallConstraint}), and an answer that is not such an object is text.
 */
public final class Llama3ToolSyntax implements ToolSyntax {
    static final Llama3ToolSyntax INSTANCE = new Llama3ToolSyntax();
    private static final String TAG = "<|python_tag|>";
    private static final String ARGUMENTS = "parameters";

    private Llama3ToolSyntax() {}

    /** Whether a template shows calls in this form (results as ipython turns, arguments as "parameters") for a Llama 3 vocabulary. */
    static boolean fits(String templateSource, Tokenizer tokenizer) {
        return templateSource.contains("ipython") && templateSource.contains("\"" + ARGUMENTS + "\"")
                && tokenizer.idOf("<|eot_id|>").isPresent();
    }

    @Override
    public String name() {
        return "llama3";
    }

    @Override
    public Rendering render(List<Message> messages, ToolUse use) {
        List<Message> out = new ArrayList<>(messages.size());
        for (Message m : messages) {
            Message withObjects = ToolCalls.withArgumentObjects(m);
            List<Map<String, Object>> calls = ToolCalls.of(withObjects);
            if (calls.size() <= 1) {
                out.add(withObjects);
                continue;
            }
            for (Map<String, Object> c : calls) { // one turn per call
                Map<String, Object> fields = new LinkedHashMap<>(withObjects.fields());
                fields.put("tool_calls", List.of(c));
                out.add(new Message("assistant", null, fields));
            }
        }
        if (use == null || !use.offered()) return new Rendering(out, Map.of());
        return new Rendering(out, Map.of("tools", use.templateValues()));
    }

    @Override
    public LogitsProcessor constraint(ToolUse use, Tokenizer tokenizer, List<Integer> stopIds) {
        if (!use.offered()) return null; // the tools are not shown; nothing announces a call to ban
        JsonConstraint one = JsonConstraint.schema(use.callSchema(ARGUMENTS), tokenizer, stopIds);
        return new LeadingCallConstraint(one, tokenizer.idOf(TAG).orElse(-1), tokenizer, use.choice().forced());
    }

    @Override
    public boolean opensCalls(int[] ids, int count, Tokenizer tokenizer) {
        int first = LeadingCallConstraint.firstWord(ids, count, tokenizer);
        if (first != count - 1) return false;
        int token = ids[first];
        return tokenizer.idOf(TAG).orElse(-1) == token || LeadingCallConstraint.firstNonBlank(tokenizer.tokenBytes(token)) == '{';
    }

    @Override
    public boolean holdsAll() {
        return false;
    }

    @Override
    public ToolReply parse(int[] ids, Tokenizer tokenizer, ToolUse use) {
        String text = tokenizer.decode(ids, true);
        String trimmed = text.strip();
        if (!trimmed.startsWith("{")) return ToolReply.text(text); // the tag, a special token, is not in the text
        ToolCall call = ToolCalls.call(ToolCalls.readJson(trimmed), ARGUMENTS, use, "call_", 24);
        if (call == null) call = ToolCalls.call(ToolCalls.readJson(trimmed), use, "call_", 24); // some fine-tunes write "arguments"
        return call == null ? ToolReply.text(text) : new ToolReply(null, List.of(call));
    }

    @Override
    public String toString() {
        return name();
    }
}
