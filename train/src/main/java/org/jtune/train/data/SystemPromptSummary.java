package org.jtune.train.data;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How consistently a file uses system prompts: how many distinct ones (exact text), how many examples
 * have none, and how many use the most common one. {@link #of} warns when some examples have a system
 * prompt and others do not, and when a dominant prompt (used by at least half of the examples that
 * have one) has variants, which is usually an editing slip.
 */
public record SystemPromptSummary(int distinct, long withoutSystemPrompt, long mostCommonCount) {

    public static SystemPromptSummary of(List<Conversation> examples, IssueLog log) {
        Map<String, List<Conversation>> byPrompt = new HashMap<>();
        List<Conversation> without = new ArrayList<>();
        for (Conversation c : examples) {
            if (c.isCompletion()) continue;
            c.systemPrompt().ifPresentOrElse(p -> byPrompt.computeIfAbsent(p, k -> new ArrayList<>()).add(c),
                    () -> without.add(c));
        }
        long with = examples.stream().filter(c -> !c.isCompletion()).count() - without.size();
        String dominant = null;
        long dominantCount = 0;
        for (Map.Entry<String, List<Conversation>> e : byPrompt.entrySet()) {
            int n = e.getValue().size();
            if (n > dominantCount || (n == dominantCount && e.getKey().compareTo(dominant) < 0)) {
                dominant = e.getKey();
                dominantCount = n;
            }
        }
        if (with > 0 && !without.isEmpty()) {
            Conversation first = without.getFirst();
            log.add(Issue.at(IssueKind.MIXED_SYSTEM_PROMPT, first.source(), without.size() + " of " + (with + without.size())
                    + " examples have no system prompt while the others have one (first: " + DuplicateScan.lineList(without) + ")"));
        }
        if (byPrompt.size() > 1 && 2 * dominantCount >= with) {
            List<Conversation> variants = new ArrayList<>();
            for (Map.Entry<String, List<Conversation>> e : byPrompt.entrySet()) {
                if (!e.getKey().equals(dominant)) variants.addAll(e.getValue());
            }
            variants.sort((a, b) -> a.source().compareTo(b.source()));
            log.add(Issue.at(IssueKind.SYSTEM_PROMPT_VARIANTS, variants.getFirst().source(), variants.size()
                    + " examples use a system prompt that differs from the most common one (used by " + dominantCount
                    + "): " + DuplicateScan.lineList(variants)));
        }
        return new SystemPromptSummary(byPrompt.size(), without.size(), dominantCount);
    }
}
