package org.jtune.eval.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.chat.Message;

/**
 * A held-out test set in OpenAI chat JSONL: each line's last assistant message is the reference,
 * every message before it is the prompt. A line without messages, without a final assistant answer,
 * or that is not JSON is an error naming file:line.
 */
public final class ChatTestSet {
    /** One test example. */
    public record Example(String id, List<Message> prompt, String reference, String where) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Bad lines named in the error; the rest are counted. */
    private static final int MAX_SHOWN = 10;

    private ChatTestSet() {}

    public static List<Example> read(Path file) throws JtuneException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new JtuneException("test set " + file + " does not exist", e);
        } catch (IOException e) {
            throw new JtuneException("cannot read test set " + file + ": " + org.jtune.io.IoErrors.reason(e), e);
        }
        List<Example> out = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            String where = file.getFileName() + ":" + (i + 1);
            if (line.isEmpty()) continue;
            try {
                out.add(example(line, where, i + 1));
            } catch (JtuneException e) {
                bad.add(e.getMessage());
            }
        }
        if (bad.size() == 1) throw new JtuneException(bad.getFirst());
        if (!bad.isEmpty()) {
            int shown = Math.min(bad.size(), MAX_SHOWN);
            throw new JtuneException("test set " + file + ": " + bad.size() + " bad lines: "
                    + String.join("; ", bad.subList(0, shown)) + (bad.size() > shown ? "; and " + (bad.size() - shown) + " more" : ""));
        }
        if (out.isEmpty()) throw new JtuneException("test set " + file + " holds no examples");
        return out;
    }

    /** One line's example; a JtuneException naming {@code where} when it is not one. */
    private static Example example(String line, String where, int number) throws JtuneException {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new JtuneException(where + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
        JsonNode msgs = node.path("messages");
        if (!msgs.isArray() || msgs.isEmpty()) throw new JtuneException(where + ": no \"messages\" array");
        List<Message> messages = new ArrayList<>();
        for (JsonNode m : msgs) {
            try {
                messages.add(Message.fromJson(m));
            } catch (JtuneException e) {
                throw new JtuneException(where + ": " + e.getMessage(), e);
            }
        }
        Message last = messages.getLast();
        if (!last.role().equals("assistant")) throw new JtuneException(where + ": the last message must be the assistant's reference answer");
        String id = node.hasNonNull("id") ? node.get("id").asText() : Integer.toString(number);
        return new Example(id, messages.subList(0, messages.size() - 1), last.content(), where);
    }
}
