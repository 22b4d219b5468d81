package org.jtune.serve.monitor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/**
 * The text drift is measured on, taken the same way from a logged request and from a training line:
 * the contents of the non-system messages before the answer, joined by newlines (a constant system
 * prompt would only dilute a shift), or a completion's prompt. Chat lines of a dataset drop their
 * final assistant message (the answer); Alpaca lines give instruction and input; text lines their text.
 */
public final class PromptText {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PromptText() {}

    /** From the request body the server logged; null when it holds no prompt. */
    public static String ofRequest(String requestJson) {
        JsonNode n = parse(requestJson);
        if (n == null) return null;
        if (n.path("messages").isArray()) return messages(n.get("messages"), false);
        JsonNode p = n.path("prompt");
        if (p.isTextual()) return p.asText();
        if (p.isArray()) {
            List<String> parts = new ArrayList<>();
            for (JsonNode x : p) if (x.isTextual()) parts.add(x.asText());
            return parts.isEmpty() ? null : String.join("\n", parts);
        }
        return null;
    }

    /** From one JSONL line of a dataset (chat, completion, Alpaca or text); null when it has none. */
    public static String ofDatasetLine(String line) {
        JsonNode n = parse(line);
        if (n == null) return null;
        if (n.path("messages").isArray()) return messages(n.get("messages"), true);
        if (n.path("prompt").isTextual()) return n.get("prompt").asText();
        if (n.path("instruction").isTextual()) {
            String in = n.path("input").asText("");
            return in.isEmpty() ? n.get("instruction").asText() : n.get("instruction").asText() + "\n" + in;
        }
        if (n.path("text").isTextual()) return n.get("text").asText();
        return null;
    }

    /** The final assistant message of a chat line (its label, for a classification dataset), or null. */
    public static String answerOfDatasetLine(String line) {
        JsonNode n = parse(line);
        if (n == null || !n.path("messages").isArray() || n.get("messages").isEmpty()) return null;
        JsonNode last = n.get("messages").get(n.get("messages").size() - 1);
        return "assistant".equals(last.path("role").asText()) ? last.path("content").asText() : null;
    }

    private static String messages(JsonNode msgs, boolean dropAnswer) {
        int end = msgs.size();
        if (dropAnswer && end > 0 && "assistant".equals(msgs.get(end - 1).path("role").asText())) end--;
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < end; i++) {
            JsonNode m = msgs.get(i);
            if ("system".equals(m.path("role").asText())) continue;
            JsonNode c = m.path("content");
            if (c.isTextual()) parts.add(c.asText());
            else if (c.isArray()) for (JsonNode part : c) if (part.path("text").isTextual()) parts.add(part.get("text").asText());
        }
        return parts.isEmpty() ? null : String.join("\n", parts);
    }

    private static JsonNode parse(String s) {
        if (s == null || s.isBlank()) return null;
        try {
            JsonNode n = JSON.readTree(s);
            return n != null && n.isObject() ? n : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
