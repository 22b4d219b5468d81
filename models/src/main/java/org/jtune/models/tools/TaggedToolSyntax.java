package org.jtune.models.tools;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.jtune.models.chat.Message;
import org.jtune.models.generate.LogitsProcessor;
import org.jtune.models.structured.JsonConstraint;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * A syntax where a special token opens the calls and the template itself shows the tools (its {@code tools} variable) and
 * earlier calls and results: Mistral's {@code [TOOL_CALLS] [{"name": ..., "arguments": {...}}, ...]} (a list, ended by the
 * end of the answer) and the Hermes form {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>}, one call per
 * tag pair, repeated for parallel calls. Text before the opening token is the answer's content.
 */
public final class TaggedToolSyntax implements ToolSyntax {
    public static final TaggedToolSyntax MISTRAL = new TaggedToolSyntax("mistral", "[TOOL_CALLS]", null, "", 9);
    public static final TaggedToolSyntax HERMES = new TaggedToolSyntax("hermes", "<tool_call>", "</tool_call>", "call_", 24);

    private final String name;
    private final String open;
    private final String close;      // null: one list of calls up to the end
    private final String idPrefix;
    private final int idLength;

    private TaggedToolSyntax(String name, String open, String close, String idPrefix, int idLength) {
        this.name = name;
        this.open = open;
        this.close = close;
        this.idPrefix = idPrefix;
        this.idLength = idLength;
    }

    /** Whether a template writes this syntax's tags and the tokenizer has each as one token. */
    boolean fits(String templateSource, Tokenizer tokenizer) {
        if (!templateSource.contains(open) || tokenizer.idOf(open).isEmpty()) return false;
        return close == null || (templateSource.contains(close) && tokenizer.idOf(close).isPresent());
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Rendering render(List<Message> messages, ToolUse use) {
        List<Message> out = new ArrayList<>(messages.size());
        for (Message m : messages) out.add(ToolCalls.withArgumentObjects(m));
        if (use == null || !use.offered()) return new Rendering(out, Map.of());
        return new Rendering(out, Map.of("tools", use.templateValues()));
    }

    @Override
    public LogitsProcessor constraint(ToolUse use, Tokenizer tokenizer, List<Integer> stopIds) {
        int openId = id(tokenizer, open);
        if (!use.offered()) return () -> new LogitsProcessor.State() { // tool_choice none: the tag cannot open a call
            @Override
            public void process(float[] logits) {
                logits[openId] = Float.NEGATIVE_INFINITY;
            }

            @Override
            public void accept(int token) {}
        };
        if (close == null) {
            JsonConstraint list = JsonConstraint.schema(use.callListSchema(), tokenizer, stopIds);
            return new ToolCallConstraint(openId, -1, list, stopIds, use.choice().forced(), false);
        }
        int closeId = id(tokenizer, close);
        JsonConstraint one = JsonConstraint.schema(use.callSchema(), tokenizer, List.of(closeId));
        return new ToolCallConstraint(openId, closeId, one, stopIds, use.choice().forced(), use.parallel());
    }

    @Override
    public boolean opensCalls(int[] ids, int count, Tokenizer tokenizer) {
        return ids[count - 1] == id(tokenizer, open);
    }

    @Override
    public boolean holdsAll() {
        return false;
    }

    @Override
    public ToolReply parse(int[] ids, Tokenizer tokenizer, ToolUse use) {
        int openId = id(tokenizer, open);
        int first = indexOf(ids, openId, 0);
        String all = tokenizer.decode(ids, true);
        if (first < 0) return ToolReply.text(all);
        String content = tokenizer.decode(Arrays.copyOfRange(ids, 0, first), true).stripTrailing(); // streamed as it came: only the end is trimmed
        List<ToolCall> calls;
        if (close == null) {
            calls = ToolCalls.calls(ToolCalls.readJson(tokenizer.decode(Arrays.copyOfRange(ids, first + 1, ids.length), true)), use, idPrefix, idLength);
        } else {
            calls = new ArrayList<>();
            int closeId = id(tokenizer, close);
            for (int at = first; at >= 0 && calls != null; at = indexOf(ids, openId, at + 1)) {
                int end = indexOf(ids, closeId, at + 1);
                if (end < 0) end = ids.length;
                ToolCall c = ToolCalls.call(ToolCalls.readJson(tokenizer.decode(Arrays.copyOfRange(ids, at + 1, end), true)), use, idPrefix, idLength);
                if (c == null) calls = null;
                else calls.add(c);
            }
        }
        if (calls == null || calls.isEmpty()) return ToolReply.text(all);
        return new ToolReply(content.isEmpty() ? null : content, calls);
    }

    private static int indexOf(int[] ids, int id, int from) {
        for (int i = from; i < ids.length; i++) if (ids[i] == id) return i;
        return -1;
    }

    private static int id(Tokenizer tokenizer, String token) {
        OptionalInt id = tokenizer.idOf(token);
        if (id.isEmpty()) throw new IllegalStateException("the tokenizer has no token " + token);
        return id.getAsInt();
    }

    @Override
    public String toString() {
        return name;
    }
}
