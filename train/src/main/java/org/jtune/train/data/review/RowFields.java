package org.jtune.train.data.review;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jtune.JtuneException;
import org.jtune.train.data.DatasetFormat;

/**
 * The two fields of a JSONL row that review and augmentation read and change, in every dataset
 * format: the <em>input</em> (the last user turn before the final answer; Alpaca's "input" when it
 * is not blank, else its "instruction"; a completion's "prompt") and the <em>answer</em> (the final
 * assistant turn; Alpaca's "output"; "completion"; plain text's "text"). Other fields and the key
 * order are kept, so a changed row differs from the original only where it was changed.
 */
public final class RowFields {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RowFields() {}

    /** Parses a row that data check accepted. */
    public static ObjectNode parse(String line) throws JtuneException {
        try {
            JsonNode n = JSON.readTree(line);
            if (n instanceof ObjectNode o) return o;
        } catch (JsonProcessingException e) {
            // reported below
        }
        throw new JtuneException("not a JSON object: " + (line.length() > 80 ? line.substring(0, 77) + "..." : line));
    }

    public static String write(ObjectNode row) {
        try {
            return JSON.writeValueAsString(row);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("writing a JSON tree cannot fail", e);
        }
    }

    /** The input text, or null when the row has none (plain text, a completion without prompt). */
    public static String input(ObjectNode row, DatasetFormat f) {
        JsonNode holder = inputHolder(row, f);
        return holder == null ? null : holder.get(inputKey(row, f)).asText();
    }

    /** The answer text. */
    public static String answer(ObjectNode row, DatasetFormat f) {
        JsonNode holder = answerHolder(row, f);
        return holder == null ? null : holder.get(answerKey(f)).asText();
    }

    /** Earlier turns of a multi-turn chat (not the system prompt), one "role: text" per line; empty for single-turn rows. */
    public static String context(ObjectNode row, DatasetFormat f) {
        if (f != DatasetFormat.CHAT && f != DatasetFormat.SHAREGPT) return "";
        ArrayNode turns = turns(row, f);
        int last = lastIndex(turns, f, true);
        int user = last < 0 ? -1 : previousUser(turns, f, last);
        StringBuilder sb = new StringBuilder();
        String roleKey = f == DatasetFormat.CHAT ? "role" : "from";
        String contentKey = f == DatasetFormat.CHAT ? "content" : "value";
        for (int i = 0; i < user; i++) {
            String role = turns.get(i).path(roleKey).asText();
            if (role.equals("system")) continue;
            if (!sb.isEmpty()) sb.append('\n');
            sb.append(role).append(": ").append(turns.get(i).path(contentKey).asText());
        }
        return sb.toString();
    }

    /** Replaces the input; false when the row has no input to replace. */
    public static boolean setInput(ObjectNode row, DatasetFormat f, String text) {
        JsonNode holder = inputHolder(row, f);
        if (!(holder instanceof ObjectNode o)) return false;
        o.put(inputKey(row, f), text);
        return true;
    }

    /** Replaces the answer; false when the row has none. */
    public static boolean setAnswer(ObjectNode row, DatasetFormat f, String text) {
        JsonNode holder = answerHolder(row, f);
        if (!(holder instanceof ObjectNode o)) return false;
        o.put(answerKey(f), text);
        return true;
    }

    private static JsonNode inputHolder(ObjectNode row, DatasetFormat f) {
        return switch (f) {
            case CHAT, SHAREGPT -> {
                ArrayNode turns = turns(row, f);
                int last = lastIndex(turns, f, true);
                int user = last < 0 ? -1 : previousUser(turns, f, last);
                yield user < 0 ? null : turns.get(user);
            }
            case ALPACA -> row;
            case COMPLETION -> row.path("prompt").asText().isEmpty() ? null : row;
            case TEXT -> null;
        };
    }

    private static String inputKey(ObjectNode row, DatasetFormat f) {
        return switch (f) {
            case CHAT -> "content";
            case SHAREGPT -> "value";
            case ALPACA -> row.path("input").isTextual() && !row.path("input").asText().isBlank() ? "input" : "instruction";
            case COMPLETION -> "prompt";
            case TEXT -> "text";
        };
    }

    private static JsonNode answerHolder(ObjectNode row, DatasetFormat f) {
        return switch (f) {
            case CHAT, SHAREGPT -> {
                ArrayNode turns = turns(row, f);
                int last = lastIndex(turns, f, true);
                yield last < 0 ? null : turns.get(last);
            }
            case ALPACA, COMPLETION, TEXT -> row;
        };
    }

    private static String answerKey(DatasetFormat f) {
        return switch (f) {
            case CHAT -> "content";
            case SHAREGPT -> "value";
            case ALPACA -> "output";
            case COMPLETION -> "completion";
            case TEXT -> "text";
        };
    }

    private static ArrayNode turns(ObjectNode row, DatasetFormat f) {
        JsonNode t = row.get(f == DatasetFormat.CHAT ? "messages" : "conversations");
        return t instanceof ArrayNode a ? a : JSON.createArrayNode();
    }

    /** Index of the last assistant turn. */
    private static int lastIndex(ArrayNode turns, DatasetFormat f, boolean assistant) {
        for (int i = turns.size() - 1; i >= 0; i--) if (isAssistant(turns.get(i), f) == assistant && !isSystem(turns.get(i), f)) return i;
        return -1;
    }

    private static int previousUser(ArrayNode turns, DatasetFormat f, int before) {
        for (int i = before - 1; i >= 0; i--) if (!isAssistant(turns.get(i), f) && !isSystem(turns.get(i), f)) return i;
        return -1;
    }

    private static boolean isAssistant(JsonNode turn, DatasetFormat f) {
        String r = turn.path(f == DatasetFormat.CHAT ? "role" : "from").asText();
        return r.equals("assistant") || r.equals("gpt");
    }

    private static boolean isSystem(JsonNode turn, DatasetFormat f) {
        return turn.path(f == DatasetFormat.CHAT ? "role" : "from").asText().equals("system");
    }
}
