package org.jtune.train.data;

import org.jtune.models.chat.Message;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns one parsed JSONL object of a known {@link DatasetFormat} into a {@link Conversation},
 * reporting every problem it finds on that line (not only the first) to an {@link IssueLog}.
 * A line with any error yields no conversation. Rules for chat-like formats: content must be a
 * non-blank string, a system message may only come first, then user and assistant alternate starting
 * with user, and there must be at least one assistant turn (a trailing user turn is a warning). Chat data
 * (OpenAI's shape) may also carry tool use, as Axolotl's chat_template datasets do: a line's "tools" (OpenAI tool
 * definitions), an assistant message's "tool_calls" (its content may then be null or empty), "tool" messages with the
 * results (each after the assistant's calls or another result, its content a string, "tool_call_id" and "name"
 * kept), and an assistant's thought as "reasoning_content" (or "reasoning"), which thinking models' templates render.
 */
final class ExampleParser {
    /** Distinct system prompts shared between examples: one copy of a long repeated prompt, not one per line. */
    private static final int SHARED_SYSTEM_PROMPTS = 1024;
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private final IssueLog log;
    private final java.util.Map<String, String> systemPrompts = new java.util.HashMap<>();

    ExampleParser(IssueLog log) {
        this.log = log;
    }

    /** Parses {@code object} as {@code format}; empty when the line had errors. */
    Optional<Conversation> parse(JsonNode object, DatasetFormat format, SourceLine where) {
        long errorsBefore = log.errorCount();
        List<org.jtune.models.tools.ToolDefinition> tools = format == DatasetFormat.CHAT ? tools(object, where) : List.of();
        List<Message> messages = switch (format) {
            case CHAT -> turns(object, where, "messages", "role", "content", false);
            case SHAREGPT -> turns(object, where, "conversations", "from", "value", true);
            case ALPACA -> alpaca(object, where);
            case COMPLETION -> completion(object, where);
            case TEXT -> text(object, where);
        };
        if (messages == null || log.errorCount() > errorsBefore) return Optional.empty();
        if (!messages.isEmpty() && Role.of(messages.getFirst()) == Role.SYSTEM) {
            messages = new ArrayList<>(messages);
            messages.set(0, Message.system(shared(messages.getFirst().content())));
        }
        return Optional.of(new Conversation(messages, where, format, tools));
    }

    private String shared(String systemPrompt) {
        String known = systemPrompts.get(systemPrompt);
        if (known != null) return known;
        if (systemPrompts.size() < SHARED_SYSTEM_PROMPTS) systemPrompts.put(systemPrompt, systemPrompt);
        return systemPrompt;
    }

    // ---------------------------------------------------------------- chat and ShareGPT

    private List<Message> turns(JsonNode object, SourceLine where, String listKey, String roleKey,
                                String contentKey, boolean shareGpt) {
        JsonNode list = object.get(listKey);
        if (list == null || list.isNull()) {
            error(IssueKind.MISSING_FIELD, where, "missing field \"" + listKey + "\"");
            return null;
        }
        if (!list.isArray()) {
            error(IssueKind.WRONG_TYPE, where, "\"" + listKey + "\" must be an array of messages, found " + typeOf(list));
            return null;
        }
        if (list.isEmpty()) {
            error(IssueKind.NO_ASSISTANT_TURN, where, "\"" + listKey + "\" is empty: no assistant turn to learn from");
            return null;
        }
        List<Message> messages = new ArrayList<>();
        List<Role> roles = new ArrayList<>();   // null entries for unknown roles keep positions aligned
        List<Boolean> calling = new ArrayList<>(); // per message: an assistant turn that calls tools
        for (int i = 0; i < list.size(); i++) {
            String at = listKey + "[" + i + "]";
            JsonNode m = list.get(i);
            if (!m.isObject()) {
                error(IssueKind.WRONG_TYPE, where, at + " must be an object with \"" + roleKey + "\" and \""
                        + contentKey + "\", found " + typeOf(m));
                roles.add(null);
                continue;
            }
            Role role = role(m, at, roleKey, where, shareGpt);
            java.util.Map<String, Object> fields = new java.util.LinkedHashMap<>();
            JsonNode callList = m.get("tool_calls");
            boolean calls = role == Role.ASSISTANT && !shareGpt && callList != null && !callList.isNull() && !(callList.isArray() && callList.isEmpty());
            if (calls) toolCalls(callList, at, where, fields);
            JsonNode c = m.get(contentKey);
            String content = calls && (c == null || c.isNull()) ? ""
                    : textField(m, contentKey, at + "." + contentKey, where, !calls && role != Role.TOOL);
            Integer weight = weight(m, at, where);
            if (weight != null) fields.put(Conversation.WEIGHT, weight);
            if (role == Role.ASSISTANT && !shareGpt) thought(m, at, where, fields);
            if (role == Role.TOOL) {
                for (String key : List.of("tool_call_id", "name")) {
                    String v = optionalText(m, key, where);
                    if (v != null) fields.put(key, v);
                }
            }
            roles.add(role);
            calling.add(calls);
            if (role != null && content != null) messages.add(new Message(role.wireName(), content, fields));
        }
        checkOrder(roles, calling, listKey, where);
        return messages;
    }

    /** The line's "tools" (chat data): OpenAI tool definitions; empty when absent. */
    private List<org.jtune.models.tools.ToolDefinition> tools(JsonNode object, SourceLine where) {
        JsonNode t = object.get("tools");
        if (t == null || t.isNull()) return List.of();
        try {
            return org.jtune.models.tools.ToolDefinition.fromOpenAi(t);
        } catch (IllegalArgumentException e) {
            error(IssueKind.WRONG_TYPE, where, "\"tools\": " + e.getMessage());
            return List.of();
        }
    }

    /**
     * An assistant message's "tool_calls" into {@code fields} (as the message had them), or an error. Each call must be
     * {"function": {"name": string, "arguments": JSON text or object}} (an "id" and "type": "function" are kept).
     */
    private void toolCalls(JsonNode calls, String at, SourceLine where, java.util.Map<String, Object> fields) {
        if (!calls.isArray()) {
            error(IssueKind.WRONG_TYPE, where, at + ".tool_calls must be an array of calls, found " + typeOf(calls));
            return;
        }
        for (int i = 0; i < calls.size(); i++) {
            JsonNode f = calls.get(i).path("function");
            JsonNode args = f.path("arguments");
            if (!f.path("name").isTextual() || !(args.isTextual() || args.isObject())) {
                error(IssueKind.WRONG_TYPE, where, at + ".tool_calls[" + i + "] must be {\"function\": {\"name\": string, \"arguments\": "
                        + "JSON text or object}}, found " + calls.get(i));
                return;
            }
        }
        fields.put("tool_calls", JSON.convertValue(calls, Object.class));
    }

    /** An assistant message's thought ("reasoning_content", or "reasoning" as vLLM names it) into {@code fields}. */
    private void thought(JsonNode m, String at, SourceLine where, java.util.Map<String, Object> fields) {
        String key = m.hasNonNull("reasoning_content") ? "reasoning_content" : "reasoning";
        JsonNode r = m.get(key);
        if (r == null || r.isNull()) return;
        if (!r.isTextual()) {
            error(IssueKind.NON_STRING_CONTENT, where, at + "." + key + " must be a string, found " + typeOf(r));
            return;
        }
        fields.put("reasoning_content", r.textValue());
    }

    /**
     * A message's "weight" (Axolotl's per-message loss weight): 1 trains the message's tokens, 0 does
     * not (for any role); absent means the default (assistant messages trained). Other values are errors.
     */
    private Integer weight(JsonNode message, String at, SourceLine where) {
        JsonNode w = message.get(Conversation.WEIGHT);
        if (w == null || w.isNull()) return null;
        if (w.isNumber() && (w.asDouble() == 0 || w.asDouble() == 1)) return w.asInt();
        if (w.isBoolean()) return w.asBoolean() ? 1 : 0;
        error(IssueKind.WRONG_TYPE, where, at + ".weight must be 0 (not trained) or 1 (trained), found " + w);
        return null;
    }

    private Role role(JsonNode message, String at, String roleKey, SourceLine where, boolean shareGpt) {
        JsonNode r = message.get(roleKey);
        if (r == null || r.isNull()) {
            error(IssueKind.MISSING_FIELD, where, at + " has no \"" + roleKey + "\"");
            return null;
        }
        if (!r.isTextual()) {
            error(IssueKind.WRONG_TYPE, where, at + "." + roleKey + " must be a string, found " + typeOf(r));
            return null;
        }
        String name = r.textValue();
        Optional<Role> role = shareGpt ? shareGptRole(name) : Role.fromWireName(name);
        if (role.isEmpty()) {
            String expected = shareGpt ? "system, human or gpt" : "system, user, assistant or tool";
            String hint = !shareGpt && shareGptRole(name).isPresent()
                    ? " (\"" + name + "\" is ShareGPT's name; use " + shareGptRole(name).get().wireName() + ")" : "";
            error(IssueKind.UNKNOWN_ROLE, where, at + " has unknown " + roleKey + " \"" + name + "\"; expected "
                    + expected + hint);
            return null;
        }
        return role.get();
    }

    private static Optional<Role> shareGptRole(String from) {
        return switch (from) {
            case "system" -> Optional.of(Role.SYSTEM);
            case "human", "user" -> Optional.of(Role.USER);
            case "gpt", "assistant" -> Optional.of(Role.ASSISTANT);
            default -> Optional.empty();
        };
    }

    /**
     * Reports the first ordering violation (later ones usually follow from it) and a missing answer; {@code calling} marks the
     * assistant turns that call tools, whose results (tool messages) come next and are followed by the assistant again.
     */
    private void checkOrder(List<Role> roles, List<Boolean> calling, String listKey, SourceLine where) {
        Role previous = null;
        boolean called = false, knownAll = true;
        for (int i = 0; i < roles.size(); i++) {
            Role r = roles.get(i);
            if (r == null) {
                knownAll = false;
                break;
            }
            String problem = null;
            if (r == Role.SYSTEM && i > 0) {
                problem = "a system message may only come first";
            } else if (called && r != Role.TOOL) {
                problem = "the assistant's tool calls are not answered by tool messages";
            } else if (r == Role.TOOL && previous != Role.TOOL && !(previous == Role.ASSISTANT && calling.get(i - 1))) {
                problem = "a tool message must follow an assistant message with tool_calls (or another tool message)";
            } else if (r == Role.ASSISTANT && previous != Role.USER && previous != Role.TOOL) {
                problem = previous == Role.ASSISTANT ? "two assistant messages in a row"
                        : "an assistant message must follow a user message";
            } else if (r == Role.USER && previous == Role.USER) {
                problem = "two user messages in a row";
            }
            called = r == Role.ASSISTANT && calling.get(i);
            if (problem != null) {
                error(IssueKind.ROLE_ORDER, where, listKey + "[" + i + "] is " + r.wireName() + ": " + problem
                        + " (roles: " + roleList(roles) + "; expected [system,] user, assistant, user, assistant, ..., an assistant's tool "
                        + "calls followed by tool messages)");
                return;
            }
            previous = r;
        }
        if (!roles.contains(Role.ASSISTANT) && knownAll) {
            error(IssueKind.NO_ASSISTANT_TURN, where, "no assistant message: nothing to learn from (roles: "
                    + roleList(roles) + ")");
        } else if (knownAll && previous == Role.USER) {
            log.add(Issue.at(IssueKind.TRAILING_USER_TURN, where, "the last message is a user turn without an answer;"
                    + " it adds context but no loss"));
        }
    }

    private static String roleList(List<Role> roles) {
        StringBuilder sb = new StringBuilder();
        for (Role r : roles) {
            if (!sb.isEmpty()) sb.append(",");
            sb.append(r == null ? "?" : r.wireName());
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- single-turn formats

    private List<Message> alpaca(JsonNode object, SourceLine where) {
        String instruction = textField(object, "instruction", "instruction", where, true);
        String input = optionalText(object, "input", where);
        String output = textField(object, "output", "output", where, true);
        String system = optionalText(object, "system", where);
        if (instruction == null || output == null) return null;
        List<Message> messages = new ArrayList<>();
        if (system != null && !system.isBlank()) messages.add(Message.system(system));
        messages.add(Message.user(input == null || input.isBlank() ? instruction : instruction + "\n\n" + input));
        messages.add(Message.assistant(output));
        return messages;
    }

    private List<Message> completion(JsonNode object, SourceLine where) {
        String prompt = textField(object, "prompt", "prompt", where, false);
        String completion = textField(object, "completion", "completion", where, true);
        if (prompt == null || completion == null) return null;
        return prompt.isEmpty() ? List.of(Message.assistant(completion))
                : List.of(Message.user(prompt), Message.assistant(completion));
    }

    private List<Message> text(JsonNode object, SourceLine where) {
        String text = textField(object, "text", "text", where, true);
        return text == null ? null : List.of(Message.assistant(text));
    }

    // ---------------------------------------------------------------- fields

    /** A required string field; null (after reporting) when missing, not a string, or blank when it must not be. */
    private String textField(JsonNode object, String key, String at, SourceLine where, boolean nonBlank) {
        JsonNode v = object.get(key);
        if (v == null) {
            error(IssueKind.MISSING_FIELD, where, "missing field \"" + at + "\"");
            return null;
        }
        if (!v.isTextual()) {
            error(IssueKind.NON_STRING_CONTENT, where, "\"" + at + "\" must be a string, found " + typeOf(v)
                    + (v.isArray() ? " (content parts are not supported; join them into one string)" : ""));
            return null;
        }
        if (nonBlank && v.textValue().isBlank()) {
            error(IssueKind.EMPTY_CONTENT, where, "\"" + at + "\" is " + (v.textValue().isEmpty() ? "empty" : "only whitespace"));
            return null;
        }
        return v.textValue();
    }

    /** An optional string field: absent or null gives null; another type is an error. */
    private String optionalText(JsonNode object, String key, SourceLine where) {
        JsonNode v = object.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) {
            error(IssueKind.NON_STRING_CONTENT, where, "\"" + key + "\" must be a string, found " + typeOf(v));
            return null;
        }
        return v.textValue();
    }

    static String typeOf(JsonNode v) {
        if (v.isNull()) return "null";
        if (v.isTextual()) return "a string";
        if (v.isNumber()) return "a number";
        if (v.isBoolean()) return "a boolean";
        if (v.isArray()) return "an array";
        if (v.isObject()) return "an object";
        return v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }

    private void error(IssueKind kind, SourceLine where, String message) {
        log.add(Issue.at(kind, where, message));
    }
}
