package org.jtune.train.data;

import org.jtune.models.chat.Message;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds texts that are near duplicates of texts seen before: Jaccard similarity of their character
 * 5-gram sets (shingles) at or above a threshold, computed on {@link NormalisedText} keys, so that
 * it extends the exact and case/punctuation-only duplicates of {@link DuplicateScan} to small edits
 * ("my card hasn't arrived yet" and "my card has not arrived yet"). Candidates are found with
 * MinHash and locality-sensitive hashing (Broder 1997; Leskovec, Rajaraman, Ullman, "Mining of
 * Massive Datasets", ch. 3): 100 min-hashes in 20 bands of 5 rows, so a pair at similarity s shares
 * a band with probability 1-(1-s^5)^20 (0.9996 at s = 0.8, 0.98 at s = 0.6); every candidate is then
 * verified with the exact Jaccard of its shingle sets, so there are no false positives. A query
 * verifies at most {@value #MAX_VERIFIED} candidates. Hash functions are fixed (not seeded): the
 * same texts always give the same answer.
 */
public final class NearDuplicateIndex {
    /** Shingle length in characters: short enough for ten-word queries, long enough to keep word order. */
    public static final int SHINGLE = 5;
    /** Default Jaccard threshold of a near duplicate. */
    public static final double DEFAULT_THRESHOLD = 0.8;
    static final int BANDS = 20;
    static final int ROWS = 5;
    static final int MAX_VERIFIED = 256;
    private static final long[] SALTS = new long[BANDS * ROWS];

    static {
        long x = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < SALTS.length; i++) SALTS[i] = mix(x += 0x9E3779B97F4A7C15L);
    }

    private final double threshold;
    private final List<long[]> shingles = new ArrayList<>();
    private final Map<Long, List<Integer>> buckets = new HashMap<>();

    public NearDuplicateIndex(double threshold) {
        if (!(threshold > 0 && threshold <= 1)) throw new IllegalArgumentException("threshold must be in (0, 1], got " + threshold);
        this.threshold = threshold;
    }

    public double threshold() {
        return threshold;
    }

    /** Adds a normalised text and returns its id (0, 1, 2, ... in order of addition). */
    public int add(String normalised) {
        long[] s = shingles(normalised);
        int id = shingles.size();
        shingles.add(s);
        long[] sig = signature(s);
        for (int b = 0; b < BANDS; b++) buckets.computeIfAbsent(bandKey(sig, b), k -> new ArrayList<>(2)).add(id);
        return id;
    }

    /** Ids of indexed texts whose Jaccard similarity with {@code normalised} is at least the threshold, lowest first. */
    public List<Integer> matches(String normalised) {
        long[] s = shingles(normalised);
        long[] sig = signature(s);
        Set<Integer> candidates = new LinkedHashSet<>();
        for (int b = 0; b < BANDS && candidates.size() < MAX_VERIFIED; b++) {
            List<Integer> bucket = buckets.get(bandKey(sig, b));
            if (bucket == null) continue;
            for (int id : bucket) {
                if (candidates.size() >= MAX_VERIFIED) break;
                candidates.add(id);
            }
        }
        List<Integer> out = new ArrayList<>();
        for (int id : candidates) if (jaccard(s, shingles.get(id)) >= threshold) out.add(id);
        out.sort(null);
        return out;
    }

    /**
     * The text an example is compared by: the normalised contents of its input's user and assistant
     * turns (the system prompt is shared by most rows and says nothing about the example), or of all
     * its messages when it has no input (plain text).
     */
    public static String inputText(Conversation c) {
        List<Message> input = c.input().isEmpty() ? c.messages() : c.input();
        StringBuilder sb = new StringBuilder();
        for (Message m : input) {
            if (Role.of(m) == Role.SYSTEM && input.size() > 1) continue;
            if (!sb.isEmpty()) sb.append(" | ");
            sb.append(NormalisedText.of(m.content()));
        }
        return sb.toString();
    }

    /** Jaccard similarity of two sorted sets of distinct shingle hashes. */
    static double jaccard(long[] a, long[] b) {
        if (a.length == 0 && b.length == 0) return 1;
        int i = 0;
        int j = 0;
        int common = 0;
        while (i < a.length && j < b.length) {
            if (a[i] == b[j]) {
                common++;
                i++;
                j++;
            } else if (a[i] < b[j]) {
                i++;
            } else {
                j++;
            }
        }
        return (double) common / (a.length + b.length - common);
    }

    /** The sorted distinct hashes of the text's character 5-grams (the whole text when shorter). */
    static long[] shingles(String text) {
        if (text.length() <= SHINGLE) return text.isEmpty() ? new long[0] : new long[] {hash(text, 0, text.length())};
        long[] out = new long[text.length() - SHINGLE + 1];
        for (int i = 0; i < out.length; i++) out[i] = hash(text, i, i + SHINGLE);
        Arrays.sort(out);
        int n = 0;
        for (int i = 0; i < out.length; i++) if (n == 0 || out[n - 1] != out[i]) out[n++] = out[i];
        return Arrays.copyOf(out, n);
    }

    private static long[] signature(long[] shingles) {
        long[] sig = new long[SALTS.length];
        Arrays.fill(sig, Long.MAX_VALUE);
        for (long s : shingles) {
            for (int k = 0; k < SALTS.length; k++) {
                long h = mix(s ^ SALTS[k]);
                if (h < sig[k]) sig[k] = h;
            }
        }
        return sig;
    }

    private static long bandKey(long[] sig, int band) {
        long h = band * 0x632BE59BD9B4E019L;
        for (int r = 0; r < ROWS; r++) h = mix(h ^ sig[band * ROWS + r]);
        return h;
    }

    /** FNV-1a over the UTF-16 units, then the SplitMix64 finaliser. */
    private static long hash(String s, int from, int to) {
        long h = 0xCBF29CE484222325L;
        for (int i = from; i < to; i++) {
            h ^= s.charAt(i);
            h *= 0x100000001B3L;
        }
        return mix(h);
    }

    /** SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijective 64-bit mix. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
