package org.jtune.serve.feedback;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.eval.human.Csv;
import org.jtune.io.AtomicFile;
import org.jtune.serve.monitor.PromptText;
import org.jtune.serve.monitor.RequestLog;
import org.jtune.train.data.NormalisedText;

/**
 * The feedback loop's export: rated and corrected requests of the request log as OpenAI chat JSONL,
 * ready for the next `jtune train`. Per request the latest feedback counts. A line's answer is the
 * user's correction when there is one, else the model's own output when its rating is at least
 * {@code minRating} (without {@code minRating}, only corrections are exported). Lines are skipped,
 * with the reason in the review sheet, when the request is not in the log or not a success, when
 * they repeat an exported line (same messages after normalisation), and when their prompt is in one
 * of the existing train/validation/test files (exactly, or after {@link NormalisedText}
 * normalisation: case, punctuation, whitespace, Unicode form) — a leak that would inflate the next
 * evaluation. The review sheet (CSV) lists every feedback row: decision, reason, the output line.
 */
public final class FeedbackExport {
    private static final ObjectMapper JSON = new ObjectMapper();

    public record Options(Double minRating, List<Path> existing, Path out, Path review) {}

    public record Result(int feedback, int written, int skipped, Map<String, Integer> reasons) {}

    private record Known(String where, String exact) {}

    private FeedbackExport() {}

    public static Result run(RequestLog log, RequestLog.Window window, Options o) throws JtuneException {
        Map<String, Known> exact = new HashMap<>(), normalised = new HashMap<>();
        for (Path f : o.existing()) {
            List<String> lines;
            try {
                lines = Files.readAllLines(f);
            } catch (IOException e) {
                throw new JtuneException("cannot read " + f + " (for the leakage check): " + e.getMessage(), e);
            }
            for (int i = 0; i < lines.size(); i++) {
                String p = PromptText.ofDatasetLine(lines.get(i));
                if (p == null) continue;
                Known k = new Known(f.getFileName() + ":" + (i + 1), p);
                exact.putIfAbsent(p, k);
                normalised.putIfAbsent(NormalisedText.of(p), k);
            }
        }
        // the latest feedback of each request
        Map<String, RequestLog.Feedback> latest = new LinkedHashMap<>();
        List<RequestLog.Feedback> all = log.feedback(window);
        for (RequestLog.Feedback f : all) {
            latest.remove(f.requestId());
            latest.put(f.requestId(), f);
        }
        StringBuilder jsonl = new StringBuilder(), csv = new StringBuilder();
        csv.append(Csv.row(List.of("feedback_id", "request_id", "rating", "decision", "reason", "out_line", "prompt", "answer", "model_output")));
        Map<String, String> written = new HashMap<>();
        Map<String, Integer> reasons = new LinkedHashMap<>();
        int lines = 0, skipped = 0;
        for (RequestLog.Feedback f : all) {
            if (latest.get(f.requestId()) != f) {
                skipped += row(csv, reasons, f, "skipped", "superseded by later feedback on the same request", null, null, null);
                continue;
            }
            var r = f.request();
            if (r == null) {
                skipped += row(csv, reasons, f, "skipped", "request not in the log", null, null, null);
                continue;
            }
            String prompt = PromptText.ofRequest(r.requestJson());
            ArrayNode messages = messages(r.requestJson());
            if (!r.ok() || messages == null || prompt == null) {
                skipped += row(csv, reasons, f, "skipped", "request failed (status " + r.status() + ") or has no prompt", prompt, null, r.outputText());
                continue;
            }
            String answer;
            if (f.correction() != null && !f.correction().isBlank()) {
                answer = f.correction().strip();
            } else if (o.minRating() != null && f.rating() != null && f.rating() >= o.minRating() && r.outputText() != null) {
                answer = r.outputText().strip();
            } else {
                String why = o.minRating() == null ? "no correction (give --min-rating to export well-rated answers)"
                        : "no correction and rating " + f.rating() + " below --min-rating " + o.minRating();
                skipped += row(csv, reasons, f, "skipped", why, prompt, null, r.outputText());
                continue;
            }
            Known leak = exact.get(prompt);
            String kind = "same prompt as ";
            if (leak == null) {
                leak = normalised.get(NormalisedText.of(prompt));
                kind = "same prompt after normalisation as ";
            }
            if (leak != null) {
                skipped += row(csv, reasons, f, "skipped", "leak: " + kind + leak.where(), prompt, answer, r.outputText());
                continue;
            }
            messages.addObject().put("role", "assistant").put("content", answer);
            StringBuilder key = new StringBuilder();
            for (JsonNode m : messages) key.append(m.path("role").asText()).append('\u0001').append(NormalisedText.of(m.path("content").asText())).append('\u0002');
            String dup = written.get(key.toString());
            if (dup != null) {
                skipped += row(csv, reasons, f, "skipped", "duplicate of request " + dup, prompt, answer, r.outputText());
                continue;
            }
            written.put(key.toString(), r.id());
            ObjectNode line = JSON.createObjectNode();
            line.set("messages", messages);
            jsonl.append(line).append('\n');
            lines++;
            row(csv, reasons, f, "written", f.correction() != null && !f.correction().isBlank() ? "correction" : "rating " + f.rating(),
                    prompt, answer, r.outputText(), lines);
        }
        AtomicFile.writeString(o.out(), jsonl.toString());
        AtomicFile.writeString(o.review(), csv.toString());
        return new Result(all.size(), lines, skipped, reasons);
    }

    /** The request's messages (a completion's prompt becomes one user message); null when it has neither. */
    static ArrayNode messages(String requestJson) {
        try {
            JsonNode n = JSON.readTree(requestJson);
            ArrayNode out = JSON.createArrayNode();
            if (n.path("messages").isArray()) {
                for (JsonNode m : n.get("messages")) {
                    JsonNode c = m.path("content");
                    String text = c.isTextual() ? c.asText() : PromptText.ofRequest("{\"messages\":[" + m + "]}");
                    if (text == null) continue;
                    out.addObject().put("role", m.path("role").asText()).put("content", text);
                }
                return out.isEmpty() ? null : out;
            }
            String p = PromptText.ofRequest(requestJson);
            if (p == null) return null;
            out.addObject().put("role", "user").put("content", p);
            return out;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static int row(StringBuilder csv, Map<String, Integer> reasons, RequestLog.Feedback f, String decision, String reason, String prompt,
                           String answer, String output) {
        return row(csv, reasons, f, decision, reason, prompt, answer, output, null);
    }

    private static int row(StringBuilder csv, Map<String, Integer> reasons, RequestLog.Feedback f, String decision, String reason, String prompt,
                           String answer, String output, Integer line) {
        csv.append(Csv.row(java.util.Arrays.asList(f.id(), f.requestId(), f.rating() == null ? "" : f.rating().toString(), decision, reason,
                line == null ? "" : line.toString(), prompt, answer, output)));
        String group = decision.equals("skipped") ? reason.replaceAll(" (as |of request ).*", "").replaceAll("\\(status.*", "").strip() : "written";
        reasons.merge(group, 1, Integer::sum);
        return 1;
    }
}
