package org.jtune.eval.suite;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.chat.Message;

/**
 * A general-capabilities regression suite: short prompts by category (instruction following,
 * arithmetic, reasoning, formatting, declining harmful requests, not refusing harmless ones), each with
 * its {@link SuiteCheck}, run before and after fine-tuning to see what the fine-tuning cost. "general"
 * is the built-in suite written for this project; users add their own as JSONL with the same fields:
 * {@code {"id", "category", "messages": [...], "check": {"type": "exact|contains|regex|json|refusal",
 * "value": "...", "not_refusal": bool}}}.
 */
public record RegressionSuite(String name, List<Item> items) {
    public record Item(String id, String category, List<Message> messages, SuiteCheck check) {}

    /** Pass rate per category (and "all"), in the order categories first appear. */
    public record Scores(Map<String, Double> byCategory, boolean[] passed) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    public static RegressionSuite load(String nameOrFile) throws JtuneException {
        if (nameOrFile.equals("general")) {
            try (InputStream in = RegressionSuite.class.getResourceAsStream("general.jsonl")) {
                if (in == null) throw new JtuneException("the built-in suite 'general' is missing from the jar");
                return parse("general", new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList());
            } catch (IOException e) {
                throw new JtuneException("cannot read the built-in suite: " + e.getMessage(), e);
            }
        }
        Path file = Path.of(nameOrFile);
        try {
            return parse(file.getFileName().toString(), Files.readAllLines(file));
        } catch (IOException e) {
            throw new JtuneException("cannot read suite " + file + " (a file, or the built-in 'general'): " + e.getMessage(), e);
        }
    }

    static RegressionSuite parse(String name, List<String> lines) throws JtuneException {
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            String where = name + ":" + (i + 1);
            try {
                JsonNode o = JSON.readTree(line);
                List<Message> messages = new ArrayList<>();
                for (JsonNode m : o.path("messages")) messages.add(Message.fromJson(m));
                if (messages.isEmpty()) throw new JtuneException("no messages");
                JsonNode c = o.path("check");
                SuiteCheck.Type type = SuiteCheck.Type.valueOf(c.path("type").asText("").toUpperCase(Locale.ROOT));
                items.add(new Item(o.path("id").asText(Integer.toString(i + 1)), o.path("category").asText("other"), messages,
                        new SuiteCheck(type, c.path("value").asText(""), c.path("not_refusal").asBoolean(false))));
            } catch (IllegalArgumentException e) {
                throw new JtuneException(where + ": check.type must be exact, contains, regex, json or refusal");
            } catch (IOException e) {
                throw new JtuneException(where + ": not valid JSON");
            } catch (JtuneException e) {
                throw new JtuneException(where + ": " + e.getMessage(), e);
            }
        }
        if (items.isEmpty()) throw new JtuneException("suite " + name + " has no items");
        return new RegressionSuite(name, items);
    }

    public Scores score(List<String> answers) {
        Map<String, int[]> counts = new LinkedHashMap<>();
        boolean[] passed = new boolean[items.size()];
        for (int i = 0; i < items.size(); i++) {
            passed[i] = items.get(i).check().passes(answers.get(i));
            for (String key : List.of(items.get(i).category(), "all")) {
                int[] c = counts.computeIfAbsent(key, k -> new int[2]);
                c[0] += passed[i] ? 1 : 0;
                c[1]++;
            }
        }
        Map<String, Double> rates = new LinkedHashMap<>();
        counts.forEach((k, c) -> {
            if (!k.equals("all")) rates.put(k, (double) c[0] / c[1]);
        });
        rates.put("all", (double) counts.get("all")[0] / counts.get("all")[1]);
        return new Scores(rates, passed);
    }
}
