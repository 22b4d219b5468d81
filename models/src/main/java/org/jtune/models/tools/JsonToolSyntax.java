package org.jtune.models.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.models.chat.Message;
import org.jtune.models.generate.LogitsProcessor;
import org.jtune.models.structured.JsonConstraint;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * Tool calls for a template that knows no tools (llama.cpp's "generic" format, in our own words): the system message
 * lists the functions with their argument schemas and asks for one JSON object, {@code {"tool_calls": [{"name": ...,
 * "arguments": {...}}]}} to call or {@code {"content": "..."}} to answer, and generation is constrained to exactly that
 * (only the first form when tool_choice forces a call). Earlier calls are shown as the JSON the model wrote, earlier
 * answers as {"content": ...}, and tool results as a user message {"tool_results": [{"tool_call_id", "content"}]}
 * (consecutive results in one message, so templates that insist on alternating roles render them).
 */
public final class JsonToolSyntax implements ToolSyntax {
    static final JsonToolSyntax INSTANCE = new JsonToolSyntax();
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonToolSyntax() {}

    @Override
    public String name() {
        return "json";
    }

    @Override
    public Rendering render(List<Message> messages, ToolUse use) {
        boolean offered = use != null && use.offered();
        List<Message> out = new ArrayList<>();
        List<Object> results = new ArrayList<>();
        for (Message m : messages) {
            if (m.role().equals("tool")) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("tool_call_id", m.fields().get("tool_call_id"));
                r.put("content", m.content());
                results.add(r);
                continue;
            }
            if (!results.isEmpty()) {
                out.add(Message.user(ToolCalls.json(Map.of("tool_results", List.copyOf(results)))));
                results.clear();
            }
            List<Map<String, Object>> calls = ToolCalls.of(m);
            if (m.role().equals("assistant") && !calls.isEmpty()) {
                List<Object> written = new ArrayList<>();
                for (Map<String, Object> c : calls) {
                    Map<String, Object> w = new LinkedHashMap<>();
                    w.put("name", ToolCalls.name(c));
                    w.put("arguments", ToolCalls.arguments(c));
                    written.add(w);
                }
                out.add(Message.assistant(ToolCalls.json(Map.of("tool_calls", written))));
            } else if (m.role().equals("assistant") && offered && m.content() != null) {
                out.add(Message.assistant(ToolCalls.json(Map.of("content", m.content()))));
            } else {
                out.add(m);
            }
        }
        if (!results.isEmpty()) out.add(Message.user(ToolCalls.json(Map.of("tool_results", List.copyOf(results)))));
        if (!offered) return new Rendering(out, Map.of());
        String instructions = instructions(use);
        if (!out.isEmpty() && out.getFirst().role().equals("system")) {
            out.set(0, Message.system(out.getFirst().content() + "\n\n" + instructions));
        } else {
            out.addFirst(Message.system(instructions));
        }
        return new Rendering(out, Map.of());
    }

    /** The system message's description of the tools and of the answer's form. */
    static String instructions(ToolUse use) {
        ArrayNode functions = JSON.createArrayNode();
        for (ToolDefinition t : use.tools()) {
            ObjectNode f = functions.addObject().put("name", t.name());
            if (t.description() != null) f.put("description", t.description());
            f.set("parameters", t.parameters() == null ? JSON.createObjectNode().put("type", "object") : t.parameters());
        }
        String call = "{\"tool_calls\": [{\"name\": ..., \"arguments\": {...}}" + (use.parallel() ? ", ...]}" : "]}");
        StringBuilder sb = new StringBuilder("Functions you can call, with the JSON Schema of their arguments:\n").append(functions).append('\n');
        switch (use.choice().mode()) {
            case FUNCTION -> sb.append("Reply with JSON that calls ").append(use.choice().function()).append(": ").append(call);
            case REQUIRED -> sb.append("Reply with JSON that calls functions: ").append(call);
            default -> sb.append("Reply with JSON: ").append(call).append(" to call functions, or {\"content\": \"...\"} to answer.");
        }
        if (!use.parallel()) sb.append(" One call at a time.");
        return sb.toString();
    }

    /** The schema of the whole answer: the calls, or (unless tool_choice forces a call) the text. */
    static ObjectNode answerSchema(ToolUse use) {
        ObjectNode calls = JSON.createObjectNode().put("type", "object");
        calls.putObject("properties").set("tool_calls", use.callListSchema());
        calls.putArray("required").add("tool_calls");
        calls.put("additionalProperties", false);
        if (use.choice().forced()) return calls;
        ObjectNode text = JSON.createObjectNode().put("type", "object");
        text.putObject("properties").putObject("content").put("type", "string");
        text.putArray("required").add("content");
        text.put("additionalProperties", false);
        ObjectNode either = JSON.createObjectNode();
        either.putArray("anyOf").add(calls).add(text);
        return either;
    }

    @Override
    public LogitsProcessor constraint(ToolUse use, Tokenizer tokenizer, List<Integer> stopIds) {
        return use.offered() ? JsonConstraint.schema(answerSchema(use), tokenizer, stopIds) : null;
    }

    @Override
    public boolean opensCalls(int[] ids, int count, Tokenizer tokenizer) {
        return false;
    }

    @Override
    public boolean holdsAll() {
        return true;
    }

    @Override
    public ToolReply parse(int[] ids, Tokenizer tokenizer, ToolUse use) {
        String text = tokenizer.decode(ids, true);
        JsonNode answer = ToolCalls.readJson(text);
        if (answer == null || !answer.isObject()) return ToolReply.text(text);
        if (answer.path("content").isTextual() && answer.size() == 1) return ToolReply.text(answer.get("content").asText());
        List<ToolCall> calls = ToolCalls.calls(answer.get("tool_calls"), use, "call_", 24);
        return calls == null ? ToolReply.text(text) : new ToolReply(null, calls);
    }

    @Override
    public String toString() {
        return name();
    }
}
