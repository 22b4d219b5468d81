package org.jtune.train.prep;

import java.util.Arrays;

/**
 * Cuts a tokenized example to a window of at most {@code maxLen} tokens for excess_length_strategy:
 * truncate. The last trained run (the final assistant answer with its end-of-turn tokens) is kept whole
 * when it fits: the window ends where the answer ends and the oldest prompt tokens go first (as a chat
 * keeps its latest turns). When the answer alone is longer than the window, the window starts half a
 * window before the answer, so the answer is learned from its beginning with some of its prompt.
 */
public final class Truncation {
    private Truncation() {}

    public static TokenizedExample keepAnswer(TokenizedExample e, int maxLen) {
        if (maxLen < 1) throw new IllegalArgumentException("maxLen must be >= 1, got " + maxLen);
        int n = e.length();
        if (n <= maxLen) return e;
        boolean[] trained = e.trained();
        int end = n;
        while (end > 0 && !trained[end - 1]) end--;
        if (end == 0) return window(e, 0, maxLen); // nothing trained: keep the start
        int start = end;
        while (start > 0 && trained[start - 1]) start--;
        int from = end - start <= maxLen ? Math.max(0, end - maxLen) : Math.max(0, start - maxLen / 2);
        return window(e, from, Math.min(n, from + maxLen));
    }

    private static TokenizedExample window(TokenizedExample e, int from, int to) {
        return new TokenizedExample(Arrays.copyOfRange(e.ids(), from, to), Arrays.copyOfRange(e.trained(), from, to),
                e.source());
    }
}
