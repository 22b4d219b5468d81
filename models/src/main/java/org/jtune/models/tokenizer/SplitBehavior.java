package org.jtune.models.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a splitting pre-tokenizer does with the stretches its pattern matches ("behavior" in tokenizer.json):
 * drop them (Removed), make them pieces of their own (Isolated), glue each to the piece before or after it
 * (MergedWithPrevious / MergedWithNext), or join consecutive matches (Contiguous). "invert" swaps the roles
 * of matches and the text between them. Empty pieces are dropped.
 */
enum SplitBehavior {
    REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

    static SplitBehavior parse(String name) {
        return switch (name) {
            case "Removed" -> REMOVED;
            case "Isolated" -> ISOLATED;
            case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> MERGED_WITH_NEXT;
            case "Contiguous" -> CONTIGUOUS;
            default -> null;
        };
    }

    /** The pieces of text as [start, end) pairs. */
    List<int[]> split(String text, Pattern pattern, boolean invert) {
        // Cover the text with alternating gaps and matches.
        List<int[]> spans = new ArrayList<>();
        List<Boolean> isMatch = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.end() == m.start()) continue;
            if (m.start() > last) {
                spans.add(new int[] {last, m.start()});
                isMatch.add(invert);
            }
            spans.add(new int[] {m.start(), m.end()});
            isMatch.add(!invert);
            last = m.end();
        }
        if (last < text.length()) {
            spans.add(new int[] {last, text.length()});
            isMatch.add(invert);
        }
        List<int[]> out = new ArrayList<>(spans.size());
        switch (this) {
            case ISOLATED -> out.addAll(spans);
            case REMOVED -> {
                for (int i = 0; i < spans.size(); i++) if (!isMatch.get(i)) out.add(spans.get(i));
            }
            case CONTIGUOUS -> {
                boolean previous = false;
                for (int i = 0; i < spans.size(); i++) {
                    if (isMatch.get(i) == previous && !out.isEmpty()) out.getLast()[1] = spans.get(i)[1];
                    else out.add(spans.get(i));
                    previous = isMatch.get(i);
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                boolean previous = false;
                for (int i = 0; i < spans.size(); i++) {
                    if (isMatch.get(i) && !previous && !out.isEmpty()) out.getLast()[1] = spans.get(i)[1];
                    else out.add(spans.get(i));
                    previous = isMatch.get(i);
                }
            }
            case MERGED_WITH_NEXT -> {
                boolean previous = false;
                for (int i = spans.size() - 1; i >= 0; i--) {
                    if (isMatch.get(i) && !previous && !out.isEmpty()) out.getLast()[0] = spans.get(i)[0];
                    else out.add(spans.get(i));
                    previous = isMatch.get(i);
                }
                java.util.Collections.reverse(out);
            }
        }
        out.removeIf(s -> s[0] == s[1]);
        return out;
    }
}
