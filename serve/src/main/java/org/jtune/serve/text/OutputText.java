package org.jtune.serve.text;

import java.util.List;
import java.util.function.Function;

/**
 * Turns a stream of generated token ids into text deltas that are safe to send, and finds stop
 * strings. After each token the whole output is decoded again (a byte-level or SentencePiece token
 * can be part of a character, and a decoder may join tokens differently than one by one); text is
 * held back while it ends in an incomplete character (U+FFFD) or in what could be the beginning of
 * a stop string, so a stop string is never sent, not even in part. Runs on the request's thread,
 * never the engine's. Not thread-safe.
 */
public final class OutputText {
    private final Function<int[], String> decode;
    private final List<String> stops;
    private int[] ids = new int[16];
    private int count;
    private String full = "";
    private int sent;
    private boolean stopped;

    /**
     * @param decode ids → text (special tokens skipped)
     * @param stops  stop strings (the text ends before the first one found)
     */
    public OutputText(Function<int[], String> decode, List<String> stops) {
        this.decode = decode;
        this.stops = List.copyOf(stops);
    }

    /** Adds one generated id; returns the text that may now be sent (often "", never text after a stop string). */
    public String add(int id) {
        if (stopped) return "";
        if (count == ids.length) ids = java.util.Arrays.copyOf(ids, count * 2);
        ids[count++] = id;
        full = decode.apply(java.util.Arrays.copyOf(ids, count));
        int stopAt = firstStop(full);
        if (stopAt >= 0) {
            stopped = true;
            full = full.substring(0, Math.max(stopAt, Math.min(sent, full.length())));
            return take(full.length());
        }
        int safe = full.length() - heldBack(full);
        return take(safe);
    }

    /** At the end of generation: whatever was held back (nothing after a stop string). */
    public String finish() {
        return take(full.length());
    }

    /** Whether a stop string was found; the text ends before it. */
    public boolean stopped() {
        return stopped;
    }

    /** The text so far (after {@link #finish}, the whole answer). */
    public String text() {
        return full.substring(0, Math.min(sent, full.length()));
    }

    /** Ids added so far. */
    public int tokens() {
        return count;
    }

    private String take(int upTo) {
        if (upTo <= sent || upTo > full.length()) return "";
        String delta = full.substring(sent, upTo);
        sent = upTo;
        return delta;
    }

    private int firstStop(String text) {
        int best = -1;
        for (String s : stops) {
            int from = Math.max(0, sent - s.length());
            int at = text.indexOf(s, from);
            if (at >= 0 && (best < 0 || at < best)) best = at;
        }
        return best;
    }

    /** Characters at the end that must wait: an incomplete character, or a proper prefix of a stop string. */
    private int heldBack(String text) {
        int hold = 0;
        while (hold < text.length() && text.charAt(text.length() - 1 - hold) == '\uFFFD') hold++;
        if (hold > 0) return hold;
        // a dangling high surrogate cannot be sent alone
        if (!text.isEmpty() && Character.isHighSurrogate(text.charAt(text.length() - 1))) hold = 1;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, text.length()); k > hold; k--) {
                if (text.regionMatches(text.length() - k, s, 0, k)) {
                    hold = k;
                    break;
                }
            }
        }
        return hold;
    }
}
