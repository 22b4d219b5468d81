package org.jtune.train.data;

import org.jtune.models.chat.Message;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds redundant and contradictory examples within one file, and reports each as a warning at the
 * later line, naming the earlier one:
 * - exact duplicate: same roles and content as an earlier example;
 * - near duplicate: same after {@link NormalisedText} (case, whitespace, punctuation), not exact;
 * - conflict: same normalised input (everything before the final answer) but a different normalised
 *   answer; one warning per group, at its first line, listing the answers and their lines.
 * Examples without input (plain text) take part in duplicate detection only.
 */
public final class DuplicateScan {
    private static final int LINES_LISTED = 6;

    private DuplicateScan() {}

    public static DuplicateSummary scan(List<Conversation> examples, IssueLog log) {
        NormalisedText.Keys keys = new NormalisedText.Keys();
        Map<List<Message>, Conversation> exact = new HashMap<>();
        Map<List<String>, Conversation> near = new HashMap<>();
        long exactCount = 0;
        long nearCount = 0;
        for (Conversation c : examples) {
            Conversation first = exact.putIfAbsent(c.messages(), c);
            if (first != null) {
                exactCount++;
                log.add(Issue.at(IssueKind.EXACT_DUPLICATE, c.source(), "exact duplicate of line " + first.source().line()));
                continue;
            }
            Conversation similar = near.putIfAbsent(keys.of(c.messages()), c);
            if (similar != null) {
                nearCount++;
                log.add(Issue.at(IssueKind.NEAR_DUPLICATE, c.source(), "near duplicate of line " + similar.source().line()
                        + " (differs only in case, whitespace or punctuation)"));
            }
        }

        // conflicts: input key -> (normalised answer -> examples giving it), both in first-seen order
        Map<List<String>, Map<String, List<Conversation>>> byInput = new LinkedHashMap<>();
        for (Conversation c : examples) {
            List<Message> input = c.input();
            if (input.isEmpty() || c.finalAnswer().isEmpty()) continue;
            byInput.computeIfAbsent(keys.of(input), k -> new LinkedHashMap<>())
                    .computeIfAbsent(NormalisedText.of(c.finalAnswer().get()), k -> new ArrayList<>())
                    .add(c);
        }
        long groups = 0;
        long involved = 0;
        for (Map<String, List<Conversation>> answers : byInput.values()) {
            if (answers.size() < 2) continue;
            groups++;
            StringBuilder sb = new StringBuilder("same input, ").append(answers.size()).append(" different answers:");
            Conversation firstSeen = null;
            for (List<Conversation> same : answers.values()) {
                involved += same.size();
                Conversation head = same.getFirst();
                if (firstSeen == null || head.source().line() < firstSeen.source().line()) firstSeen = head;
                sb.append(' ').append(quote(head.finalAnswer().orElseThrow())).append(" (")
                        .append(lineList(same)).append(");");
            }
            sb.setLength(sb.length() - 1);
            log.add(Issue.at(IssueKind.CONFLICTING_ANSWERS, firstSeen.source(), sb.toString()));
        }
        return new DuplicateSummary(exactCount, nearCount, groups, involved);
    }

    static String lineList(List<Conversation> examples) {
        StringBuilder sb = new StringBuilder(examples.size() == 1 ? "line " : "lines ");
        for (int i = 0; i < Math.min(examples.size(), LINES_LISTED); i++) {
            if (i > 0) sb.append(", ");
            sb.append(examples.get(i).source().line());
        }
        if (examples.size() > LINES_LISTED) sb.append(", ... ").append(examples.size() - LINES_LISTED).append(" more");
        return sb.toString();
    }

    static String quote(String text) {
        String one = text.replaceAll("\\s+", " ").strip();
        return "\"" + (one.length() <= 60 ? one : one.substring(0, 57) + "...") + "\"";
    }
}
