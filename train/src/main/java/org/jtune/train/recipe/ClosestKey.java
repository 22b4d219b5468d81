package org.jtune.train.recipe;

import java.util.Collection;

/**
 * The known key nearest to a misspelt one by Levenshtein edit distance, for "did you mean" hints.
 * Only suggests when the distance is small relative to the key (at most a third of its length,
 * and at least 2 edits allowed), so nonsense gets no misleading hint.
 */
public final class ClosestKey {
    private ClosestKey() {}

    /** The closest of {@code known} to {@code key}, or null when nothing is close. */
    public static String suggest(String key, Collection<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(key, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return best != null && bestDistance <= Math.max(2, key.length() / 3) ? best : null;
    }

    /** " (did you mean 'x'?)" or "". */
    static String hint(String key, Collection<String> known) {
        String s = suggest(key, known);
        return s == null ? "" : " (did you mean '" + s + "'?)";
    }

    /** Levenshtein distance: insertions, deletions and substitutions each cost 1. */
    public static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
